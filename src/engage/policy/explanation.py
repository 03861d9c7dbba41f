"""Contrastive explanations: why the first choice ranks above the runner-up, computed by the model.

A factor is one feature's difference between the two candidates' LightGBM ``pred_contrib``
contributions to the predicted objective (outcome models and style corrections together),
plus a ``support`` factor for the difference in support discount. All contributions sum
exactly to the score difference they explain, so the listed factors and ``other_factors``
do too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engage.policy.candidates import CandidateSet
from engage.policy.encoding import FeatureBuilder
from engage.policy.narration import Narrator, context_value
from engage.policy.results import Explanation, Factor, FactorValue
from engage.policy.scoring import OutcomePredictor

MAX_FACTORS = 5
NEGLIGIBLE = 1e-12  # a contribution this small is float noise, not a reason


def contributions(
    models: OutcomePredictor,
    rows: np.ndarray,
    weights: np.ndarray,
    row_profile: np.ndarray | None = None,
) -> np.ndarray:
    """Per-feature contributions to the weighted objective of encoded rows, (n, F + 1).

    Args:
        models: the outcome models and style corrections.
        rows: encoded feature rows (context, then decisions).
        weights: signed objective weights in ``models``' outcome order.
        row_profile: optional numbers of the distinct profiles among the rows (rows with equal
            numbers have equal context columns): the style corrections, a function of the
            profile only, are then explained once per profile instead of once per row.

    Returns:
        Contributions with the bias last; each row sums to the row's predicted objective.
    """
    total = np.zeros((len(rows), rows.shape[1] + 1))
    for w, booster in zip(weights, models.boosters, strict=True):
        if w != 0:  # pred_contrib is the expensive call: skip outcomes the objective ignores
            total += w * np.asarray(booster.predict(rows, pred_contrib=True, num_threads=1))
    corr = models.corrections
    if corr is None:
        return total
    n_ctx = models.n_context
    if row_profile is None:
        row_profile = np.arange(len(rows))
    first = np.unique(row_profile, return_index=True)[1]  # one row per profile, in number order
    profile_contrib = corr.contributions(rows[first, :n_ctx])
    profile_of_row = np.searchsorted(row_profile[first], row_profile)
    c = profile_contrib[profile_of_row, :, rows[:, n_ctx].astype(int), :]  # each row's own style
    w_corr = np.zeros(len(corr.outcomes))  # the objective's weights in the corrections' order
    w_corr[models.correction_columns] = weights
    c = np.einsum("o,nof->nf", w_corr, c)
    total[:, :n_ctx] += c[:, :-1]
    total[:, -1] += c[:, -1]
    return total


@dataclass(frozen=True)
class Explainer:
    """Explains pairs of candidates for profiles.

    Attributes:
        models: the policy's outcome models.
        candidates: the candidate actions.
        candidate_rows: the candidate frame as plain dicts (a pandas row lookup costs more
            than the rest of a factor).
        builder: the feature builder, for feature names and crossing profiles with actions.
        narrator: words the factors.
    """

    models: OutcomePredictor
    candidates: CandidateSet
    candidate_rows: Sequence[Mapping[str, Any]]
    builder: FeatureBuilder
    narrator: Narrator

    def explain_pairs(
        self,
        context: np.ndarray,
        pairs: Sequence[tuple[int, int, int]],
        weights: np.ndarray,
        discount: np.ndarray,
    ) -> list[Explanation]:
        """Why ``chosen`` ranks above ``runner_up``, for many ``(profile, chosen, runner_up)``.

        The contributions of all pairs come from one ``pred_contrib`` call per outcome model:
        the call, not the row, is what a batch of single-profile requests would otherwise pay
        for again and again.

        Args:
            context: encoded profiles, (n, n_context).
            pairs: ``(profile row, chosen candidate, runner-up candidate)`` triples.
            weights: signed objective weights in outcome order.
            discount: the support discount of every candidate, (n, k).

        Returns:
            One explanation per pair, in order.
        """
        rows = np.vstack(
            [
                self.builder.cross(context[i][None, :], self.candidates.encoded[[a, b]])
                for i, a, b in pairs
            ]
        )
        contrib = contributions(self.models, rows, weights, np.repeat(np.arange(len(pairs)), 2))
        return [
            self._explanation(
                context[i], a, b, contrib[2 * p], contrib[2 * p + 1], discount[i, [a, b]]
            )
            for p, (i, a, b) in enumerate(pairs)
        ]

    def _explanation(
        self,
        context_row: np.ndarray,
        chosen: int,
        runner_up: int,
        contrib_a: np.ndarray,
        contrib_b: np.ndarray,
        disc: np.ndarray,
    ) -> Explanation:
        diff = contrib_a - contrib_b
        disc = np.asarray(disc, dtype=float)
        support = -(disc[0] - disc[1])
        a, b = self.candidate_rows[chosen], self.candidate_rows[runner_up]
        factors = self._factors(context_row, diff, support, a, b)
        score_diff = float((contrib_a.sum() - disc[0]) - (contrib_b.sum() - disc[1]))
        total = float(diff.sum() + support)
        style = self.narrator.spec.style.name
        return Explanation(
            chosen_style=str(a[style]),
            runner_up_style=str(b[style]),
            score_difference=score_diff,
            contributions_sum=total,
            factors=factors,
            other_factors=float(total - sum(x.contribution for x in factors)),
        )

    def _factors(
        self,
        context_row: np.ndarray,
        diff: np.ndarray,
        support: float,
        a: Mapping[str, Any],
        b: Mapping[str, Any],
    ) -> tuple[Factor, ...]:
        """The largest contributions, largest first; -1 stands for the support factor."""
        names = self.builder.feature_names
        sizes = [(abs(diff[f]), f) for f in range(len(names))]
        sizes.append((abs(support), -1))
        factors = []
        for size, f in sorted(sizes, key=lambda t: -t[0])[:MAX_FACTORS]:
            if size < NEGLIGIBLE:
                break
            if f == -1:
                sentence = self.narrator.support_sentence(a, b, support)
                factors.append(Factor("support", None, None, float(support), sentence))
                continue
            name = names[f]
            if name in a:  # a decision: the two candidates' values
                raw, other = a[name], (_jsonable(b[name]) if name in b else None)
                sentence = self.narrator.factor_sentence(name, diff[f], a, b)
            else:  # a profile feature: the profile's value
                raw = context_value(self.narrator.spec, name, context_row[f])
                other = None
                sentence = self.narrator.factor_sentence(name, diff[f], a, b, raw)
            factors.append(Factor(name, _jsonable(raw), other, float(diff[f]), sentence))
        return tuple(factors)


def _jsonable(value: object) -> FactorValue:
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    return str(value)
