"""Dask is an optional extra: training without --dask must not need it (MLflow itself may import psutil when it is installed)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.slow  # a fresh interpreter importing mlflow: seconds
def test_the_training_pipeline_imports_without_dask() -> None:
    code = (
        "import sys, engage.training.pipeline, engage.cli; "
        "bad = [m for m in ('dask', 'distributed', 'engage.training.distributed') if m in sys.modules]; "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
