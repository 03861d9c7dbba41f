"""A ranked candidate as the caller reads it, and each profile's policy note.

:class:`Describer` turns the numbers of a :class:`~engage.policy.ranking.Ranking` into the typed
records of :mod:`engage.policy.results`: the action with its decisions' labels, forecasts in the
outcomes' units, the support level, and the basis of its rank; and, for a constant policy, a
note naming its action and saying where it could not come first, and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engage.contract.spec import CampaignSpec, CategoricalColumn
from engage.policy.candidates import CandidateSet
from engage.policy.constraints import Constraints
from engage.policy.intervals import IntervalModel
from engage.policy.narration import Narrator
from engage.policy.notes import policy_note, support
from engage.policy.ranking import Ranking
from engage.policy.results import (
    Basis,
    ConfirmedGain,
    Fallback,
    OutcomeForecast,
    PolicyMode,
    PolicyNote,
    Recommendation,
)


@dataclass(frozen=True)
class Describer:
    """Describes ranked candidates and policy notes in a spec's terms.

    Attributes:
        spec: the contract: decisions, outcome units, category labels.
        candidates: the candidate actions.
        candidate_rows: the candidate frame as plain dicts (a pandas row lookup costs more
            than the rest of a recommendation).
        outcome_order: the policy's outcomes, in the order of its predictions.
        narrator: words the constant action and the notes.
        interval_model: per-recommendation interval half-widths (None: every recommendation
            gets the policy's constant half-width of each outcome).
    """

    spec: CampaignSpec
    candidates: CandidateSet
    candidate_rows: Sequence[Mapping[str, Any]]
    outcome_order: Sequence[str]
    narrator: Narrator
    interval_model: IntervalModel | None = None

    def halfwidths(
        self, context: np.ndarray, orders: Sequence[Sequence[int]], constant: Mapping[str, float]
    ) -> list[list[Mapping[str, float]]]:
        """Each shown recommendation's interval half-width per outcome: ``[i][rank - 1]`` for
        candidate ``orders[i][rank - 1]`` of profile ``i``.

        With an interval model, one call per outcome for the shown rows only (never all
        candidates); without one, ``constant`` for every recommendation.
        """
        if self.interval_model is None:
            return [[constant] * len(order) for order in orders]
        profile = [i for i, order in enumerate(orders) for _ in order]
        chosen = [int(j) for order in orders for j in order]
        rows = np.hstack([context[profile], self.candidates.encoded[chosen]])
        flat = self.interval_model.halfwidth_maps(rows, self.outcome_order, constant)
        out: list[list[Mapping[str, float]]] = []
        start = 0
        for order in orders:
            out.append(list(flat[start : start + len(order)]))
            start += len(order)
        return out

    def recommendation(
        self,
        rank: int,
        i: int,
        j: int,
        r: Ranking,
        *,
        halfwidth: Mapping[str, float],
        min_propensity: float,
        pinned: bool = False,
        basis: Basis = "constant",
    ) -> Recommendation:
        """Candidate ``j`` described for profile ``i`` of ranking ``r``.

        Args:
            rank: its rank in the answer, 1 for the first.
            i: the profile's row in the ranking.
            j: the candidate.
            r: the ranking (with the typical choice's objective).
            halfwidth: each outcome's interval half-width for this recommendation
                (:meth:`halfwidths`).
            min_propensity: the policy's support floor.
            pinned: it is the constant policy's action, first whatever its score.
        """
        g = int(r.rows(i)[j])  # the candidate's row in the candidate set
        row = self.candidate_rows[g]
        extra = self.spec.extra_decisions
        decisions = {
            c.name: str(row[c.name]) if isinstance(c, CategoricalColumn) else float(row[c.name])
            for c in extra
        }
        labels = {c.name: c.label(row[c.name]) for c in extra if isinstance(c, CategoricalColumn)}
        units = {o.name: o.unit for o in self.spec.outcomes}
        # an interval never leaves the range the spec declares for the outcome (a count's
        # interval does not go below 0 when the spec says its minimum is 0)
        bounds = {
            o.name: (-np.inf if o.min is None else o.min, np.inf if o.max is None else o.max)
            for o in self.spec.outcomes
        }
        pred = r.preds[i, j]
        predicted = {
            name: OutcomeForecast(
                mean=float(pred[o]),
                low=float(max(pred[o] - halfwidth.get(name, 0.0), bounds[name][0])),
                high=float(min(pred[o] + halfwidth.get(name, 0.0), bounds[name][1])),
                unit=units.get(name, ""),
            )
            for o, name in enumerate(self.outcome_order)
        }
        objective, discount = r.predicted_objective[i, j], r.discount[i, j]
        # answers are ranked with the typical choice and the support counts
        assert r.typical is not None and r.support_rows is not None
        return Recommendation(
            rank=rank,
            style=str(row[self.spec.style.name]),
            posting_mix={
                c.removeprefix("mix_"): round(float(row[c]), 4) for c in self.spec.mix_columns
            },
            decisions=decisions,
            predicted=predicted,
            # a pinned action's place rests on the decision, not on this score (see Recommendation)
            score=None if pinned else float(objective - discount),
            model_score=float(objective - discount),
            predicted_objective=float(objective),
            support_discount=float(discount),
            lift_vs_typical=float(objective - r.typical[i]),
            support=support(
                float(r.propensity[i, self.candidates.style_codes[g]]),
                min_propensity,
                r.support_rows[i, j],
            ),
            candidate_index=g,
            basis=basis if pinned else "personalized",
            decision_labels=labels,
        )

    def notes(
        self,
        mode: PolicyMode,
        constant_action: int | None,
        pinned: Sequence[bool],
        constraints: Constraints | None,
        to_baseline: Sequence[bool] | None = None,
    ) -> list[PolicyNote]:
        """The policy note of each profile's answer.

        A constant policy's note names its action and, for a profile whose first
        recommendation is not that action, says why: the caller's constraints exclude it, or
        else the log's support does.

        Args:
            mode: the policy's mode.
            constant_action: the constant policy's action (None: personalised).
            pinned: for each profile, whether the action the policy pins (the constant, or
                where ``to_baseline`` says so the profile's baseline) is its first recommendation.
            constraints: the caller's constraints, or None.
            to_baseline: for each profile, whether the policy pins its baseline action instead
                of the constant one (outside the constant action's support; None: none).
        """
        if mode != "constant" or constant_action is None:
            return [policy_note(mode)] * len(pinned)
        row = self.candidate_rows[constant_action]
        action = self.narrator.action(row)
        frame = self.candidates.frame.iloc[[constant_action]]
        excluded = constraints is not None and not bool(constraints.mask(frame, self.spec)[0])
        reason: Fallback = "outside_constraints" if excluded else "outside_support"
        style = self.narrator.style(row[self.spec.style.name])
        first = policy_note(mode, action)
        subjects = self.narrator.subjects
        fallback = policy_note(mode, action, reason, subjects=subjects, style=style)
        baseline = policy_note(
            mode, action, "outside_support", to_baseline=True, subjects=subjects, style=style
        )
        moved = to_baseline if to_baseline is not None else [False] * len(pinned)
        return [
            (baseline if b else first) if p else fallback
            for p, b in zip(pinned, moved, strict=True)
        ]


#: the training metric of the shipped policy's gain over the logged policy, as decided
_DECIDED_GAIN = "decision.gain_vs_logged"


def confirmed_gain(metrics: Mapping[str, Any]) -> ConfirmedGain | None:
    """The shipped policy's gain the shipping decision confirmed, from a model's training
    metrics (None: the model carries no decision figures)."""
    ends = ("", "_low", "_high")
    try:
        value, low, high = (float(metrics[_DECIDED_GAIN + end]) for end in ends)
    except (KeyError, TypeError, ValueError):
        return None
    return ConfirmedGain(value=value, low=low, high=high)
