"""``engage export-model``: a registered model as a self-contained directory for containers.

An exported directory leaves the registry behind, so no one could later tell that it came from
a run that never finished: such a version is refused here (see :func:`tracking.model_problem`).
"""

from __future__ import annotations

from pathlib import Path

import mlflow
from mlflow import MlflowClient

from engage.training.split import TrainingError
from engage.training.tracking import configure_tracking, model_problem, redacted_errors


def export_model(model_uri: str, out: str | Path, experiment: str = "engage") -> Path:
    """Download the MLflow model at ``model_uri`` into ``out`` (which must not exist).

    Raises:
        FileExistsError: ``out`` exists and is not empty.
        TrainingError: the version's run did not finish, or MLflow failed (the message has
            credentials redacted).
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty")
    with redacted_errors():
        configure_tracking(experiment)
        problem = model_problem(MlflowClient(), model_uri)
        if problem is not None:
            raise TrainingError(f"{model_uri} was not exported: {problem}")
        local = mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(out))
    return Path(local)
