"""The real ``engage serve`` process answers the example request over real HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((REPO / "examples" / "recommendation_request.json").read_text())
READY_TIMEOUT_S = 60

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(champion_uri: str, tmp_path: Path) -> Iterator[str]:
    """``engage serve`` on a free loopback port; always terminated at teardown."""
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": os.environ["MLFLOW_TRACKING_URI"],
        "ENGAGE_SERVE_RELOAD_INTERVAL_S": "0",
        "ENGAGE_SERVE_ACCESS_LOG": "false",
    }
    log = (tmp_path / "server.log").open("wb")
    cmd = [
        str(Path(sys.executable).parent / "engage"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--model-uri",
        champion_uri,
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"server exited with {proc.returncode}:\n{(tmp_path / 'server.log').read_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"not ready after {READY_TIMEOUT_S} s:\n{(tmp_path / 'server.log').read_text()[-3000:]}"
                )
            time.sleep(0.25)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        log.close()


def test_example_request_over_real_http(server):
    with httpx.Client(base_url=server, timeout=10) as client:
        r = client.post("/v1/recommendations", json=EXAMPLE)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"recommendations", "explanation", "policy", "score_unit", "model"}
        assert body["recommendations"][0]["rank"] == 1
        assert abs(sum(body["recommendations"][0]["posting_mix"].values()) - 1) < 1e-6
        assert body["model"]["name"] == "test-policy"
        assert body["policy"]["mode"] in {"personalized", "constant"}
        bad = client.post(
            "/v1/recommendations", json={"profile": {**EXAMPLE["profile"], "market": "b2g"}}
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["details"][0]["field"] == "profile.market"
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert 'route="/v1/recommendations",status="200"' in metrics.text
