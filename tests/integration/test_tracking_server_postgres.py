"""A team's set-up: ``mlflow server`` on PostgreSQL with a shared artifact root, and engage on it.

A real PostgreSQL (``postgres_server``, skipped with a printed reason where it cannot be
installed) and a real ``mlflow server`` process on a free loopback port; ``engage train`` and
``engage serve`` run as processes with ``MLFLOW_TRACKING_URI`` pointing at the server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from engage.serving.examples import EXAMPLE_PROFILE
from tests.postgres import create_database, find_bin_dir, temporary_root
from tests.servers import answers, engage_serve, free_port, stop_process_group

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
MODEL = "team-policy"
READY_TIMEOUT_S = 120  # migrations of a fresh database take ~20 s on a busy 2-core machine


@dataclass(frozen=True)
class TrackingServer:
    url: str
    artifacts: Path
    backend_password: str


@pytest.fixture(scope="module")
def tracking_server(postgres_server, tmp_path_factory) -> Iterator[TrackingServer]:
    root = tmp_path_factory.mktemp("tracking")
    backend = create_database(postgres_server, "engage_tracking")  # postgresql+psycopg://...
    artifacts = root / "artifacts"
    port = free_port()
    log_path = root / "mlflow-server.log"
    # The server's job runner (huey consumers) is not needed for tracking and the registry.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    cmd = [
        str(BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        backend,
        "--artifacts-destination",
        str(artifacts),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not answers(url + "/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"mlflow server not ready (exit code {proc.poll()}):\n"
                    f"{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield TrackingServer(url, artifacts, postgres_server.password)
    finally:
        stop_process_group(proc, timeout_s=20)


def _engage(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "engage"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_train_and_serve_on_a_postgres_backed_tracking_server(tracking_server, tmp_path):
    from mlflow import MlflowClient

    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_server.url,
        "ENGAGE_TRAIN_N_BOOT": "50",  # the grid and oracle sample are the code's (a subprocess)
    }
    data = tmp_path / "campaigns.parquet"
    sim = _engage(["simulate", "--rows", "3000", "--seed", "4", "--out", str(data)], env, tmp_path)
    assert sim.returncode == 0, sim.stderr
    train = _engage(
        [
            "train",
            "--data",
            str(data),
            "--trials",
            "0",
            "--model-name",
            MODEL,
            "--experiment",
            "team-tests",
            "--no-progress",
        ],
        env,
        tmp_path,
    )
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]

    client = MlflowClient(tracking_uri=tracking_server.url)
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert champion.version == "1"
    run = client.get_run(champion.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.experiment_id == client.get_experiment_by_name("team-tests").experiment_id
    assert len(client.search_model_versions(f"name='{MODEL}'")) == 1
    # the model's files live under the server's shared artifact root, not in the client's cwd
    assert any(tracking_server.artifacts.rglob("MLmodel"))
    assert not (tmp_path / "mlruns").exists()

    serve_env = {**env, "ENGAGE_SERVE_RELOAD_INTERVAL_S": "0", "ENGAGE_SERVE_ACCESS_LOG": "false"}
    served = ["--model-uri", f"models:/{MODEL}@champion"]
    with engage_serve(tmp_path, serve_env, served) as base, httpx.Client(base_url=base) as http:
        r = http.post("/v1/recommendations", json={"profile": EXAMPLE_PROFILE}, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["model"]["name"] == MODEL
        assert body["model"]["version"] == "1"
        assert body["recommendations"][0]["rank"] == 1
    served_log = (tmp_path / "server.log").read_text()

    password = tracking_server.backend_password
    for text in (sim.stdout, sim.stderr, train.stdout, train.stderr, served_log):
        assert password not in text


def test_engage_masks_the_database_password_it_is_given(postgres_server, tmp_path):
    """Pointed straight at the database (no tracking server), engage names the store with the
    password masked, in what it prints and in its error."""
    backend = create_database(postgres_server, "engage_direct")
    env = {**os.environ, "MLFLOW_TRACKING_URI": backend}
    profiles = tmp_path / "profiles.parquet"
    import pandas as pd

    pd.DataFrame([EXAMPLE_PROFILE]).to_parquet(profiles)
    done = _engage(
        [
            "recommend-batch",
            "--model-uri",
            "models:/no-such-model@champion",
            "--input",
            str(profiles),
            "--output",
            str(tmp_path / "out"),
        ],
        env,
        tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "engage_test:***@" in done.stderr
    assert "no-such-model" in done.stderr
    assert postgres_server.password not in done.stdout + done.stderr


REPO = Path(__file__).resolve().parents[2]


def _session_cmdlines(sid: int) -> list[str]:
    """The command lines (``/proc/<pid>/cmdline``, what ``ps`` shows) of a session's processes."""
    lines = []
    for proc_dir in Path("/proc").glob("[0-9]*"):
        try:
            if os.getsid(int(proc_dir.name)) != sid:
                continue
            lines.append((proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ProcessLookupError):
            continue
    return lines


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc/<pid>/cmdline")
def test_make_tracking_server_keeps_the_password_off_the_command_line(tmp_path):
    """``make tracking-server`` hands PostgreSQL's password to ``mlflow server`` through a
    ``.pgpass`` file: no process it starts shows it in ``ps``, and the server still works."""
    if find_bin_dir() is None or shutil.which("make") is None:
        pytest.skip("make tracking-server needs make and PostgreSQL's initdb")
    root = temporary_root()  # readable by the postgres user when the tests run as root
    port = free_port()
    args = [
        "make",
        "--no-print-directory",
        "-o",
        str(BIN / "activate"),  # the test's environment is installed: no pip install
        "tracking-server",
        f"BIN={BIN}",
        f"TRACKING_DIR={root / 'team'}",
        f"PG_PORT={free_port()}",
        f"MLFLOW_PORT={port}",
    ]
    log_path = tmp_path / "make.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            args, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
        )
    team = root / "team"
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not answers(url + "/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"make tracking-server not ready:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        password = (team / "password").read_text().strip()
        assert len(password) == 32
        cmdlines = _session_cmdlines(proc.pid)
        assert any("mlflow" in line and "server" in line for line in cmdlines), cmdlines
        # (no assertion message: pytest would print the password it found)
        assert not any(password in line for line in cmdlines), "a command line holds the password"
        assert (team / "pgpass").stat().st_mode & 0o077 == 0
        # the server reaches its database: an experiment is created and read back
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=url)
        exp = client.create_experiment("pgpass-check")
        assert client.get_experiment(exp).name == "pgpass-check"
        assert password not in log_path.read_text()
    finally:
        stop_process_group(proc, timeout_s=20)
        bin_dir = find_bin_dir()
        if bin_dir is not None and (team / "pg" / "PG_VERSION").exists():
            owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(team / "pg"), "-m", "immediate", "stop"]
            subprocess.run(owner + pg_ctl, capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)
