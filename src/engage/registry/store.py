"""Which MLflow store engage talks to, and how a process is pointed at it.

Tracking defaults to SQLite inside ``mlruns/`` (``sqlite:///mlruns/mlflow.db``, artifacts under
``mlruns/artifacts``); ``MLFLOW_TRACKING_URI`` overrides it (MLflow reads it itself). This is
the one place that says so: training, serving, batch scoring and the CLI all ask
:func:`default_tracking_uri`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
from mlflow import MlflowClient

from engage.contract.redaction import redact

#: the kind of an experiment, which MLflow 3's UI up to 3.4 opened the experiment's view by
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
CLASSICAL_ML = "custom_model_development"
#: the experiment's description, the "Description" column of MLflow's experiment list
DESCRIPTION_TAG = "mlflow.note.content"
#: the query that opens MLflow's UI on the classic runs (training) view. From MLflow 3.5 on
#: (checked in 3.18's UI bundle: the view follows a ``workflowType`` that comes from this URL
#: parameter, else from the browser's local storage, key ``mlflow.workflowType``, default
#: ``genai``) the experiment-kind tag no longer decides the view, and no tag or server setting
#: does: every link engage prints to an experiment carries this parameter, which the UI keeps
#: while one navigates from there.
ML_VIEW_QUERY = "workflowType=machine_learning"
#: where ``make ui`` serves the UI of the embedded store (its default host and port)
LOCAL_UI = "http://127.0.0.1:5000"


def experiment_page(tracking_uri: str, experiment_id: str, run_id: str | None = None) -> str:
    """The address of an experiment's runs table (or one of its runs) in MLflow's UI, opened
    on the classic runs view (:data:`ML_VIEW_QUERY`): on the tracking server for an
    ``http(s)`` tracking URI (credentials masked), else where ``make ui`` serves it."""
    base = tracking_uri if urlparse(tracking_uri).scheme in ("http", "https") else LOCAL_UI
    page = f"{redact(base).rstrip('/')}/#/experiments/{experiment_id}"
    if run_id:
        page += f"/runs/{run_id}"
    return f"{page}?{ML_VIEW_QUERY}"


#: the client of a store, as callers outside the registry name its type
RegistryClient = MlflowClient


#: what to do when the store a tracking URI names is not there
POINT_AT_STORE = (
    "nothing was created there: point MLFLOW_TRACKING_URI at the store "
    "(sqlite:///<folder>/mlruns/mlflow.db, or a tracking server's http(s):// address), or run "
    "from the folder that holds mlruns/"
)


def point_at_store() -> None:
    """Point MLflow at :func:`default_tracking_uri` unless it was pointed somewhere already
    (``MLFLOW_TRACKING_URI`` or :func:`mlflow.set_tracking_uri`), so a model URI resolves in
    engage's store, not in MLflow's own default (``sqlite:///mlflow.db`` in the working
    directory, which MLflow creates empty when it is absent).

    Raises:
        StoreMissingError: engage's store does not exist here (nothing is created).
    """
    if not mlflow.tracking.is_tracking_uri_set():
        open_store(default_tracking_uri())


class StoreMissingError(FileNotFoundError):
    """The SQLite file a tracking URI names does not exist (opening it would create it)."""


def default_tracking_uri(root: str | Path = "mlruns") -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the embedded store: SQLite inside ``root``
    (relative to the working directory). Nothing is created here."""
    return (
        os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path(root).resolve() / 'mlflow.db'}"
    )


def configure_tracking(
    experiment: str, root: str | Path = "mlruns", description: str | None = None
) -> str:
    """Point MLflow at :func:`default_tracking_uri` (creating ``root`` for the embedded store)
    and create the experiment if it is new: tagged as classical ML
    (``mlflow.experimentKind=custom_model_development``) and described (``description``, the
    experiment list's "Description" column). An existing experiment gets whichever of the two
    tags it lacks (one made by an older engage, or by hand); a description it has is kept.

    Returns the tracking URI in use.
    """
    uri = default_tracking_uri(root)
    if redact(uri) != uri:
        # MLflow prints "View run ... at: <tracking URI>/#/..." to stdout when a run ends,
        # password included; this is its own switch for that line.
        os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    if not os.environ.get("MLFLOW_TRACKING_URI"):  # the embedded store: its folder must exist
        Path(root).resolve().mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    tags = {EXPERIMENT_KIND_TAG: CLASSICAL_ML}
    if description:
        tags[DESCRIPTION_TAG] = description
    existing = mlflow.get_experiment_by_name(experiment)
    if existing is None:
        artifacts = (
            (Path(root).resolve() / "artifacts").as_uri() if uri.startswith("sqlite:") else None
        )
        mlflow.create_experiment(experiment, artifact_location=artifacts, tags=tags)
    else:
        client = MlflowClient(tracking_uri=uri)
        for key, value in tags.items():
            if not existing.tags.get(key):
                client.set_experiment_tag(existing.experiment_id, key, value)
    mlflow.set_experiment(experiment)
    return uri


def open_store(tracking_uri: str) -> MlflowClient:
    """A client of an existing store, MLflow pointed at it too (model URIs resolve there).

    Raises:
        StoreMissingError: ``tracking_uri`` names a SQLite file that does not exist (opening
            it would create an empty store and run its migrations).
    """
    if urlparse(tracking_uri).scheme == "sqlite":
        db = Path(tracking_uri.removeprefix("sqlite:///").split("?", 1)[0])
        if not db.exists():
            raise StoreMissingError(f"no MLflow store at {db}; {POINT_AT_STORE}")
    mlflow.set_tracking_uri(tracking_uri)
    return MlflowClient(tracking_uri=tracking_uri)


def redacted_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with every text masked by :func:`~engage.contract.redaction.redact` (numbers
    and booleans hold no credentials; MLflow stringifies them itself)."""
    return {k: redact(v) if isinstance(v, str | Path) else v for k, v in values.items()}
