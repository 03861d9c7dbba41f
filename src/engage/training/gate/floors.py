"""The personalised policy's support floors: which the gate tries, and what the policy
chooses at each without ranking again."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engage.policy.policy import Policy
from engage.policy.ranking import Ranking

# Profiles ranked at once when the gate has the policy choose for every row of the log: the
# memory of a ranking grows with the profiles times the candidates, and its speed does not
# (LightGBM predicts row by row, so a batch's predictions are those of the whole).
CHOICE_BATCH = 5_000


@dataclass(frozen=True)
class FloorChoices:
    """What a policy chooses for a batch of profiles at each support floor."""

    rows: dict[float, np.ndarray]  # the candidate row of each profile's choice, per floor
    predicted: dict[float, np.ndarray]  # the choosing models' objective of that choice


def floors_to_try(policy: Policy, personal_floors: tuple[float, ...]) -> tuple[float, ...]:
    """The support floors the gate tries for the personalised policy: its own
    ``min_propensity`` first, then each of ``personal_floors`` above it."""
    own = float(policy.min_propensity)
    return (own, *sorted({float(f) for f in personal_floors if f > own}))


def choose_at_floors(
    policy: Policy,
    context: np.ndarray,
    floors: tuple[float, ...],
    objective: dict[str, float] | None,
) -> FloorChoices:
    """:func:`chosen_at_floors` of the policy's ranking of ``context``, and the choosing models'
    objective of each choice, ranked :data:`CHOICE_BATCH` profiles at a time and predicting
    only the candidates a profile may be recommended (``Policy.rank(allowed_only=True)``): the
    same choices as one whole ranking, at the cost of the allowed candidates alone."""
    n = len(context)
    rows = {f: np.empty(n, dtype=int) for f in floors}
    predicted = {f: np.empty(n) for f in floors}
    for start in range(0, n, CHOICE_BATCH):
        part = slice(start, min(n, start + CHOICE_BATCH))
        ranking = policy.rank(context[part], objective, allowed_only=True)
        assert ranking.index is not None
        at = np.arange(len(ranking.choice))
        for f, position in _positions_at_floors(ranking, policy, floors).items():
            rows[f][part] = ranking.index[at, position]
            predicted[f][part] = ranking.predicted_objective[at, position]
    return FloorChoices(rows, predicted)


def chosen_at_floors(
    ranking: Ranking, policy: Policy, floors: tuple[float, ...]
) -> dict[float, np.ndarray]:
    """The candidate row each profile of ``ranking`` gets from the personalised policy when no
    style below the floor may be recommended, for each floor: what ranking again with
    ``min_propensity`` raised to it gives, without scoring again. A profile keeps its baseline
    action (its likeliest style) at any floor it clears; one with nothing left keeps its choice."""
    assert ranking.index is not None
    at = np.arange(len(ranking.choice))
    return {
        f: np.asarray(ranking.index[at, position])
        for f, position in _positions_at_floors(ranking, policy, floors).items()
    }


def _positions_at_floors(
    ranking: Ranking, policy: Policy, floors: tuple[float, ...]
) -> dict[float, np.ndarray]:
    """:func:`chosen_at_floors` as positions in the ranking."""
    assert ranking.index is not None
    codes = policy.candidates.style_codes[ranking.index]
    prop = np.take_along_axis(ranking.propensity, codes, axis=1)
    out = {}
    for floor in floors:
        ok = ranking.allowed & (prop >= floor)
        ok[~ok.any(1)] = ranking.allowed[~ok.any(1)]
        out[floor] = np.where(ok, ranking.score, -np.inf).argmax(1)
    return out
