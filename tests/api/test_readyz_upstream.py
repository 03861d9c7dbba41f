"""Issue #31 item 2: an upstream error body never reaches an unauthenticated answer.

A tracking server whose 500 page echoes the request's headers (``Authorization: Basic ...``)
and the password (with a quote and an ``@``): ``/readyz`` says the model store failed in fixed
words, the log has the detail, redacted.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from urllib.parse import quote

import mlflow
import pytest
from fastapi.testclient import TestClient

from engage.contract.redaction import forget_remembered
from engage.serving.app import create_app
from engage.serving.settings import ServeSettings
from tests.servers import echo_headers_server

PASSWORD = "it's@a\"s3cret pw"
USER = "engage"


@pytest.fixture
def echo_server() -> Iterator[int]:
    with echo_headers_server() as port:
        yield port


@pytest.fixture
def restore_tracking(monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    before = mlflow.get_tracking_uri()
    forget_remembered()
    yield
    mlflow.set_tracking_uri(before)
    forget_remembered()


def test_a_500_page_echoing_headers_reaches_only_the_log_redacted(
    echo_server, restore_tracking, monkeypatch, caplog
):
    caplog.set_level(logging.INFO)
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    uri = f"http://{USER}:{quote(PASSWORD, safe='')}@127.0.0.1:{echo_server}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    settings = ServeSettings(
        model_uri="models:/echo-policy@champion",
        tracking_uri=uri,
        reload_interval_s=0,
        startup_wait_s=30,
    )
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        model = client.get("/v1/model")
    assert ready.status_code == 503
    assert model.status_code == 503
    message = ready.json()["error"]["message"]
    assert (
        "cannot resolve models:/echo-policy@champion" in message
        or "cannot load models:/echo-policy@champion" in message
    )
    assert "the model store failed (the server log has the detail)" in message
    for r in (ready, model):
        for leak in (
            PASSWORD,
            quote(PASSWORD, safe=""),
            basic,
            "Authorization",
            "Internal Server Error",
            "500",
        ):
            assert leak not in r.text, (leak, r.text)
    assert "Internal Server Error" in caplog.text or "500" in caplog.text  # the detail is logged
    for leak in (PASSWORD, quote(PASSWORD, safe=""), basic):
        assert leak not in caplog.text
