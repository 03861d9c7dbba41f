"""MLflow set-up, model logging, registration and alias promotion.

Tracking defaults to SQLite inside ``mlruns/`` (``sqlite:///mlruns/mlflow.db``, artifacts under
``mlruns/artifacts``); ``MLFLOW_TRACKING_URI`` overrides it (MLflow reads it itself).
Promotion moves the ``champion`` alias; stages are never used. Every parameter, tag and error
text this module writes or raises passes through :func:`~engage.contract.redaction.redact`:
tracking URIs carry passwords, and MLflow echoes them in its error messages.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow import MlflowClient
from mlflow.data.dataset_source import DatasetSource
from mlflow.data.dataset_source_registry import get_dataset_source_from_json
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature, infer_signature
from mlflow.store.artifact.utils.models import get_model_name_and_version
from mlflow.types import DataType
from mlflow.types.schema import AnyType, ColSpec, ParamSchema, ParamSpec, Schema

import engage
from engage.contract.redaction import redact
from engage.contract.spec import CategoricalColumn
from engage.policy import FORMAT_VERSION, SCHEMA_VERSION
from engage.policy.artifact import PREDICT_PARAMS, PolicyPyfunc, save_policy
from engage.policy.policy import Policy
from engage.training.split import TrainingError

CHAMPION = "champion"
#: MLflow 3's UI opens an experiment on its GenAI or its classical-ML view by this tag
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
CLASSICAL_ML = "custom_model_development"
#: version tags: the run behind the version was seen FINISHED / was found not to have finished
RUN_STATUS_TAG = "engage.run_status"
INCOMPLETE_TAG = "engage.incomplete"
INCOMPLETE_REASON_TAG = "engage.incomplete_reason"
PACKAGE_DIR = Path(engage.__file__).resolve().parent


def default_tracking_uri(root: str | Path = "mlruns") -> str:
    """The embedded store: SQLite inside ``root`` (relative to the working directory)."""
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlflow.db'}"


def configure_tracking(experiment: str, root: str | Path = "mlruns") -> str:
    """Point MLflow at ``MLFLOW_TRACKING_URI`` or the embedded store; create the experiment
    (tagged as classical ML: ``mlflow.experimentKind=custom_model_development``) if it is new.

    Returns the tracking URI in use.
    """
    uri = os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri(root)
    if redact(uri) != uri:
        # MLflow prints "View run ... at: <tracking URI>/#/..." to stdout when a run ends,
        # password included; this is its own switch for that line.
        os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] = "true"
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(experiment) is None:
        # classical ML, so that MLflow 3's UI does not open the experiment on its GenAI view
        artifacts = (Path(root).resolve() / "artifacts").as_uri() if uri.startswith("sqlite:") else None
        mlflow.create_experiment(
            experiment, artifact_location=artifacts, tags={EXPERIMENT_KIND_TAG: CLASSICAL_ML}
        )
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


#: the start of MLflow's warning about integer columns in an inferred schema
INTEGER_HINT = "Hint: Inferred schema contains integer column"


def local_source(path: str | Path) -> DatasetSource:
    """The dataset source of a local file: MLflow's ``local`` source of its ``file://`` URI.

    Not the bare path string: MLflow would then ask every registered source whether it can
    read it, two (for the schemes ``""`` and ``file``) say yes, and it warns "The specified
    dataset source can be interpreted in multiple ways" for each dataset logged.
    """
    uri = redact(Path(path).resolve().as_uri())
    return get_dataset_source_from_json(json.dumps({"uri": uri}), source_type="local")


def dataset_schema(df: pd.DataFrame) -> Schema:
    """The column schema of a logged dataset, inferred from its first rows."""
    with warnings.catch_warnings():
        # MLflow's hint that integer columns cannot hold missing values at *inference* time is
        # about model signatures; a logged dataset is described, never enforced at inference
        warnings.filterwarnings("ignore", INTEGER_HINT, UserWarning)
        return infer_signature(df.head(SCHEMA_SAMPLE_ROWS)).inputs


def log_dataset(df: pd.DataFrame, source: str, name: str, context: str) -> str:
    """Log ``df`` as an input of the active run (name, digest, schema, row count); its digest.

    The column schema is inferred from the first rows (the log has passed validation, so
    every row has the same types); inferring it from all rows takes ~25 s per million.
    """
    digest = frame_digest(df)
    dataset = mlflow.data.from_pandas(df, source=local_source(source), name=redact(name), digest=digest)
    # ``schema`` is a cached property: filling the cache skips MLflow's full-frame scan.
    dataset.__dict__["schema"] = dataset_schema(df)
    mlflow.log_input(dataset, context=context)
    return digest


#: the prefix of the handful of figures a data team compares across runs (every metric is
#: still logged under its own name; these are copies, grouped so they are found first)
HEADLINE = "headline."
#: the root artifact with the headline figures: one path in every run, so MLflow's compare
#: view (which lists the files at the root of the runs' artifacts) shows them side by side
HEADLINE_ARTIFACT = "headline.json"


def headline_metrics(metrics: Mapping[str, float]) -> dict[str, float]:
    """The headline figures of a run, named ``headline.<figure>``, from its metrics.

    The shipped policy's DR value and interval, and its range (the interval allowing for
    extrapolation, ``shipped_range_low``/``_high``); its DR gain over the logged policy (with
    interval); the learned policy's DR gain over the best constant action (with interval:
    what decides whether to personalise); whether it personalises (1/0); each outcome
    model's R²; the training and evaluation rows; the run's seconds. A figure the run does
    not have is left out.
    """
    shipped = (
        "learned" if metrics.get("policy.personalized") == 1
        else "baseline" if metrics.get("policy.baseline") == 1 else "best_constant"
    )
    whole, bounds = ("", "_low", "_high"), ("_low", "_high")
    sources = {
        "shipped_dr": ("ope.shipped.dr", whole),
        "shipped_range": ("ope.shipped.range", bounds),  # its value is shipped_dr's
        "gain_vs_logged": (f"policy.dr_gain_vs_logged.{shipped}", whole),
        "learned_gain_vs_best_constant": ("policy.dr_gain_vs_constant", whole),
    }
    out: dict[str, float] = {}
    for figure, (name, ends) in sources.items():
        for end in ends:
            if name + end in metrics:
                out[f"{HEADLINE}{figure}{end}"] = float(metrics[name + end])
    if "policy.personalized" in metrics:
        out[f"{HEADLINE}personalized"] = float(metrics["policy.personalized"])
    for name, value in metrics.items():
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "eval" and parts[2] == "r2":
            out[f"{HEADLINE}r2.{parts[1]}"] = float(value)
    for name in ("data.rows_train", "data.rows_eval", "time.total_s"):
        if name in metrics:
            out[HEADLINE + name.split(".", 1)[1]] = float(metrics[name])
    return out


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
    """The model version the ``champion`` alias points to, or None when there is none.

    Raises:
        MlflowException: the registry could not be read. (Only "no such model" or "no such
        alias" mean no champion: an unreachable store must not read as an empty one.)
    """
    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = model.aliases.get(CHAMPION)
    return None if version is None else client.get_model_version(name, str(version))


def load_registered_policy(uri: str) -> Policy:
    """Load the :class:`Policy` behind a model URI (``models:/name@alias``, ``runs:/``, a dir)."""
    return mlflow.pyfunc.load_model(uri).get_raw_model()


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
    return mlflow.register_model(model_uri, name, tags=_redacted(tags))


def promote(name: str, version: str | int) -> None:
    """Point the ``champion`` alias at ``version``."""
    MlflowClient().set_registered_model_alias(name, CHAMPION, str(version))


def drop_champion(client: MlflowClient, name: str) -> None:
    """Remove the ``champion`` alias of ``name`` (no model is then the champion)."""
    client.delete_registered_model_alias(name, CHAMPION)


def model_versions(client: MlflowClient, name: str) -> list[Any]:
    """Every version of the registered model ``name`` (none when it does not exist)."""
    escaped = name.replace("'", "\\'")
    return list(client.search_model_versions(f"name='{escaped}'"))


def run_problem(client: MlflowClient, run_id: str | None) -> str | None:
    """Why the run behind a model version cannot vouch for it, or None when it FINISHED.

    A version is complete only if its run ended ``FINISHED`` (everything logged): a run that
    is ``RUNNING`` was killed or is still going, ``FAILED``/``KILLED`` ones stopped early.
    """
    if not run_id:
        return "it has no source run"
    try:
        run = client.get_run(run_id)
    except MlflowException:
        return f"its run {run_id} does not exist"
    if run.info.lifecycle_stage != "active":
        return f"its run {run_id} is deleted"
    if run.info.status != "FINISHED":
        return f"its run {run_id} is {run.info.status}, not FINISHED"
    return None


def model_problem(client: MlflowClient, model_uri: str) -> str | None:
    """Why the model behind ``model_uri`` must not be exported or served, or None.

    ``models:/NAME@ALIAS`` and ``models:/NAME/VERSION`` are refused when the version is marked
    incomplete or its run did not finish; ``runs:/RUN/...`` when the run did not finish.
    Other URIs (a logged model id, a directory) carry no run to check.
    """
    if model_uri.startswith("runs:/"):
        return run_problem(client, model_uri.removeprefix("runs:/").split("/", 1)[0])
    if not model_uri.startswith("models:/"):
        return None
    resolved = get_model_name_and_version(client, model_uri)
    if len(resolved) != 2:  # models:/<model id>: a logged model, not a registered version
        return None
    name, version = resolved
    mv = client.get_model_version(name, version)
    if mv.tags.get(INCOMPLETE_TAG) == "true":
        return f"version {version} of {name} is marked {INCOMPLETE_TAG}=true ({mv.tags.get(INCOMPLETE_REASON_TAG, '')})"
    problem = run_problem(client, mv.run_id)
    return None if problem is None else f"version {version} of {name}: {problem}"


def mark_incomplete(client: MlflowClient, name: str, version: str, reason: str) -> None:
    """Tag a version whose run did not finish, so that no one serves or compares against it."""
    client.set_model_version_tag(name, version, INCOMPLETE_TAG, "true")
    client.set_model_version_tag(name, version, INCOMPLETE_REASON_TAG, redact(reason))


def log_params(params: Mapping[str, Any]) -> None:
    """Log parameters of the active run, credentials redacted."""
    mlflow.log_params(_redacted(params))


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set tags of the active run, credentials redacted."""
    mlflow.set_tags(_redacted(tags))


def tag_run(client: MlflowClient, run_id: str, tags: Mapping[str, Any]) -> None:
    """Set tags of any run (also a finished one), credentials redacted."""
    for key, value in _redacted(tags).items():
        client.set_tag(run_id, key, value)


def _redacted(values: Mapping[str, Any]) -> dict[str, Any]:
    # numbers and booleans hold no credentials; MLflow stringifies them itself
    return {k: redact(v) if isinstance(v, str | Path) else v for k, v in values.items()}


@contextmanager
def redacted_errors() -> Iterator[None]:
    """Turn an MLflow error into a :class:`TrainingError` whose message holds no credentials.

    MLflow's messages quote the tracking URI (``API request to http://user:PW@host/... failed``),
    and the CLI prints them; the original is dropped (``from None``) because its text, and a
    traceback printing it, would carry the password.
    """
    try:
        yield
    except MlflowException as exc:
        raise TrainingError(f"MLflow: {redact(exc)}") from None
