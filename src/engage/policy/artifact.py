"""The policy as one versioned model artifact of plain files, and its MLflow pyfunc adapter.

A policy is written as a folder that any tool can read, with no pickle of live classes::

    format.json                 {"format": "engage-policy", "format_version": N}
    policy.json                 the spec, numbers, objective, typical actions, metadata
    candidates.parquet          the candidate actions (raw decision values, and ``_group``,
                                ``_support_rows``, ``_kind``: see CandidateSet)
    models/outcome-<i>.txt      LightGBM model text, one per outcome (outcome order in policy.json)
    models/propensity.txt       LightGBM model text of the logged-style propensity model
    models/style-corrections.txt  LightGBM model text of the per-style corrections (optional)
    intervals/intervals.json    per-recommendation interval model: outcomes, conformal
                                multipliers, floors, level (when policy.json's
                                ``interval_model`` is true; else every recommendation gets
                                ``interval_halfwidth``)
    intervals/interval-scale-<i>.txt  LightGBM model text of each outcome's scale model

``FORMAT_VERSION`` changes whenever a field is added, removed or changes meaning. The loader
reads that version only and every field of it strictly: a field missing from ``policy.json``
(or one it does not know), a candidate column or a model file missing, is an error that names
it; an artifact of another version is refused, saying what to do (an older one: retrain it).
``tests/fixtures/policy/`` holds a small artifact of the current version that tests load and
serve, so a change of format must bump the version on purpose and replace the fixture.

The MLflow model is a pyfunc with this module as its ``loader_module`` (MLflow calls
:func:`_load_pyfunc` with the artifact's folder) and the runtime core (``engage.contract`` and
``engage.policy``) as its code: this module needs no MLflow import.

Writing is :mod:`engage.policy.artifact_save`, reading :mod:`engage.policy.artifact_load`, the
layout's names and format checks :mod:`engage.policy.artifact_format` (all re-exported here).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from engage.contract.profiles import check_frame, profile_model
from engage.policy import FORMAT_VERSION
from engage.policy.artifact_format import (
    CANDIDATE_EXTRAS,
    FORMAT_FILE,
    FORMAT_NAME,
    POLICY_FIELDS,
    ArtifactError,
    read_format,
)
from engage.policy.artifact_load import load_policy
from engage.policy.artifact_save import save_policy
from engage.policy.policy import Policy
from engage.policy.results import Answer

__all__ = [
    "CANDIDATE_EXTRAS",
    "FORMAT_FILE",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "POLICY_FIELDS",
    "PREDICT_PARAMS",
    "ArtifactError",
    "PolicyPyfunc",
    "flatten",
    "load_policy",
    "parse_params",
    "read_format",
    "save_policy",
]


# Parameters the pyfunc's ``predict`` takes (declared in the model signature's params schema;
# without it MLflow drops them). ``objective`` is a JSON object of outcome weights, "" for the
# objective the policy was trained for.
PREDICT_PARAMS: dict[str, Any] = {"top_k": 3, "explain": True, "objective": ""}


def flatten(answer: Answer) -> dict[str, Any]:
    """One flat row for a profile's answer (the top recommendation) plus the JSON of it all."""
    top = answer.recommendations[0]
    row: dict[str, Any] = {"style": top.style, "score": top.score, "model_score": top.model_score}
    row.update({f"mix_{k}": v for k, v in top.posting_mix.items()})
    row.update(top.decisions)
    row["lift_vs_typical"] = top.lift_vs_typical
    row["support"] = top.support.level
    row["policy_mode"] = answer.policy.mode
    row["result_json"] = json.dumps(answer.to_dict(), sort_keys=True)
    return row


def parse_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """``predict``'s params as ``Policy.recommend`` keywords (``objective`` as a mapping).

    Raises:
        ValueError: ``objective`` is not a JSON object of outcome weights.
    """
    given = {**PREDICT_PARAMS, **(params or {})}
    objective = given["objective"]
    if isinstance(objective, str):
        try:
            objective = json.loads(objective) if objective.strip() else None
        except ValueError as exc:
            raise ValueError(f"params.objective is not JSON: {exc}") from exc
    if objective is not None and not isinstance(objective, dict):
        raise ValueError('params.objective must be a JSON object such as {"conversions": 1}')
    return {"top_k": int(given["top_k"]), "explain": bool(given["explain"]), "objective": objective}


class PolicyPyfunc:
    """What ``mlflow.pyfunc.load_model`` wraps: recommend-and-explain for a frame of profiles.

    Every profile is checked first by the API's profile check
    (:func:`engage.contract.profiles.profile_model`; numbers given as text are read as numbers,
    as in a CSV): one that does not fit fails the call with a
    :class:`~engage.contract.profiles.ProfileError` (a ``ValueError``) naming each bad row
    (the frame's index label), column and reason, and nothing is recommended. A frame is
    answered whole or not at all, as other pyfunc flavours do for bad input: error fields in
    the output would change its logged signature and let a caller use the good rows without
    noticing the bad ones.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._profile = profile_model(policy.spec, from_text=True)

    def get_raw_model(self) -> Policy:
        """The underlying :class:`Policy` (``PyFuncModel.get_raw_model()`` returns it)."""
        return self.policy

    def predict(
        self, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        """Top recommendation per profile.

        ``params`` may set ``top_k`` (default 3), ``explain`` (default true) and ``objective``
        (JSON object of outcome weights; default: the objective the policy was trained for).

        Raises:
            ProfileError: some profiles do not fit the spec (each row and column named).
        """
        frame = pd.DataFrame(model_input)
        check_frame(self._profile, self.policy.spec, frame)
        answers = self.policy.recommend(frame, **parse_params(params))
        return pd.DataFrame([flatten(a) for a in answers])


def _load_pyfunc(data_path: str) -> PolicyPyfunc:
    """MLflow's entry point for ``loader_module`` models."""
    return PolicyPyfunc(load_policy(data_path))
