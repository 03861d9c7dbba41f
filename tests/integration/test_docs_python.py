"""The docs' "Use it from Python" example (docs/python.md) runs as written, in a fresh process
and folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "python.md"


def python_example() -> str:
    section = PAGE.read_text().split("# Use it from Python\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no python example in docs/python.md"
    return match.group(1)


@pytest.mark.slow
def test_the_documented_python_example_runs(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    run = subprocess.run(
        [sys.executable, "-c", python_example()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    assert "3000 clean, 0 quarantined" in run.stdout
    assert any(line.startswith(("personalized models:/", "constant models:/")) for line in lines), (
        run.stdout
    )
    assert (tmp_path / "mlruns" / "mlflow.db").exists()  # the notebook's own store
