"""``engage export-model``: a registered model as a self-contained directory for containers."""

from __future__ import annotations

from pathlib import Path

import mlflow

from engage.training.tracking import configure_tracking


def export_model(model_uri: str, out: str | Path, experiment: str = "engage") -> Path:
    """Download the MLflow model at ``model_uri`` into ``out`` (which must not exist)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty")
    configure_tracking(experiment)
    local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(out))
    return Path(local)
