"""MLflow set-up, model logging, registration and alias promotion.

Tracking defaults to SQLite inside ``mlruns/`` (``sqlite:///mlruns/mlflow.db``, artifacts under
``mlruns/artifacts``); ``MLFLOW_TRACKING_URI`` overrides it (MLflow reads it itself).
Promotion moves the ``champion`` alias; stages are never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
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

import engage
from engage.contract.spec import CategoricalColumn
from engage.policy import FORMAT_VERSION, SCHEMA_VERSION
from engage.policy.artifact import PREDICT_PARAMS, PolicyPyfunc, save_policy
from engage.policy.policy import Policy

CHAMPION = "champion"
PACKAGE_DIR = Path(engage.__file__).resolve().parent


def default_tracking_uri(root: str | Path = "mlruns") -> str:
    """The embedded store: SQLite inside ``root`` (relative to the working directory)."""
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlflow.db'}"


def configure_tracking(experiment: str, root: str | Path = "mlruns") -> str:
    """Point MLflow at ``MLFLOW_TRACKING_URI`` or the embedded store; create the experiment.

    Returns the tracking URI in use.
    """
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri(root)
    mlflow.set_tracking_uri(uri)
    if uri.startswith("sqlite:") and mlflow.get_experiment_by_name(experiment) is None:
        artifacts = (Path(root).resolve() / "artifacts").as_uri()
        mlflow.create_experiment(experiment, artifact_location=artifacts)
    mlflow.set_experiment(experiment)
    return uri


def git_sha() -> str:
    """The commit of the working tree, or ``unknown`` outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=PACKAGE_DIR, check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


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


SCHEMA_SAMPLE_ROWS = 1_000


def frame_digest(df: pd.DataFrame) -> str:
    """A fingerprint of every row and column of ``df`` (16 hex digits).

    ``mlflow.data.from_pandas`` would compute its own from the first 10,000 rows only (and
    spends seconds doing it on a million-row log); this one hashes all rows, in ~0.1 s per
    million.
    """
    h = hashlib.md5(usedforsecurity=False)
    h.update("\x1f".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]


def log_dataset(df: pd.DataFrame, source: str, name: str, context: str) -> str:
    """Log ``df`` as an input of the active run (name, digest, schema, row count); its digest.

    The column schema is inferred from the first rows (the log has passed validation, so
    every row has the same types); inferring it from all rows takes ~25 s per million.
    """
    digest = frame_digest(df)
    dataset = mlflow.data.from_pandas(df, source=source, name=name, digest=digest)
    # ``schema`` is a cached property: filling the cache skips MLflow's full-frame scan.
    dataset.__dict__["schema"] = infer_signature(df.head(SCHEMA_SAMPLE_ROWS)).inputs
    mlflow.log_input(dataset, context=context)
    return digest


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
        textual = isinstance(col, CategoricalColumn) and not any(
            _is_number(v) for v in col.values
        )
        columns.append(ColSpec(DataType.string if textual else AnyType(), name))
    params = ParamSchema(
        [
            ParamSpec("top_k", DataType.long, PREDICT_PARAMS["top_k"]),
            ParamSpec("explain", DataType.boolean, PREDICT_PARAMS["explain"]),
            ParamSpec("objective", DataType.string, PREDICT_PARAMS["objective"]),
        ]
    )
    return ModelSignature(inputs=Schema(columns), outputs=infer_signature(output).inputs, params=params)


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
        shutil.copytree(PACKAGE_DIR / sub, target / sub, ignore=shutil.ignore_patterns("__pycache__"))
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


def champion(client: MlflowClient, name: str) -> Any | None:
    """The model version the ``champion`` alias points to, or None."""
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def load_registered_policy(uri: str) -> Policy:
    """Load the :class:`Policy` behind a model URI (``models:/name@alias``, ``runs:/``, a dir)."""
    return mlflow.pyfunc.load_model(uri).get_raw_model()


def register(model_uri: str, name: str, tags: dict[str, str]) -> Any:
    """Register a logged model as a new version of ``name`` and tag it."""
    version = mlflow.register_model(model_uri, name)
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version.version, key, value)
    return version


def promote(name: str, version: str | int) -> None:
    """Point the ``champion`` alias at ``version``."""
    MlflowClient().set_registered_model_alias(name, CHAMPION, str(version))
