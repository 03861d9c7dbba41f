"""What full-action exploration needs from the served model: where a request's continuous
draws may land (the spec's declared ranges, the caller's constraints, the candidate set's
spread) and the model's predicted objective of nearby actions (for the budget)."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engage.contract.spec import NumericColumn
from engage.decisions.capture import Continuous
from engage.policy.constraints import Constraints
from engage.policy.exploration import Exploration, Objective, region
from engage.policy.policy import Policy
from engage.policy.scoring import weighted
from engage.serving.settings import ServeSettings


def exploration_from(option: Any, settings: ServeSettings) -> Exploration:
    """A request's exploration (its ``ExplorationOption`` or None), its unset parts from the
    settings."""

    def pick(name: str, setting: Any) -> Any:
        value = getattr(option, name, None) if option is not None else None
        return setting if value is None else value

    return Exploration(
        option.method if option else settings.exploration,
        pick("epsilon", settings.exploration_epsilon),
        pick("temperature", settings.exploration_temperature),
        pick("full", settings.exploration_full),
        pick("budget", settings.exploration_budget),
    )


@dataclass(frozen=True)
class _Fixed:
    """What a policy's exploration reads from it on every request, taken once per policy."""

    numeric: list[NumericColumn]
    spans: list[np.ndarray]  # each numeric decision's candidate values
    mix_at: list[int]  # positions of the mix shares among the encoded decisions
    numeric_at: list[int]


_FIXED: dict[int, tuple[weakref.ref[Policy], _Fixed]] = {}
_FIXED_LOCK = threading.Lock()


def _fixed(policy: Policy) -> _Fixed:
    """The policy's :class:`_Fixed`, built on its first request (a served policy is immutable)."""
    key = id(policy)
    held = _FIXED.get(key)
    if held is not None and held[0]() is policy:
        return held[1]
    spec = policy.spec
    numeric = [c for c in spec.extra_decisions if isinstance(c, NumericColumn)]
    names = spec.decision_names
    frame = policy.candidates.frame
    fixed = _Fixed(
        numeric,
        [frame[c.name].to_numpy(float) for c in numeric],
        [names.index(c) for c in spec.mix_columns],
        [names.index(c.name) for c in numeric],
    )
    with _FIXED_LOCK:
        _FIXED[key] = (weakref.ref(policy, lambda _: _FIXED.pop(key, None)), fixed)
    return fixed


def continuous_of(
    policy: Policy,
    constraints: Constraints | None,
    row: list[Any],
    objective: dict[str, float] | None,
) -> Continuous:
    """The :class:`~engage.decisions.capture.Continuous` of one request's profile ``row``."""
    spec = policy.spec
    fixed = _fixed(policy)
    numeric = fixed.numeric
    caps = constraints.mix_max if constraints else {}
    low = constraints.numeric_min if constraints else {}
    high = constraints.numeric_max if constraints else {}
    where = region(
        [float(caps.get(c, 1.0)) for c in spec.mix_columns],
        [(c.min, c.max) for c in numeric],
        [(low.get(c.name), high.get(c.name)) for c in numeric],
        fixed.spans,
    )
    context = policy.builder.encode_rows([row])
    weights = policy.weights(objective)
    return Continuous(
        where=where,
        mix_keys=[c.removeprefix("mix_") for c in spec.mix_columns],
        numeric=[c.name for c in numeric],
        objective=lambda rec: _predicted(policy, fixed, context, weights, rec),
    )


def _predicted(
    policy: Policy, fixed: _Fixed, context: np.ndarray, weights: np.ndarray, rec: Any
) -> Objective:
    """The model's predicted objective of the recommendation's action with its mix and numeric
    decisions replaced (they are encoded as they are, FeatureBuilder): its encoded candidate
    row (else the action encoded) with those columns overwritten."""
    spec = policy.spec
    index = getattr(rec, "candidate_index", None)
    if index is not None and 0 <= index < len(policy.candidates):
        encoded = policy.candidates.encoded[index : index + 1]
    else:
        action = {
            spec.style.name: rec.style,
            **{f"mix_{k}": v for k, v in rec.posting_mix.items()},
            **rec.decisions,
        }
        encoded = policy.builder.encode_decisions(pd.DataFrame([action])[spec.decision_names])
    known = getattr(rec, "predicted_objective", None)
    corrected = policy.predictor.corrections is not None

    def predicted(mixes: np.ndarray, nums: np.ndarray) -> np.ndarray:
        rows = np.repeat(np.hstack([context, encoded]), len(mixes) + 1, axis=0)
        offset = context.shape[1]
        rows[1:, [offset + j for j in fixed.mix_at]] = mixes
        rows[1:, [offset + j for j in fixed.numeric_at]] = nums
        if corrected and known is None:
            return weighted(policy.predict_outcomes(rows[1:]), weights)
        # the style correction is a function of the profile and style alone, the same for
        # every row here: read it off the recommendation's own prediction (row 0, unchanged)
        # rather than ask its booster again
        values = weighted(policy.predictor.model_outcomes(rows), weights)
        shift = float(known) - values[0] if corrected and known is not None else 0.0
        out: np.ndarray = values[1:] + shift
        return out

    return predicted
