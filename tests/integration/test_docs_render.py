"""``/docs`` of a real ``engage serve`` process, drawn by headless Chromium with no network
beyond loopback, is a page with content, not the blank page a CDN-loaded Swagger UI gives
offline. Skipped, with the reason, only when no Chromium is installed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import matplotlib.image as mpimg
import numpy as np
import pytest

from tests.integration.test_server_process import free_port

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
READY_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def browser() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found is None:
        reason = "no Chromium installed (apt-get install chromium): /docs is not rendered"
        print(reason)
        pytest.skip(reason)
    return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``engage serve`` without a model (the docs need none) on a free loopback port."""
    port = free_port()
    env = {**os.environ, "ENGAGE_SERVE_RELOAD_INTERVAL_S": "0", "ENGAGE_SERVE_ACCESS_LOG": "false"}
    env["ENGAGE_SERVE_STARTUP_WAIT_S"] = "0"
    cmd = [str(Path(sys.executable).parent / "engage"), "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--model-uri", str(tmp_path / "no-model")]
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not _answers(f"{base}/healthz"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server not up:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.25)
            yield base
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_swagger_ui_renders_offline(browser: str, server: str, tmp_path: Path) -> None:
    png = tmp_path / "api-docs.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"]
    cmd += ["--no-first-run", "--disable-background-networking", "--disable-component-update"]
    cmd += ["--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}"]
    cmd += [f"--screenshot={png}", "--window-size=1200,1600", "--virtual-time-budget=5000"]
    subprocess.run([*cmd, f"{server}/docs"], check=True, capture_output=True, timeout=120)
    img = mpimg.imread(png)[..., :3]
    assert img.shape[:2] == (1600, 1200)
    assert img.var() > 0.005  # text and coloured operation bars, not a blank page
    rows = np.abs(img - img[-1, -1]).max(axis=(1, 2)) > 0.1
    assert rows[:800].mean() > 0.2  # the title and the first operations are drawn
    coloured = (img.max(axis=2) - img.min(axis=2)) > 0.2
    assert coloured.mean() > 0.005  # Swagger's method badges and bars (GET blue, POST green)
