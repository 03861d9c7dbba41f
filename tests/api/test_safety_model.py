"""Safety of the served model (issue 12): secrets and paths, reload targets, unfinished runs,
startup that does not wait for the store.

The committed fixture policy is logged and registered into the session's temporary store (no
training), so these tests cost seconds. An unreachable store is a closed loopback port.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from engage import registry
from engage.policy.artifact import load_policy
from engage.serving.app import create_app
from engage.serving.settings import ServeSettings

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
EXAMPLE = json.loads((REPO / "examples" / "recommendation_request.json").read_text())
NAME = "safety-policy"
UNFINISHED = "safety-unfinished"
TOKEN = "admin-token-of-the-safety-tests-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "PW-d0nt-leak-me"
RELOAD = "/v1/admin/reload"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_settings(model_uri: str, **overrides: Any) -> ServeSettings:
    values: dict[str, Any] = {
        "model_uri": model_uri,
        "reload_interval_s": 0,
        "admin_token": TOKEN,
        "startup_wait_s": 60,
    }
    return ServeSettings(**{**values, **overrides})


@pytest.fixture(autouse=True)
def same_tracking_store(mlflow_store: Path) -> Iterator[None]:
    """Point MLflow back at the session's store after each test.

    The loader sets MLflow's process-wide tracking URI (and ``MLFLOW_TRACKING_URI``) to the
    app's store, which here is sometimes a closed port.
    """
    uri = os.environ["MLFLOW_TRACKING_URI"]
    yield
    mlflow.set_tracking_uri(uri)


def log_fixture_policy() -> tuple[str, str]:
    """Log the committed fixture policy in a finished run: ``(model_uri, run_id)``."""
    policy = load_policy(FIXTURES / "policy")
    example = pd.read_parquet(FIXTURES / "snapshot_profiles.parquet").head(2)
    mlflow.set_experiment("engage-tests")
    with mlflow.start_run() as run:
        info = registry.log_policy_model(policy, example)
    return info.model_uri, run.info.run_id


@pytest.fixture(scope="module")
def versions(mlflow_store: Path) -> list[str]:
    """Two versions of NAME (the same fixture policy); ``champion`` is the first."""
    model_uri, _ = log_fixture_policy()
    out = [str(registry.register(model_uri, NAME, {}).version) for _ in range(2)]
    registry.promote(NAME, out[0])
    return out


@pytest.fixture(scope="module")
def exports(versions: list[str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Exported copies of version 2: one inside the allow-listed root, one outside it."""
    base = tmp_path_factory.mktemp("reload-dirs")
    out = {
        "root": base / "exports",
        "inside": base / "exports" / "v2",
        "outside": base / "elsewhere",
    }
    for key in ("inside", "outside"):
        out[key].mkdir(parents=True)
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=f"models:/{NAME}/{versions[1]}", dst_path=str(out[key])
        )
        assert (Path(local) / "MLmodel").exists() and Path(local).resolve() == out[key].resolve()
    (out["root"] / "empty").mkdir()
    (out["root"] / "link").symlink_to(out["outside"], target_is_directory=True)
    return out


@pytest.fixture(scope="module")
def safe(versions: list[str], exports: dict[str, Path]) -> Iterator[TestClient]:
    """An app serving ``NAME@champion`` whose reloads may load directories under the root."""
    app = create_app(
        serve_settings(f"models:/{NAME}@champion", reload_allowed_dirs=(exports["root"],))
    )
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        yield client


def back_to_configured(client: TestClient) -> None:
    r = client.post(RELOAD, headers=ADMIN)
    assert r.status_code == 200, r.text


# ------------------------------------------------------------------ (2) secrets and paths


def test_a_password_in_the_tracking_uri_reaches_no_answer_and_no_log(versions, monkeypatch, caplog):
    # Set by the user, so the server keeps it: without retries the test is fast on any code.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    caplog.set_level(logging.INFO)
    port = closed_port()
    settings = serve_settings(
        f"models:/{NAME}@champion", tracking_uri=f"http://user:{SECRET}@127.0.0.1:{port}"
    )
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz")
        answers = [
            ready,
            client.get("/v1/model"),
            client.get("/v1/schema"),
            client.post("/v1/recommendations", json=EXAMPLE),
            client.post("/v1/recommendations/batch", json={"profiles": [EXAMPLE["profile"]]}),
            client.post(RELOAD, headers=ADMIN),
        ]
    assert ready.status_code == 503
    assert [r.status_code for r in answers[1:]] == [503, 503, 503, 503, 502]
    assert (
        f"tracking server unreachable: http://user:***@127.0.0.1:{port} (ConnectionError)"
        in ready.json()["error"]["message"]
    )
    for r in answers:
        assert SECRET not in r.text, r.request.url
    assert "user:***@" in answers[-1].json()["error"]["details"][0]["message"]  # admin detail
    assert caplog.records, "the failed load was not logged"
    assert SECRET not in caplog.text


@pytest.mark.parametrize("case", ["missing model directory", "missing sqlite store"])
def test_not_ready_answers_show_no_filesystem_path(versions, tmp_path, case):
    secret_dir = tmp_path / "srv-private-layout"
    overrides: dict[str, Any] = {}
    if case == "missing model directory":
        uri = str(secret_dir / "policy-dir")
    else:
        uri = f"models:/{NAME}@champion"
        overrides["tracking_uri"] = f"sqlite:///{secret_dir / 'mlflow.db'}"
    with TestClient(create_app(serve_settings(uri, **overrides))) as client:
        answers = [client.get("/readyz"), client.get("/v1/model"), client.get("/v1/schema")]
    for r in answers:
        assert r.status_code == 503
        assert "srv-private-layout" not in r.text
        assert str(tmp_path) not in r.text
    message = answers[0].json()["error"]["message"]
    assert "policy-dir" in message or "mlflow.db" in message  # still says which


def test_a_failed_reload_shows_no_filesystem_path_without_authentication(safe, exports):
    target = exports["root"] / "empty"  # allowed, but holds no model
    r = safe.post(RELOAD, headers=ADMIN, json={"model_uri": str(target)})
    assert r.status_code == 502
    assert str(target) in r.json()["error"]["details"][0]["message"]  # the admin sees where
    info = safe.get("/v1/model")
    assert info.status_code == 200
    last = info.json()["last_reload"]
    assert last["ok"] is False
    assert "empty" in last["error"]
    assert str(exports["root"]) not in info.text
    assert str(exports["root"]) not in safe.get("/readyz").text


# ------------------------------------------------------------------ (3) reload safety


@pytest.mark.parametrize(
    "target",
    [
        "models:/another-policy@champion",
        "models:/another-policy/1",
        "models:/m-0123456789abcdef0123456789abcdef",
        "runs:/0123456789abcdef/policy",
        "s3://bucket/policy",
        "http://127.0.0.1:9/policy",
        "outside",
        "file://outside",
        "inside/../../elsewhere",
        "link",
    ],
)
def test_reload_refuses_anything_but_the_configured_model_or_an_allowed_directory(
    safe, exports, target
):
    serving = safe.app.state.models.current
    last = safe.get("/v1/model").json()["last_reload"]
    if target == "outside":
        target = str(exports["outside"])  # a real model: the old server loaded and ran it
    elif target == "file://outside":
        target = exports["outside"].as_uri()
    elif target.startswith("inside/"):
        target = str(exports["inside"]) + target.removeprefix("inside")
    elif target == "link":
        target = str(exports["root"] / "link")  # inside by name, outside once resolved
    r = safe.post(RELOAD, headers=ADMIN, json={"model_uri": target})
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "forbidden"
    assert "ENGAGE_SERVE_RELOAD_ALLOWED_DIRS" in error["message"] or NAME in error["message"]
    assert safe.app.state.models.current is serving
    assert safe.get("/v1/model").json()["last_reload"] == last  # nothing was attempted


@pytest.mark.parametrize(
    "target",
    ["models:/another-policy@champion\n", f"models:/{NAME}@nothing\n"],
    ids=["refused", "attempted"],
)
def test_the_log_escapes_the_requested_uri(safe, caplog, target):
    caplog.set_level(logging.INFO, logger="serving")
    forged = "2026-01-01 00:00:00 INFO model admin: serving evil (version 1)"
    r = safe.post(RELOAD, headers=ADMIN, json={"model_uri": target + forged})
    assert r.status_code in (403, 502)
    messages = [rec.getMessage() for rec in caplog.records if rec.name == "serving"]
    assert any("evil" in m for m in messages)
    assert all("\n" not in m and "\r" not in m for m in messages)


def test_the_admin_body_is_read_only_after_authorisation(safe):
    malformed = {"content": b"{not json", "headers": {"content-type": "application/json"}}
    assert safe.post(RELOAD, **malformed).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * 40, "content-type": "application/json"}
    assert safe.post(RELOAD, content=b"{not json", headers=wrong).status_code == 403
    assert safe.post(RELOAD, json={"model_uri": 3, "extra": 1}).status_code == 401
    r = safe.post(RELOAD, content=b"{not json", headers={**ADMIN, **malformed["headers"]})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "body"
    r = safe.post(RELOAD, headers=ADMIN, json={"model_uri": f"models:/{NAME}@champion", "x": 1})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["field"] == "x"


def test_a_pinned_reload_stops_following_the_alias_until_a_reload_without_body(safe, versions):
    r = safe.post(RELOAD, headers=ADMIN, json={"model_uri": f"models:/{NAME}/{versions[1]}"})
    assert r.status_code == 200, r.text
    assert r.json()["following_alias"] is False
    assert r.json()["model"]["version"] == versions[1]
    info = safe.get("/v1/model").json()
    assert (info["following_alias"], info["uri"]) == (False, f"models:/{NAME}/{versions[1]}")
    r = safe.post(RELOAD, headers=ADMIN)  # no body: the configured alias again
    assert r.status_code == 200, r.text
    assert r.json()["following_alias"] is True
    assert r.json()["model"]["version"] == versions[0]
    info = safe.get("/v1/model").json()
    assert (info["following_alias"], info["uri"]) == (True, f"models:/{NAME}@champion")


def test_a_directory_inside_the_allow_list_loads_and_is_shown_without_its_path(safe, exports):
    r = safe.post(RELOAD, headers=ADMIN, json={"model_uri": str(exports["inside"])})
    assert r.status_code == 200, r.text
    assert r.json()["following_alias"] is False
    answer = safe.post("/v1/recommendations", json=EXAMPLE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["model"]["uri"] == "<path>/v2"
    assert str(exports["root"]) not in safe.get("/v1/model").text
    back_to_configured(safe)
    assert safe.get("/v1/model").json()["following_alias"] is True


# ------------------------------------------------------------------ (4) unfinished runs


@pytest.fixture(scope="module")
def unfinished_run(mlflow_store: Path) -> Iterator[str]:
    """A registered champion of UNFINISHED whose run's status each test sets."""
    model_uri, run_id = log_fixture_policy()
    registry.promote(UNFINISHED, registry.register(model_uri, UNFINISHED, {}).version)
    yield run_id
    MlflowClient().update_run(run_id, status="FINISHED")


@pytest.mark.parametrize("status", ["RUNNING", "FAILED", "KILLED", "FINISHED"])
def test_a_version_whose_run_did_not_finish_is_never_served(unfinished_run, status):
    MlflowClient().update_run(unfinished_run, status=status)
    app = create_app(serve_settings(f"models:/{UNFINISHED}@champion"))
    with TestClient(app) as client:
        r = client.get("/readyz")
    if status == "FINISHED":
        assert r.status_code == 200, r.text
        return
    assert r.status_code == 503
    message = r.json()["error"]["message"]
    assert f"which is {status}, not FINISHED" in message
    assert unfinished_run in message


# ------------------------------------------------------------------ (5) startup


def test_startup_does_not_wait_for_an_unreachable_store(versions, monkeypatch):
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    port = closed_port()
    settings = serve_settings(
        f"models:/{NAME}@champion",
        tracking_uri=f"http://user:{SECRET}@127.0.0.1:{port}",
        startup_wait_s=0,
        load_retry_s=0.2,
        load_retry_max_s=0.5,
    )
    started = time.monotonic()
    with TestClient(create_app(settings)) as client:
        assert time.monotonic() - started < 2, "startup waited for the model"
        assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "1"  # bounded while serving
        deadline = time.monotonic() + 10  # MLflow's own retries alone took minutes
        while "unreachable" not in (r := client.get("/readyz")).text:
            assert time.monotonic() < deadline, r.text
            time.sleep(0.1)
        assert r.status_code == 503
        registry = client.app.state.metrics.registry
        first = registry.get_sample_value("engage_model_reload_failures_total")
        time.sleep(1.5)
        assert registry.get_sample_value("engage_model_reload_failures_total") > first
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ  # restored at shutdown
