"""``/docs`` of a real ``engage serve`` process, drawn by headless Chromium with no network
beyond loopback, is a page with content, not the blank page a CDN-loaded Swagger UI gives
offline. Skipped, with the reason, only when no Chromium is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from tests.servers import engage_serve

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
    env = {**os.environ, "ENGAGE_SERVE_RELOAD_INTERVAL_S": "0", "ENGAGE_SERVE_ACCESS_LOG": "false"}
    env["ENGAGE_SERVE_STARTUP_WAIT_S"] = "0"
    args = ["--model-uri", str(tmp_path / "no-model")]
    with engage_serve(
        tmp_path, env, args, ready_path="/healthz", timeout_s=READY_TIMEOUT_S
    ) as base:
        yield base


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
