"""Reloads and the registry's identity of the served model: a trained model in the session's
MLflow store (trained once, ~15 s), so the slow lane. The rest of the operations routes are
tested on the committed fixture policy in ``test_operations.py``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from engage.serving.app import create_app
from engage.serving.settings import ServeSettings
from tests.fixture_app import ADMIN_TOKEN

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((REPO / "examples" / "recommendation_request.json").read_text())
URL = "/v1/recommendations"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def client(champion_uri: str) -> Iterator[TestClient]:
    app = create_app(
        ServeSettings(model_uri=champion_uri, reload_interval_s=0, admin_token=ADMIN_TOKEN)
    )
    with TestClient(app) as c:
        yield c


def sample(client: TestClient, metric: str, **labels: str) -> float:
    return client.app.state.metrics.registry.get_sample_value(metric, labels or None) or 0.0


def test_model_reports_identity_mode_and_training_metrics(client, trained):
    r = client.get("/v1/model")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "test-policy"
    assert body["version"] == trained.version
    assert body["run_id"] == trained.run_id
    assert body["uri"] == "models:/test-policy@champion"
    assert body["loaded_at"]
    assert body["spec_name"] == "simulated_world"
    assert body["policy"]["mode"] == trained.mode
    assert any(k.startswith("ope.") for k in body["metrics"])
    assert any(k.startswith("regret.") for k in body["metrics"])  # simulated logs know the truth
    assert body["last_reload"]["ok"] is True
    assert body["last_reload"]["trigger"] in {"startup", "admin"}


def test_failed_reload_keeps_the_old_model_serving(client):
    serving = client.app.state.models.current
    failures = sample(client, "engage_model_reload_failures_total")
    r = client.post(
        "/v1/admin/reload", headers=ADMIN, json={"model_uri": "models:/test-policy@no-such-alias"}
    )
    assert r.status_code == 502
    error = r.json()["error"]
    assert error["code"] == "reload_failed"
    assert f"version {serving.version}" in error["message"]
    assert "no-such-alias" in error["details"][0]["message"]
    assert client.app.state.models.current is serving
    assert client.post(URL, json=EXAMPLE).status_code == 200
    info = client.get("/v1/model").json()
    assert info["version"] == serving.version
    assert info["last_reload"]["ok"] is False
    assert info["last_reload"]["trigger"] == "admin"
    assert "no-such-alias" in info["last_reload"]["error"]
    assert sample(client, "engage_model_reload_failures_total") == failures + 1


def test_reload_swaps_in_a_new_model_object(client):
    before = client.app.state.models.current
    r = client.post("/v1/admin/reload", headers=ADMIN)
    assert r.status_code == 200, r.text
    assert r.json()["reloaded"] is True
    assert r.json()["last_reload"]["ok"] is True
    assert client.app.state.models.current is not before
    assert client.app.state.models.current.version == before.version


def test_alias_poll_picks_up_a_new_version(trained):
    """Moving the alias is enough: the poller loads the new version and keeps serving meanwhile."""
    name = "serving-poll-test"
    registry = MlflowClient()
    first = mlflow.register_model(trained.model_uri, name)
    registry.set_registered_model_alias(name, "champion", first.version)
    app = create_app(ServeSettings(model_uri=f"models:/{name}@champion", reload_interval_s=0.2))
    with TestClient(app) as c:
        assert c.get("/v1/model").json()["version"] == str(first.version)
        second = mlflow.register_model(trained.model_uri, name)
        registry.set_registered_model_alias(name, "champion", second.version)
        deadline = time.monotonic() + 30
        while c.get("/v1/model").json()["version"] != str(second.version):
            assert time.monotonic() < deadline, "the poller did not pick up the new version"
            assert c.post(URL, json=EXAMPLE).status_code == 200
            time.sleep(0.1)
        info = c.get("/v1/model").json()
        assert info["last_reload"]["trigger"] == "poll"
        assert info["last_reload"]["ok"] is True
