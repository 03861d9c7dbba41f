"""The policy as one self-contained model artifact.

The MLflow model is a pyfunc flavour with this module as its ``loader_module`` and the
``features`` package shipped in ``code_paths``: MLflow calls :func:`_load_pyfunc` with the
artifact's data directory, which holds ``policy.pkl``. This module needs no MLflow import,
so ``features`` stays free of the tracking client.

``predict`` takes a frame of profiles (the spec's context columns) and returns one row per
profile: the top recommendation flattened into columns, and the full answer (ranked
recommendations, explanation, policy note) as JSON in ``result_json``.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pandas as pd

from engage.policy import SCHEMA_VERSION
from engage.policy.policy import Policy

POLICY_FILE = "policy.pkl"


class ArtifactError(RuntimeError):
    """The artifact cannot be read by this version of the code."""


def save_policy(policy: Policy, directory: str | Path) -> Path:
    """Write the policy into ``directory`` (created) and return the file's path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / POLICY_FILE
    with path.open("wb") as fh:
        pickle.dump({"schema_version": SCHEMA_VERSION, "policy": policy}, fh, protocol=5)
    return path


def load_policy(directory: str | Path) -> Policy:
    """Read a policy written by :func:`save_policy`.

    Raises:
        ArtifactError: missing file or a schema version this code does not read.
    """
    path = Path(directory)
    if path.is_dir():
        path = path / POLICY_FILE
    if not path.exists():
        raise ArtifactError(f"no policy file at {path}")
    with path.open("rb") as fh:
        payload = pickle.load(fh)  # noqa: S301 - our own artifact, written by save_policy
    if payload.get("schema_version") != SCHEMA_VERSION:
        raise ArtifactError(
            f"artifact schema version {payload.get('schema_version')!r} != {SCHEMA_VERSION!r}"
        )
    return payload["policy"]


def flatten(answer: dict[str, Any]) -> dict[str, Any]:
    """One flat row for a profile's answer (the top recommendation) plus the JSON of it all."""
    top = answer["recommendations"][0]
    row: dict[str, Any] = {"style": top["style"], "score": top["score"]}
    row.update({f"mix_{k}": v for k, v in top["posting_mix"].items()})
    row.update(top["decisions"])
    row["lift_vs_typical"] = top["lift_vs_typical"]
    row["support"] = top["support"]["level"]
    row["policy_mode"] = answer["policy"]["mode"]
    row["result_json"] = json.dumps(answer, sort_keys=True)
    return row


class PolicyPyfunc:
    """What ``mlflow.pyfunc.load_model`` wraps: recommend-and-explain for a frame of profiles."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def get_raw_model(self) -> Policy:
        """The underlying :class:`Policy` (``PyFuncModel.get_raw_model()`` returns it)."""
        return self.policy

    def predict(self, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Top recommendation per profile; ``params`` may set ``top_k`` and ``explain``."""
        params = params or {}
        answers = self.policy.recommend(
            pd.DataFrame(model_input),
            top_k=int(params.get("top_k", 3)),
            explain=bool(params.get("explain", True)),
        )
        return pd.DataFrame([flatten(a) for a in answers])


def _load_pyfunc(data_path: str) -> PolicyPyfunc:
    """MLflow's entry point for ``loader_module`` models."""
    return PolicyPyfunc(load_policy(data_path))
