"""Logging the policy as an MLflow model, registering versions of it, and loading them back.

The artifact is one pyfunc of plain files whose code is the runtime core only (``contract`` and
``policy``), so a model serves from ``mlflow models serve`` without the training or serving
packages. Every tag written here passes through :func:`~engage.contract.redaction.redact`.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import DataType
from mlflow.types.schema import AnyType, ColSpec, ParamSchema, ParamSpec, Schema

from engage.contract.redaction import redact
from engage.contract.spec import CategoricalColumn
from engage.policy import FORMAT_VERSION, SCHEMA_VERSION
from engage.policy.artifact import PREDICT_PARAMS, PolicyPyfunc, save_policy
from engage.policy.policy import Policy
from engage.registry.store import point_at_store, redacted_values

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the engage package


def requirements() -> list[str]:
    """Pinned runtime requirements of the artifact (the versions it was trained with)."""
    import lightgbm
    import numpy
    import pydantic
    import sklearn
    import yaml

    return [
        f"lightgbm=={lightgbm.__version__}",
        f"numpy=={numpy.__version__}",
        f"pandas=={pd.__version__}",
        f"scikit-learn=={sklearn.__version__}",
        f"pydantic=={pydantic.__version__}",
        f"pyyaml=={yaml.__version__}",
        f"mlflow=={mlflow.__version__}",
    ]


RUNTIME_CORE = ("contract", "policy")  # the sub-packages a model needs to predict


def model_signature(policy: Policy, output: pd.DataFrame) -> ModelSignature:
    """The pyfunc's signature: profile columns, output columns and the ``predict`` params.

    Numeric profile columns (and categorical ones whose values are numbers) are declared
    ``Any``: MLflow refuses int64 input for a ``double`` column ("Can not safely convert int64 to
    float64"), yet pandas reads whole numbers as int64; the policy's encoder checks the values.
    """
    spec = policy.spec
    columns = []
    for name in spec.context_names:
        col = spec.column(name)
        textual = isinstance(col, CategoricalColumn) and not any(_is_number(v) for v in col.values)
        columns.append(ColSpec(DataType.string if textual else AnyType(), name))
    params = ParamSchema(
        [
            ParamSpec("top_k", DataType.long, PREDICT_PARAMS["top_k"]),
            ParamSpec("explain", DataType.boolean, PREDICT_PARAMS["explain"]),
            ParamSpec("objective", DataType.string, PREDICT_PARAMS["objective"]),
        ]
    )
    return ModelSignature(
        inputs=Schema(columns), outputs=infer_signature(output).inputs, params=params
    )


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _runtime_code(root: Path) -> Path:
    """A copy of the runtime core (``engage.contract``, ``engage.policy``) for the artifact."""
    target = root / "engage"
    target.mkdir(parents=True)
    shutil.copy2(PACKAGE_DIR / "__init__.py", target / "__init__.py")
    for sub in RUNTIME_CORE:
        shutil.copytree(
            PACKAGE_DIR / sub, target / sub, ignore=shutil.ignore_patterns("__pycache__")
        )
    return target


def log_policy_model(policy: Policy, input_example: pd.DataFrame) -> Any:
    """Log the policy as one pyfunc artifact of plain files in the active run.

    The artifact's code is the runtime core only (contract and policy), so a model serves
    from ``mlflow models serve`` without the training or serving packages.
    """
    output = PolicyPyfunc(policy).predict(input_example)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = save_policy(policy, Path(tmp) / "policy")
        return mlflow.pyfunc.log_model(
            name="policy",
            loader_module="engage.policy.artifact",
            data_path=str(data_dir),
            code_paths=[str(_runtime_code(Path(tmp) / "code"))],
            signature=model_signature(policy, output),
            input_example=input_example,
            pip_requirements=requirements(),
            metadata={
                "schema_version": SCHEMA_VERSION,
                "format_version": FORMAT_VERSION,
                "spec_fingerprint": policy.spec.fingerprint,
                "objective": json.dumps(policy.spec.outcome_weights(policy.objective or None)),
            },
        )


def load_model_object(uri: str) -> Any:
    """The Python object behind a model URI (``models:/``, ``runs:/``, a directory), unchecked:
    ask :func:`engage.registry.servable.resolve_model` first whether it may be used.

    A ``models:/`` or ``runs:/`` URI resolves in the store MLflow is pointed at, else in
    engage's (:func:`~engage.registry.store.point_at_store`): never in an empty SQLite file
    MLflow would create in the working directory. ``sys.path`` is left as it was.

    Raises:
        StoreMissingError: no store is set and engage's default store does not exist here.
    """
    if uri.startswith(("models:/", "runs:/")):
        point_at_store()
    path = list(sys.path)
    try:
        return mlflow.pyfunc.load_model(uri).get_raw_model()
    finally:
        # MLflow puts the model's code folder (its copy of the runtime core, for a process
        # without engage) first on sys.path; this process has engage, and the processes it
        # starts later (Dask workers) must import this engage, not that partial copy
        sys.path[:] = path


def load_registered_policy(uri: str) -> Policy:
    """Load the :class:`Policy` behind a model URI (``models:/name@alias``, ``runs:/``, a dir).

    Raises:
        TypeError: the model there is not an engage policy.
    """
    policy = load_model_object(uri)
    if not isinstance(policy, Policy):
        raise TypeError(
            f"{redact(uri)} is not an engage policy model (got {type(policy).__name__})"
        )
    return policy


def ensure_registered_model(client: MlflowClient, name: str, description: str) -> None:
    """Create the registered model ``name`` with ``description`` unless it exists (the
    description is written once, when the model is created; each version has its own)."""
    try:
        client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
        client.create_registered_model(name, description=redact(description) or None)


#: version tag with the shipped policy's DR value and interval: the registered model's page
#: lists each version's tags (its descriptions are cut to a few words there)
DR_VALUE_TAG = "dr_value"


def dr_value_text(value: float, low: float, high: float) -> str:
    """``12.4 (95% interval 12 to 12.92)``: a DR value as a version's tag gives it."""
    return f"{value:.4g} (95% interval {low:.4g} to {high:.4g})"


def _dr_value_tag(run_id: str | None) -> dict[str, str]:
    """``{DR_VALUE_TAG: ...}`` from the run's ``ope.shipped.dr`` metric with the interval of
    ``ope.shipped.range`` (which allows for the valuing models' extrapolation), or of
    ``ope.shipped.dr`` for a run that has no range ({} when it has neither)."""
    if not run_id:
        return {}
    metrics = MlflowClient().get_run(run_id).data.metrics
    interval = "range" if "ope.shipped.range_low" in metrics else "dr"
    names = ("ope.shipped.dr", f"ope.shipped.{interval}_low", f"ope.shipped.{interval}_high")
    if not all(n in metrics for n in names):
        return {}
    return {DR_VALUE_TAG: dr_value_text(*(metrics[n] for n in names))}


def register(model_uri: str, name: str, tags: dict[str, str]) -> Any:
    """Register a logged model as a new version of ``name``, tagged in the same call (with
    the run's DR value, :data:`DR_VALUE_TAG`, when ``tags`` name the run).

    The tags go with the creation (one write): a kill cannot leave an untagged version.
    """
    tags = {**_dr_value_tag(tags.get("run_id")), **tags}
    return mlflow.register_model(model_uri, name, tags=redacted_values(tags))
