"""``mypy --strict`` passes on the runtime core and the off-policy estimators (pyproject's
``[tool.mypy]``: engage.contract, engage.policy, engage.ope), so ``make test`` checks it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MYPY = Path(sys.executable).with_name("mypy")


@pytest.mark.slow
def test_strict_typing_of_contract_policy_and_ope():
    result = subprocess.run(
        # no cache read or written (like lint-imports --no-cache in test_architecture.py)
        [
            str(MYPY),
            "--config-file",
            str(REPO / "pyproject.toml"),
            "--no-incremental",
            "--cache-dir",
            os.devnull,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout
