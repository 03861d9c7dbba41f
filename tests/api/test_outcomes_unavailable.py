"""Issue #31 item 2: a decision-store failure in POST /v1/outcomes is a 503 in fixed words;
the driver's text (which may hold the URL, a password or echoed headers) goes to the log only,
redacted."""

from __future__ import annotations

import logging

from tests.integration.test_decisions_api import decide, fixture_model, serve  # noqa: F401 - fixtures


def test_a_store_failure_is_a_503_in_fixed_words_and_logged_redacted(serve, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    client = serve()
    did = decide(client)
    writer = client.app.state.decisions
    assert writer.flush(10)

    def broken(*args, **kwargs):
        raise RuntimeError(
            "(psycopg.OperationalError) server closed the connection; "
            "url=postgresql://engage:it's@secret@db/x; Authorization: Basic ZW5nYWdlOnB3"
        )

    writer.store.merge_outcomes = broken
    r = client.post("/v1/outcomes", json={"decision_id": did, "outcomes": {"conversions": 1.0}})
    assert r.status_code == 503
    assert r.json()["error"]["message"] == (
        "the decision store is unavailable: the database failed (the server log has the detail)"
    )
    for leak in ("psycopg", "it's@secret", "ZW5nYWdlOnB3", "Authorization"):
        assert leak not in r.text
    assert "server closed the connection" in caplog.text  # the detail is logged...
    assert "it's@secret" not in caplog.text and "ZW5nYWdlOnB3" not in caplog.text  # ...redacted
