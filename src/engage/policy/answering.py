"""A batch of encoded profiles answered: ranked alternatives per style, the pin of a constant
or baseline policy, the explanation of the first choice against the runner-up, the policy note
and the training figures (what :meth:`Policy.recommend <engage.policy.policy.Policy.recommend>`
returns)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from engage.policy.constraints import Constraints
from engage.policy.fit import with_training_figures
from engage.policy.ranking import Ranking, rank_styles, runner_up
from engage.policy.results import Answer, Basis, Explanation

if TYPE_CHECKING:
    from engage.policy.policy import Policy


def answer_context(
    policy: Policy,
    context: np.ndarray,
    *,
    top_k: int,
    objective: dict[str, float] | None,
    constraints: Constraints | None,
    explain: bool,
) -> list[Answer]:
    """:meth:`Policy.recommend_context <engage.policy.policy.Policy.recommend_context>`."""
    r = policy._rank(context, objective, constraints, typical=True)
    constant = policy.constant_action if policy.mode == "constant" else None
    pinned = [
        r.pinned is not None and 0 <= int(r.pinned[i]) == int(r.choice[i])
        for i in range(len(context))
    ]
    codes = [policy.candidates.style_codes[r.rows(i)] for i in range(len(context))]
    orders = [
        logging_order(r, i, top_k)
        if r.logging is not None and pinned[i]
        else rank_styles(r.score[i], r.allowed[i], codes[i], r.choice[i], top_k, pinned=pinned[i])
        for i in range(len(context))
    ]
    # a logging policy's options are all drawn, none ranked by score (basis "logging")
    every = [r.logging is not None and p for p in pinned]
    pairs = [(i, o[0], runner_up(o, codes[i])) for i, o in enumerate(orders) if len(o) >= 2]
    # the candidate row each profile's pin names (-1: none), and what pinned it: the
    # constant action, or the profile's baseline (a baseline policy's, or a supported
    # constant's where its action lacks support)
    pin_rows = (
        np.full(len(context), -1)
        if r.pinned is None
        else np.where(r.pinned >= 0, r.index[np.arange(len(context)), np.maximum(r.pinned, 0)], -1)
    )
    to_baseline = [policy.mode == "constant" and 0 <= int(row) != constant for row in pin_rows]
    bases: list[Basis] = ["baseline" if b else policy._pinned_basis for b in to_baseline]
    explanations: dict[int, Explanation] = {}
    if explain and pairs:  # one pred_contrib call per outcome model for the whole batch
        found = policy.explainer.explain_pairs(
            context,
            pairs,
            r.weights,
            r.discount,
            r.preds,
            None if r.pinned is None else pin_rows,
            index=r.index,
            basis=bases,
        )
        explanations = {i: e for (i, _, _), e in zip(pairs, found, strict=True)}
    notes = policy.describer.notes(
        policy.mode, policy.constant_action, pinned, constraints, to_baseline=to_baseline
    )
    unit = policy.narrator.score_unit(policy._outcome_order, r.weights).description
    notes, explanations, fit = with_training_figures(
        policy.metadata.get("metrics", {}), policy._outcome_order, r.weights, notes, explanations
    )
    describe = partial(policy.describer.recommendation, min_propensity=policy.min_propensity)
    shown = [[int(r.rows(i)[j]) for j in order] for i, order in enumerate(orders)]
    widths = policy.describer.halfwidths(context, shown, policy.interval_halfwidth)
    return [
        Answer(
            recommendations=tuple(
                describe(
                    rank,
                    i,
                    j,
                    r,
                    pinned=pinned[i] and (rank == 1 or every[i]),
                    halfwidth=widths[i][rank - 1],
                    basis=bases[i],
                )
                for rank, j in enumerate(order, start=1)
            ),
            policy=notes[i],
            explanation=explanations.get(i),
            score_unit=unit,
            fit=fit,
        )
        for i, order in enumerate(orders)
    ]


def logging_order(r: Ranking, i: int, top_k: int) -> list[int]:
    """A logging policy's options for profile ``i`` of ``r``, in positions: the drawn one (the
    pin) first, then the action of every other style it may draw, most likely first (the
    serving layer draws among them again with the decision id: every option must be listed
    when it asks for one per style)."""
    assert r.logging is not None and r.pinned is not None
    index, p, rows = r.rows(i), r.logging.probability[i], r.logging.rows[i]
    first = int(r.pinned[i])
    drawn = int(np.flatnonzero(rows == index[first])[0])
    others = [k for k in np.argsort(-p, kind="stable") if p[k] > 0 and k != drawn]
    positions = [int(np.flatnonzero(index == rows[k])[0]) for k in others]
    return [first, *positions][:top_k]
