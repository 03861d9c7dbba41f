"""``engage export-model``: a registered model as a self-contained directory for containers.

An exported directory leaves the registry behind, so no one could later tell that it came from
a run that never finished: the model is refused here by the same rule ``engage serve`` applies
(:func:`engage.registry.resolve_model`), and the exact version the rule was applied to is
downloaded (an alias that moves meanwhile does not change what is exported).
"""

from __future__ import annotations

from pathlib import Path

import mlflow
from mlflow import MlflowClient

from engage.registry import configure_tracking, resolve_model
from engage.training.split import TrainingError
from engage.training.tracking import redacted_errors


def export_model(model_uri: str, out: str | Path, experiment: str = "engage") -> Path:
    """Download the MLflow model at ``model_uri`` into ``out`` (which must not exist).

    Raises:
        FileExistsError: ``out`` exists and is not empty.
        TrainingError: the model may not leave the registry (the message says why), or MLflow
            failed (the message has credentials redacted).
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty")
    with redacted_errors():
        configure_tracking(experiment)
        model = resolve_model(MlflowClient(), model_uri)
        if model.refusal is not None:
            raise TrainingError(f"{model_uri} was not exported: {model.refusal}")
        local = mlflow.artifacts.download_artifacts(artifact_uri=model.load_uri, dst_path=str(out))
    return Path(local)
