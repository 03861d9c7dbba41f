"""No credential of a tracking URI (or of a data path) reaches the console, MLflow params, tags
or dataset sources of ``engage train``, nor its error messages.

A real ``mlflow server`` (no authentication: it ignores the user and password that the client
sends) stands in for a password-protected tracking server.
"""

from __future__ import annotations

import os

import mlflow
import pytest
from mlflow import MlflowClient

from engage.cli import main
from tests.servers import free_port, mlflow_server

pytestmark = pytest.mark.slow

PASSWORD, TOKEN = "hunter2-pw", "s3cret-tok"
FAST = {
    "ENGAGE_TRAIN_N_BOOT": "50",  # the small grid and oracle sample are the session's
}
SERVER_START_S = 90


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory):
    """``mlflow server`` on a free loopback port; its plain address (no credentials)."""
    root = tmp_path_factory.mktemp("server")
    store = f"sqlite:///{root / 'mlflow.db'}"
    with mlflow_server(
        root, store, artifacts=root / "artifacts", timeout_s=SERVER_START_S
    ) as address:
        yield address


@pytest.fixture
def secret_env(monkeypatch, mlflow_store):
    """Fast settings; afterwards MLflow points at the session's store again."""
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    yield monkeypatch
    monkeypatch.undo()  # first the session store's URI back in the environment, then in MLflow
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])


def test_train_against_a_password_protected_store_shows_no_password(
    tracking_server, secret_env, sim_log, tmp_path, capfd
) -> None:
    data_dir = tmp_path / f"token={TOKEN}"  # a secret-looking data path
    data_dir.mkdir()
    (data_dir / "campaigns.parquet").symlink_to(sim_log)
    secret_env.setenv("MLFLOW_TRACKING_URI", f"http://alice:{PASSWORD}@{tracking_server}")
    code = main(
        [
            "train",
            "--data",
            str(data_dir / "campaigns.parquet"),
            "--experiment",
            "redaction",
            "--model-name",
            "redaction-policy",
            "--trials",
            "0",
            "--no-progress",
        ]
    )
    out, err = capfd.readouterr()
    assert code == 0, err[-3000:]
    assert f"http://alice:***@{tracking_server}" in out
    assert "registered version 1" in out
    for secret in (PASSWORD, TOKEN):
        assert secret not in out and secret not in err

    client = MlflowClient(tracking_uri=f"http://{tracking_server}")
    version = client.get_model_version("redaction-policy", "1")
    run = client.get_run(version.run_id)
    texts = [*run.data.params.values(), *run.data.tags.values(), *version.tags.values()]
    texts += [i.dataset.source for i in run.inputs.dataset_inputs]
    assert any("token=***" in t for t in texts)  # the data path was logged, redacted
    assert not [t for t in texts if PASSWORD in t or TOKEN in t]


def test_mlflow_error_is_reported_without_the_password(secret_env, sim_log, capfd) -> None:
    secret_env.setenv("MLFLOW_TRACKING_URI", f"http://alice:{PASSWORD}@127.0.0.1:{free_port()}")
    secret_env.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    secret_env.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    code = main(["train", "--data", str(sim_log), "--experiment", "redaction", "--no-progress"])
    out, err = capfd.readouterr()
    assert code == 1
    assert "error: MLflow: " in err and "alice:***@127.0.0.1" in err
    assert PASSWORD not in out + err
