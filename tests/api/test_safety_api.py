"""Safety of the HTTP API (issue 12, items 6, 9 and 11): keys and rate limits, bounded error
bodies, and an OpenAPI document that says what the server accepts (item 7, connection
deadlines, is in ``test_safety_connections.py``).

Fast: the app serves the committed fixture policy (no training, no MLflow store).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import logging.config
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.openapi.utils import get_openapi
from fastapi.testclient import TestClient
from pydantic import ValidationError

from engage.contract.spec import CampaignSpec
from engage.policy.artifact import load_policy
from engage.serving import server
from engage.serving.access import ApiKeyring, open_access_warning
from engage.serving.app import create_app
from engage.serving.contract import SpecContract
from engage.serving.model import LoadedModel
from engage.serving.openapi import document_contract
from engage.serving.settings import ServeSettings, get_settings

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "policy"
PROFILE = json.loads((REPO / "examples" / "recommendation_request.json").read_text())["profile"]
URL = "/v1/recommendations"
KEY_A = "key-a-0123456789abcdef"
KEY_B = "key-b-fedcba9876543210-longer"


@contextlib.contextmanager
def serving_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Capture the ``serving`` logger's warnings even if a logging set-up stopped propagation."""
    logger = logging.getLogger("serving")
    propagate, logger.propagate = logger.propagate, True
    try:
        with caplog.at_level(logging.WARNING, logger="serving"):
            yield
    finally:
        logger.propagate = propagate


@pytest.fixture(scope="module")
def fixture_model() -> LoadedModel:
    return LoadedModel.from_policy(load_policy(FIXTURE), "tests/fixtures/policy")


def settings(tmp_path: Path, **overrides: Any) -> ServeSettings:
    """Settings whose own model never loads (no store): tests install the fixture model."""
    values: dict[str, Any] = {
        "model_uri": "models:/no-such-policy@champion",
        "tracking_uri": f"sqlite:///{tmp_path / 'no-store' / 'mlflow.db'}",
        "reload_interval_s": 0,
    }
    return ServeSettings(**{**values, **overrides})


@pytest.fixture
def serve(tmp_path: Path, fixture_model: LoadedModel):
    """``serve(**settings) -> TestClient`` on the fixture model; closed at teardown."""
    clients: list[TestClient] = []

    def start(model: LoadedModel = fixture_model, **overrides: Any) -> TestClient:
        client = TestClient(create_app(settings(tmp_path, **overrides)))
        client.__enter__()
        clients.append(client)
        client.app.state.models.install(model)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


# ------------------------------------------------------------------ (6) keys and rate limits


def test_keys_are_required_when_configured_and_health_stays_open(serve):
    client = serve(api_keys=f"{KEY_A},{KEY_B}")
    r = client.post(URL, json={"profile": PROFILE})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    assert (
        client.post(URL, json={"profile": PROFILE}, headers={"X-API-Key": "x" * 20}).status_code
        == 401
    )
    assert (
        client.post(
            URL, json={"profile": PROFILE}, headers={"Authorization": f"Bearer {KEY_A}"}
        ).status_code
        == 200
    )
    assert (
        client.post(URL, json={"profile": PROFILE}, headers={"X-API-Key": KEY_B}).status_code == 200
    )
    batch = client.post(f"{URL}/batch", json={"profiles": [PROFILE]})
    assert batch.status_code == 401
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_keys_file_rotates_without_restart(serve, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text(f"# rotated monthly\n{KEY_A}\n")
    client = serve(api_keys_file=keys)

    def status(key: str) -> int:
        return client.post(URL, json={"profile": PROFILE}, headers={"X-API-Key": key}).status_code

    assert (status(KEY_A), status(KEY_B)) == (200, 401)
    replacement = tmp_path / "keys.new"
    replacement.write_text(f"{KEY_B}\n")
    os.replace(replacement, keys)  # how a rotation is done: a new file renamed over the old
    assert (status(KEY_A), status(KEY_B)) == (401, 200)


def test_a_missing_keys_file_keeps_the_keys_last_read(tmp_path, caplog):
    keys = tmp_path / "keys"
    keys.write_text(f"{KEY_A}\nshort\n")
    with serving_log(caplog):
        ring = ApiKeyring([KEY_B], keys)
        assert "shorter than 16 characters ignored" in caplog.text
        assert ring.identify(KEY_A) and ring.identify(KEY_B) and not ring.identify("short")
        keys.unlink()  # mid-rotation
        assert ring.identify(KEY_A) is not None
        assert "keeping the keys last read" in caplog.text
    assert ring.identify(KEY_A) != ring.identify(KEY_B)  # ids tell keys apart, never show them
    assert KEY_A not in str(ring.identify(KEY_A))


def test_rate_limit_is_per_key_with_retry_after(serve):
    client = serve(api_keys=f"{KEY_A},{KEY_B}", rate_limit="2/minute")
    a, b = {"X-API-Key": KEY_A}, {"X-API-Key": KEY_B}
    assert client.post(URL, json={"profile": PROFILE}, headers=a).status_code == 200
    assert client.post(f"{URL}/batch", json={"profiles": [PROFILE]}, headers=a).status_code == 200
    r = client.post(URL, json={"profile": PROFILE}, headers=a)
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert client.post(URL, json={"profile": PROFILE}, headers=b).status_code == 200


def test_without_keys_the_routes_are_open_and_off_loopback_a_warning_says_so(
    serve, monkeypatch, caplog
):
    assert serve().post(URL, json={"profile": PROFILE}).status_code == 200
    assert open_access_warning("127.0.0.1", keys_configured=False) is None
    assert open_access_warning("::1", keys_configured=False) is None
    assert open_access_warning("0.0.0.0", keys_configured=True) is None
    for key in [k for k in os.environ if k.startswith("ENGAGE_SERVE_")]:
        monkeypatch.delenv(key)
    get_settings.cache_clear()
    ran: list[dict[str, Any]] = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **options: ran.append(options))
    monkeypatch.setattr(logging.config, "dictConfig", lambda config: None)  # keep caplog's
    try:
        with serving_log(caplog):
            server.run(host="0.0.0.0", model_uri="models:/no-such-policy@champion")
    finally:
        get_settings.cache_clear()
    warnings = [r.getMessage() for r in caplog.records if "API keys" in r.getMessage()]
    assert len(warnings) == 1 and "ENGAGE_SERVE_API_KEYS" in warnings[0], warnings
    assert "0.0.0.0" in warnings[0]
    assert ran and ran[0]["host"] == "0.0.0.0"


@pytest.mark.parametrize("field", ["admin_token", "api_keys"])
def test_short_secrets_are_refused_at_start_up_without_being_echoed(tmp_path, field):
    with pytest.raises(ValidationError) as info:
        settings(tmp_path, **{field: "sh0rt-s3cret"})
    assert "16 characters" in str(info.value)
    assert "sh0rt-s3cret" not in str(info.value)


# ------------------------------------------------------------------ (9) bounded error bodies


def big_category_model(model: LoadedModel, values: int) -> LoadedModel:
    """The fixture model with ``industry`` declaring ``values`` categories."""
    spec = model.policy.spec.model_dump()
    for column in spec["context"]:
        if column["name"] == "industry":
            column["values"] = [f"industry_{i:05d}" for i in range(values)]
    return dataclasses.replace(
        model, contract=SpecContract.from_spec(CampaignSpec.model_validate(spec))
    )


def test_error_bodies_stay_small_whatever_the_spec_and_the_batch(serve, fixture_model):
    client = serve(model=big_category_model(fixture_model, 50_000))
    profiles = [{**PROFILE, "industry": "aerospace", "goal": 1, "employees": "12"}] * 100
    r = client.post(f"{URL}/batch", json={"profiles": profiles})
    assert r.status_code == 422
    assert len(r.content) < 30_000, len(r.content)
    error = r.json()["error"]
    assert len(error["details"]) == 51
    assert error["details"][-1] == {"field": None, "message": "250 more problems"}
    industry = next(d for d in error["details"] if d["field"] == "profiles[0].industry")
    assert "'industry_00004' or one of 49,995 more" in industry["message"]
    assert all(len(d["message"]) <= 300 for d in error["details"])
    assert len(error["message"]) <= 300


# ------------------------------------------------------------------ (11) OpenAPI and server agree


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"profile": {"industry": "\xff\xfe"}}', "not UTF-8"),
        (b'{"profile": {}, "top_k": ' + b"9" * 5_000 + b"}", "too many digits"),
        (b'{"profile": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    ],
)
def test_unreadable_bodies_get_the_documented_422(serve, body, reason):
    r = serve().post(URL, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_json"
    assert reason in r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [({"explain": 0}, "explain"), ({"top_k": "3"}, "top_k"), ({"top_k": True}, "top_k")],
)
def test_request_types_are_strict(serve, change, field):
    r = serve().post(URL, json={"profile": PROFILE, **change})
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == [field]


def test_integral_top_k_and_an_all_zero_objective_get_what_the_document_says(serve):
    client = serve()
    assert client.post(URL, json={"profile": PROFILE, "top_k": 2.0}).status_code == 200
    zero = {"conversions": 0, "engagement_rate": 0}  # found by fuzzing: it was a 500
    r = client.post(f"{URL}/batch", json={"profiles": [PROFILE], "objective": zero})
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == ["objective"]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", None, "application/json; charset=latin-1"],
)
def test_a_body_that_is_not_json_gets_415(serve, content_type):
    headers = {"content-type": content_type} if content_type else {}
    client = serve()
    for path in (URL, f"{URL}/batch"):
        r = client.post(path, content=json.dumps({"profile": PROFILE}).encode(), headers=headers)
        assert r.status_code == 415, r.text
        assert r.json()["error"]["code"] == "unsupported_media_type"


def test_openapi_lists_every_status_and_the_served_keys(serve, fixture_model):
    app = serve().app
    schema = get_openapi(title="t", version="1", routes=app.routes)
    document_contract(schema, fixture_model.contract)
    for path in (URL, f"{URL}/batch"):
        responses = schema["paths"][path]["post"]["responses"]
        assert {"200", "401", "408", "413", "415", "422", "429", "503"} <= set(responses)
        assert "Retry-After" in responses["429"]["headers"]
    components = schema["components"]["schemas"]
    spec = fixture_model.policy.spec
    assert set(components["Objective"]["properties"]) == {o.name for o in spec.outcomes}
    assert components["Objective"]["additionalProperties"] is False
    keys = {c.key for c in fixture_model.contract.constraint_keys}
    assert set(components["ConstraintSet"]["properties"]) == keys
    request = components["RecommendationRequest"]["properties"]
    assert {"$ref": "#/components/schemas/Objective"} in request["objective"]["anyOf"]
    assert {"$ref": "#/components/schemas/ConstraintSet"} in request["constraints"]["anyOf"]
    assert request["profile"]["$ref"] == "#/components/schemas/Profile"
    assert set(components["Profile"]["required"]) == set(PROFILE)


def test_categories_declared_as_numbers_or_booleans_are_accepted_as_json_types(fixture_model):
    spec = fixture_model.policy.spec.model_dump()
    spec["context"] += [
        {"name": "flag", "type": "categorical", "values": [True, False]},
        {"name": "tier", "type": "categorical", "values": [1, 2, 3]},
    ]
    contract = SpecContract.from_spec(CampaignSpec.model_validate(spec))
    row = dict(
        zip(
            contract.spec.context_names,
            contract.profile_row({**PROFILE, "flag": True, "tier": 2}),
            strict=True,
        )
    )
    assert (row["flag"], row["tier"]) == ("True", "2")
    row = dict(
        zip(
            contract.spec.context_names,
            contract.profile_row({**PROFILE, "flag": "False", "tier": "3"}),
            strict=True,
        )
    )
    assert (row["flag"], row["tier"]) == ("False", "3")
    for bad in (
        {"flag": 1, "tier": 2},
        {"flag": True, "tier": 4},
        {"flag": True, "tier": True},
        {"flag": "yes", "tier": 2},
    ):
        with pytest.raises(ValidationError):
            contract.profile_row({**PROFILE, **bad})
    documented = contract.profile_model.model_json_schema()["properties"]
    assert documented["flag"]["enum"] == ["True", True, "False", False]
    assert documented["tier"]["enum"] == ["1", 1, "2", 2, "3", 3]


# ------------------------------------------------------------------ issue 31, item 6: access


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (URL, b'{"profile": '),  # not JSON
        (f"{URL}/batch", b'{"profiles": []}'),  # JSON the schema refuses
        ("/v1/outcomes", b'{"decision_id": 1}'),
    ],
)
def test_a_caller_without_a_key_gets_401_before_its_body_is_judged(serve, path, body):
    client = serve(api_keys=KEY_A)
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized"
    keyed = client.post(
        path, content=body, headers={"content-type": "application/json", "X-API-Key": KEY_A}
    )
    assert keyed.status_code == 422, keyed.text


def test_failed_key_checks_are_throttled_per_address_with_retry_after(serve, tmp_path):
    client = serve(api_keys=KEY_A, auth_failure_limit="3/minute")
    wrong = {"X-API-Key": "w" * 20}
    statuses = [client.post(URL, json={"profile": PROFILE}, headers=wrong).status_code]
    statuses += [client.get("/v1/schema").status_code for _ in range(2)]  # no key: a failure too
    assert statuses == [401, 401, 401]
    r = client.post(URL, json={"profile": PROFILE}, headers=wrong)
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "too_many_requests"
    assert "ENGAGE_SERVE_AUTH_FAILURE_LIMIT" in r.json()["error"]["message"]
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # the address is held back whatever key it sends next, so a guess cannot be confirmed
    good = client.post(URL, json={"profile": PROFILE}, headers={"X-API-Key": KEY_A})
    assert good.status_code == 429
    # another address is not
    other = TestClient(client.app, client=("192.0.2.7", 40000))
    assert (
        other.post(URL, json={"profile": PROFILE}, headers={"X-API-Key": KEY_A}).status_code == 200
    )


def test_good_keys_do_not_count_as_failures(serve):
    client = serve(api_keys=KEY_A, auth_failure_limit="2/minute")
    for _ in range(5):
        r = client.post(URL, json={"profile": PROFILE}, headers={"X-API-Key": KEY_A})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc", "/metrics"])
def test_documents_and_metrics_need_a_key_when_keys_are_on(serve, path):
    assert serve().get(path).status_code == 200  # no keys: open, as before
    client = serve(api_keys=KEY_A)
    r = client.get(path)
    assert r.status_code == 401, r.text
    assert client.get(path, headers={"Authorization": f"Bearer {KEY_A}"}).status_code == 200
    public = serve(api_keys=KEY_A, public_docs=True, public_metrics=True)
    assert public.get(path).status_code == 200


def test_public_documents_and_metrics_are_separate_settings(serve):
    client = serve(api_keys=KEY_A, public_metrics=True)
    assert client.get("/metrics").status_code == 200
    assert client.get("/openapi.json").status_code == 401
    client = serve(api_keys=KEY_A, public_docs=True)
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/metrics").status_code == 401
    assert ServeSettings(public_docs="").public_docs is None  # empty variable: unset


# ------------------------------------------------------------------ issue 31, item 6: requests


def test_a_keys_file_saved_with_a_byte_order_mark_keeps_its_first_key(tmp_path):
    keys = tmp_path / "keys"
    keys.write_bytes(f"{KEY_A}\r\n{KEY_B}\r\n".encode("utf-8-sig"))  # as Notepad saves it
    ring = ApiKeyring([], keys)
    assert ring.identify(KEY_A) is not None
    assert ring.identify(KEY_B) is not None


@pytest.mark.parametrize(
    "observed_at",
    ["0001-01-01T00:00:00+05:00", "0001-01-01T00:00:00Z", "1700000000", 1700000000, "2026-12-28"],
)
def test_observed_at_outside_the_documented_form_is_a_422_naming_it(serve, observed_at):
    body = {"decision_id": "d-1", "outcomes": {"conversions": 1.0}, "observed_at": observed_at}
    r = serve().post("/v1/outcomes", json=body)
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == ["observed_at"]
    assert "1970 to 2999" in r.json()["error"]["details"][0]["message"]


def test_an_empty_objective_is_refused_as_the_document_says(serve):
    client = serve()
    for path, body in ((URL, {"profile": PROFILE}), (f"{URL}/batch", {"profiles": [PROFILE]})):
        r = client.post(path, json={**body, "objective": {}})
        assert r.status_code == 422, r.text
        assert [d["field"] for d in r.json()["error"]["details"]] == ["objective"]
        assert client.post(path, json={**body, "objective": None}).status_code == 200


def test_a_null_reload_body_is_refused(serve):
    token = "admin-0123456789abcdef"
    client = serve(admin_token=token)
    headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
    r = client.post("/v1/admin/reload", content=b"null", headers=headers)
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == ["body"]


def test_openapi_enumerates_the_served_outcomes_for_posting_them(serve, fixture_model):
    schema = serve().get("/openapi.json").json()
    outcomes = schema["components"]["schemas"]["OutcomesRequest"]["properties"]["outcomes"]
    spec = fixture_model.policy.spec
    assert set(outcomes["properties"]) == {o.name for o in spec.outcomes}
    assert outcomes["additionalProperties"] is False
    assert outcomes["minProperties"] == 1
    batch = schema["components"]["schemas"]["BatchRecommendationRequest"]["properties"]
    assert batch["profiles"]["maxItems"] == 100  # ENGAGE_SERVE_MAX_BATCH; more get 413
    observed = schema["components"]["schemas"]["OutcomesRequest"]["properties"]["observed_at"]
    assert any("pattern" in branch for branch in observed["anyOf"])
