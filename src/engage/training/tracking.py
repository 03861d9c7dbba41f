"""Logging a training run: its parameters, tags, datasets and headline figures.

The store, the model artifact, registration, the ``champion`` alias and the rule for which
versions may be served live in :mod:`engage.registry`. Every parameter, tag and error text this
module writes or raises passes through :func:`~engage.contract.redaction.redact`: tracking URIs
carry passwords, and MLflow echoes them in its error messages.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
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
from mlflow.models import infer_signature
from mlflow.types.schema import Schema

from engage.contract.redaction import redact
from engage.registry.models import PACKAGE_DIR
from engage.registry.store import redacted_values
from engage.training.split import TrainingError


def git_sha() -> str:
    """The commit of the working tree, or ``unknown`` outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=PACKAGE_DIR,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


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
    dataset = mlflow.data.from_pandas(
        df, source=local_source(source), name=redact(name), digest=digest
    )
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

    The two gains are the figures the shipping decision was made on (``decision.*``, from
    :func:`engage.training.gate.decision_metrics`), the same the decision's reason, the
    report's headline and the run's summary print.
    """
    whole, bounds = ("", "_low", "_high"), ("_low", "_high")
    sources = {
        "shipped_dr": ("ope.shipped.dr", whole),
        "shipped_range": ("ope.shipped.range", bounds),  # its value is shipped_dr's
        "gain_vs_logged": ("decision.gain_vs_logged", whole),
        "learned_gain_vs_best_constant": ("decision.gain_vs_constant", whole),
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


def log_params(params: Mapping[str, Any]) -> None:
    """Log parameters of the active run, credentials redacted."""
    mlflow.log_params(redacted_values(params))


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set tags of the active run, credentials redacted."""
    mlflow.set_tags(redacted_values(tags))


def tag_run(client: MlflowClient, run_id: str, tags: Mapping[str, Any]) -> None:
    """Set tags of any run (also a finished one), credentials redacted."""
    for key, value in redacted_values(tags).items():
        client.set_tag(run_id, key, value)


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
