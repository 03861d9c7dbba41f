"""The personalised policy's support floors: which the gate tries, and what the policy
chooses at each without ranking again."""

from __future__ import annotations

import numpy as np

from engage.policy.policy import Policy
from engage.policy.ranking import Ranking


def floors_to_try(policy: Policy, personal_floors: tuple[float, ...]) -> tuple[float, ...]:
    """The support floors the gate tries for the personalised policy: its own
    ``min_propensity`` first, then each of ``personal_floors`` above it."""
    own = float(policy.min_propensity)
    return (own, *sorted({float(f) for f in personal_floors if f > own}))


def chosen_at_floors(
    ranking: Ranking, policy: Policy, floors: tuple[float, ...]
) -> dict[float, np.ndarray]:
    """The candidate row each profile of ``ranking`` gets from the personalised policy when no
    style below the floor may be recommended, for each floor: what ranking again with
    ``min_propensity`` raised to it gives, without scoring again. A profile keeps its baseline
    action (its likeliest style) at any floor it clears; one with nothing left keeps its choice."""
    assert ranking.index is not None
    codes = policy.candidates.style_codes[ranking.index]
    prop = np.take_along_axis(ranking.propensity, codes, axis=1)
    rows = np.arange(len(ranking.choice))
    out = {}
    for floor in floors:
        ok = ranking.allowed & (prop >= floor)
        ok[~ok.any(1)] = ranking.allowed[~ok.any(1)]
        choice = np.where(ok, ranking.score, -np.inf).argmax(1)
        out[floor] = np.asarray(ranking.index[rows, choice])
    return out
