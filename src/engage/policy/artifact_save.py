"""Writing a policy as an artifact folder of plain files (layout: :mod:`engage.policy.artifact`)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from engage.policy import FORMAT_VERSION
from engage.policy.artifact_format import (
    CANDIDATES_FILE,
    CORRECTIONS_FILE,
    FORMAT_FILE,
    FORMAT_NAME,
    INTERVALS_DIR,
    MODELS_DIR,
    POLICY_FIELDS,
    POLICY_FILE,
    PROPENSITY_FILE,
    outcome_file,
)
from engage.policy.policy import Policy


def _booster_text(booster: lgb.Booster) -> str:
    return booster.model_to_string(num_iteration=-1)


def _finite_or_none(value: float | np.floating[Any]) -> float | None:
    return float(value) if math.isfinite(float(value)) else None


def save_policy(policy: Policy, directory: str | Path) -> Path:
    """Write ``policy`` as an artifact folder (created; must be empty or new); its path."""
    directory = Path(directory)
    models = directory / MODELS_DIR
    models.mkdir(parents=True, exist_ok=True)
    order = list(policy.outcome_models)
    for i, name in enumerate(order):
        (models / outcome_file(i)).write_text(_booster_text(policy.outcome_models[name]))
    (models / PROPENSITY_FILE).write_text(_booster_text(policy.propensity_model))
    corr = policy.style_corrections
    if corr is not None:
        (models / CORRECTIONS_FILE).write_text(_booster_text(corr.booster))
    if policy.interval_model is not None:
        policy.interval_model.save(directory / INTERVALS_DIR)
    cands = policy.candidates
    frame = cands.frame.assign(
        _group=np.asarray(cands.group, dtype=int),
        _support_rows=np.asarray(cands.support_rows, dtype=float),
        _kind=np.asarray(cands.kind, dtype=str),
    )
    frame.to_parquet(directory / CANDIDATES_FILE, index=False)
    fields = {
        "spec": policy.spec.model_dump(mode="json"),
        "outcome_models": order,
        "propensity_temperature": float(policy.propensity_temperature),
        "min_propensity": float(policy.min_propensity),
        "pessimism": float(policy.pessimism),
        "n_train": int(policy.n_train),
        "score_sd": float(policy.score_sd),
        "mode": policy.mode,
        "constant_action": None if policy.constant_action is None else int(policy.constant_action),
        "interval_halfwidth": {k: float(v) for k, v in policy.interval_halfwidth.items()},
        "interval_level": float(policy.interval_level),
        "objective": {k: float(v) for k, v in policy.objective.items()},
        "typical_actions": np.asarray(policy.typical_actions, dtype=float).tolist(),
        "style_corrections": None
        if corr is None
        else {
            "outcomes": list(corr.outcomes),
            "n_styles": int(corr.n_styles),
            "offsets": np.asarray(corr.offsets, dtype=float).tolist(),
        },
        "metadata": _jsonable(policy.metadata),
        "clusters": policy.clusters.to_json(),
        "baseline": np.asarray(policy.baseline, dtype=int).tolist(),
        "min_support_rows": float(policy.min_support_rows),
        "constant_scope": policy.constant_scope,
        "constant_min_propensity": float(policy.constant_min_propensity),
        # NaN (a count not measured) as None: JSON has no NaN
        "shared_support": [
            [_finite_or_none(v) for v in row] for row in np.asarray(policy.shared_support)
        ],
        "interval_model": policy.interval_model is not None,
    }
    assert set(fields) == POLICY_FIELDS, "save_policy and POLICY_FIELDS disagree"
    (directory / POLICY_FILE).write_text(
        json.dumps(fields, indent=1, sort_keys=True, allow_nan=False)
    )
    # written last: a folder without it is not a (complete) artifact
    (directory / FORMAT_FILE).write_text(
        json.dumps({"format": FORMAT_NAME, "format_version": FORMAT_VERSION}) + "\n"
    )
    return directory


def _jsonable(value: Any) -> Any:
    """Metadata as strict JSON: non-finite floats become None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return _finite_or_none(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
