"""What full-action exploration needs from the served model: where a request's continuous
draws may land (the spec's declared ranges, the caller's constraints, the candidate set's
spread) and the model's predicted objective of nearby actions (for the budget)."""

from __future__ import annotations

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


def continuous_of(
    policy: Policy,
    constraints: Constraints | None,
    row: list[Any],
    objective: dict[str, float] | None,
) -> Continuous:
    """The :class:`~engage.decisions.capture.Continuous` of one request's profile ``row``."""
    spec = policy.spec
    numeric = [c for c in spec.extra_decisions if isinstance(c, NumericColumn)]
    caps = constraints.mix_max if constraints else {}
    low = constraints.numeric_min if constraints else {}
    high = constraints.numeric_max if constraints else {}
    frame = policy.candidates.frame
    where = region(
        [float(caps.get(c, 1.0)) for c in spec.mix_columns],
        [(c.min, c.max) for c in numeric],
        [(low.get(c.name), high.get(c.name)) for c in numeric],
        [frame[c.name].to_numpy(float) for c in numeric],
    )
    context = policy.builder.encode_rows([row])
    weights = policy.weights(objective)

    names = spec.decision_names
    mix_at = [names.index(c) for c in spec.mix_columns]
    numeric_at = [names.index(c.name) for c in numeric]

    def of(rec: Any) -> Objective:
        # mix shares and numeric decisions are encoded as they are (FeatureBuilder): take the
        # recommendation's encoded candidate row (else encode it) and overwrite those columns
        index = getattr(rec, "candidate_index", None)
        if index is not None and 0 <= index < len(policy.candidates):
            encoded = policy.candidates.encoded[index : index + 1]
        else:
            action = {
                spec.style.name: rec.style,
                **{f"mix_{k}": v for k, v in rec.posting_mix.items()},
                **rec.decisions,
            }
            encoded = policy.builder.encode_decisions(pd.DataFrame([action])[names])

        def predicted(mixes: np.ndarray, nums: np.ndarray) -> np.ndarray:
            rows = np.repeat(np.hstack([context, encoded]), len(mixes), axis=0)
            offset = context.shape[1]
            rows[:, [offset + j for j in mix_at]] = mixes
            rows[:, [offset + j for j in numeric_at]] = nums
            return weighted(policy.predict_outcomes(rows), weights)

        return predicted

    return Continuous(
        where=where,
        mix_keys=[c.removeprefix("mix_") for c in spec.mix_columns],
        numeric=[c.name for c in numeric],
        objective=of,
    )
