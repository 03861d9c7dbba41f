"""Model, schema, health, metrics, limits, errors and the admin token of the API, serving the
committed fixture policy (reloads from the registry: ``test_reloads.py``, slow)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engage.serving.app import create_app
from tests.fixture_app import ADMIN_TOKEN, fixture_settings, serving

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((REPO / "examples" / "recommendation_request.json").read_text())
URL = "/v1/recommendations"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def client(fixture_model, tmp_path_factory) -> Iterator[TestClient]:
    with serving(fixture_model, tmp_path_factory.mktemp("serve"), admin_token=ADMIN_TOKEN) as c:
        yield c


@pytest.fixture(scope="module")
def no_model(tmp_path_factory) -> Iterator[TestClient]:
    """An app whose model URI does not resolve (and with no admin token configured)."""
    with serving(None, tmp_path_factory.mktemp("no-model")) as c:
        yield c


def sample(client: TestClient, metric: str, **labels: str) -> float:
    return client.app.state.metrics.registry.get_sample_value(metric, labels or None) or 0.0


# ---------------------------------------------------------------------- model and schema


def test_schema_lists_fields_decisions_outcomes_and_constraint_keys(client):
    r = client.get("/v1/schema")
    assert r.status_code == 200
    body = r.json()
    fields = {f["name"]: f for f in body["profile"]}
    assert set(fields) == set(EXAMPLE["profile"])
    assert fields["industry"]["type"] == "categorical"
    assert "niche_consumer" in fields["industry"]["values"]
    assert fields["innovation"] == {
        "name": "innovation",
        "type": "numeric",
        "min": 0.0,
        "max": 1.0,
        "values": None,
        "description": "Product innovation (0-1)",
        "required": True,
    }
    kinds = {d["name"]: d["kind"] for d in body["decisions"]}
    assert kinds["style"] == "style"
    assert kinds["promotional"] == "mix_share"
    assert kinds["posts_per_week"] == "numeric"
    weights = {o["name"]: o["default_weight"] for o in body["outcomes"]}
    assert weights == {
        "conversions": 1.0,
        "engagement_rate": 0.5,
        "follower_growth": 0.3,
        "retention_30d": 0.05,
    }
    keys = {c["key"] for c in body["constraints"]}
    assert {"styles", "max_posts_per_week", "min_posts_per_week", "max_share_promotional"} <= keys
    assert body["limits"]["max_batch"] == 100


# ---------------------------------------------------------------------- health and metrics


def test_health_and_readiness(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "model_version": None}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ready"


def test_metrics_count_requests_and_show_the_model(client):
    labels = {"route": URL, "method": "POST", "status": "200"}
    before = sample(client, "engage_http_requests_total", **labels)
    hist_before = sample(client, "engage_http_request_duration_seconds_count", route=URL)
    assert client.post(URL, json=EXAMPLE).status_code == 200
    assert client.post(URL, json={"profile": {}}).status_code == 422
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert (
        'engage_http_requests_total{method="POST",route="/v1/recommendations",status="200"}' in text
    )
    assert (
        'engage_http_requests_total{method="POST",route="/v1/recommendations",status="422"}' in text
    )
    assert sample(client, "engage_http_requests_total", **labels) == before + 1
    assert (
        sample(client, "engage_http_request_duration_seconds_count", route=URL) == hist_before + 2
    )
    model = client.app.state.models.current
    assert (
        sample(
            client,
            "engage_model_info",
            name=model.name or "",
            version=model.version or "",
            run_id=model.run_id or "",
            mode=model.policy.mode,
        )
        == 1
    )
    assert "engage_model_reload_failures_total" in text
    assert sample(client, "engage_internal_errors_total") == 0


def test_each_app_has_its_own_registry(client, tmp_path):
    other = create_app(fixture_settings(tmp_path))
    assert other.state.metrics.registry is not client.app.state.metrics.registry


# ---------------------------------------------------------------------- limits and error shape


def test_body_over_the_limit_is_413_before_parsing(client):
    big = b'{"profile": {"pad": "' + b"x" * (1_100_000) + b'"}}'
    r = client.post(URL, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"
    assert "1,048,576" in r.json()["error"]["message"]


def test_chunked_body_over_the_limit_is_413(client):
    def chunks():
        yield b'{"profile": {"pad": "'
        for _ in range(20):
            yield b"x" * 65_536
        yield b'"}}'

    r = client.post(URL, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"


def test_unknown_route_and_wrong_method_use_the_error_shape(client):
    r = client.get("/v2/nothing")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "Not Found", "details": []}}
    r = client.get(URL)
    assert r.status_code == 405
    assert r.json()["error"]["code"] == "method_not_allowed"


def test_unexpected_failure_is_a_bare_500_in_the_error_shape(client, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(client.app.state.models.current.policy, "recommend_context", boom)
    quiet = TestClient(client.app, raise_server_exceptions=False)
    before = sample(client, "engage_internal_errors_total")
    r = quiet.post(URL, json=EXAMPLE)
    assert r.status_code == 500
    assert r.json() == {
        "error": {
            "code": "internal_error",
            "message": "internal error; it has been logged",
            "details": [],
        }
    }
    assert "secret" not in r.text
    assert sample(client, "engage_internal_errors_total") == before + 1


# ---------------------------------------------------------------------- not ready


def test_without_a_model_the_app_starts_and_says_how_to_train(no_model):
    assert no_model.get("/healthz").status_code == 200
    r = no_model.get("/readyz")
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "model_not_ready"
    for method, path, body in [
        ("POST", URL, EXAMPLE),
        ("POST", f"{URL}/batch", {"profiles": [EXAMPLE["profile"]]}),
        ("GET", "/v1/model", None),
        ("GET", "/v1/schema", None),
    ]:
        r = no_model.request(method, path, json=body)
        assert r.status_code == 503, path
        message = r.json()["error"]["message"]
        assert "make run" in message
        assert "engage train --data" in message
        assert "no MLflow store" in message  # why it is not ready
    assert sample(no_model, "engage_model_loaded") == 0


def test_reload_is_forbidden_when_no_admin_token_is_configured(no_model):
    r = no_model.post("/v1/admin/reload", headers=ADMIN)
    assert r.status_code == 403
    assert "ENGAGE_SERVE_ADMIN_TOKEN" in r.json()["error"]["message"]


# ---------------------------------------------------------------------- reloads


def test_reload_needs_the_admin_token(client):
    r = client.post("/v1/admin/reload")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    r = client.post("/v1/admin/reload", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"


def test_responses_carry_the_time_spent_in_the_app(client):
    r = client.post(URL, json=EXAMPLE)
    assert r.status_code == 200
    timing = r.headers["server-timing"]
    assert timing.startswith("app;dur=")
    assert float(timing.removeprefix("app;dur=")) > 0
