"""Contrastive explanations: why the first choice ranks above the runner-up, computed by the model.

A factor is one feature's difference between the two candidates' LightGBM ``pred_contrib``
contributions to the predicted objective (outcome models and style corrections together),
plus a ``support`` factor for the difference in support discount. All contributions sum
exactly to the score difference they explain, so the listed factors and ``other_factors``
do too.

Which factors are listed (:func:`select_factors`): the largest, up to :data:`MAX_FACTORS`;
factors below :data:`SMALL_SHARE` of all factors' absolute sum are grouped in
``other_factors``; and while the group outweighs the largest listed factor or
:data:`OTHER_SHARE` of the difference, more are listed, up to :data:`MAX_LISTED`. If it still
does, its sentence says so. Listed factors in favour of the choice come first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engage.policy.candidates import CandidateSet
from engage.policy.encoding import FeatureBuilder
from engage.policy.narration import Gap, Narrator, ScoreUnit, context_value
from engage.policy.results import Basis, Explanation, Factor, FactorValue
from engage.policy.scoring import OutcomePredictor

MAX_FACTORS = 5  # listed when the factors left over are small
MAX_LISTED = 8  # listed at most: beyond that a list stops being read
SMALL_SHARE = 0.05  # below this share of all factors' absolute sum a factor is grouped
OTHER_SHARE = 0.5  # the grouped factors must stay below this share of the difference
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


def select_factors(values: np.ndarray, total: float) -> tuple[list[int], str]:
    """Which factors to list, in the order listed, and what the unlisted ones outweigh.

    Args:
        values: every factor's contribution.
        total: their sum (the score difference explained).

    Returns:
        The indices of the factors to list (those in favour first, then those against, each
        largest first) and ``""``, or what the unlisted ones together outweigh even so:
        ``"any factor listed"`` or ``"half the difference"``.
    """
    size = np.abs(values)
    floor = max(NEGLIGIBLE, SMALL_SHARE * float(size.sum()))
    order = [int(f) for f in np.argsort(-size, kind="stable") if size[f] >= floor]
    n = min(MAX_FACTORS, len(order))
    while n < min(MAX_LISTED, len(order)) and _outweighs(values, order[:n], total):
        n += 1
    listed = order[:n]
    side = [int(f) for f in np.argsort(-size, kind="stable") if values[f] * total > 0]
    if abs(total) >= NEGLIGIBLE and side and not any(values[f] * total > 0 for f in listed):
        # an explanation argues for what it explains: list the largest factor on its side
        # even when it is small (many small effects then outweigh a few large ones)
        listed = [*listed[: MAX_LISTED - 1], side[0]]
    listed.sort(key=lambda f: (values[f] <= 0, -size[f]))  # in favour first, each largest first
    return listed, _outweighs(values, listed, total)


def _outweighs(values: np.ndarray, listed: Sequence[int], total: float) -> str:
    """What the unlisted factors' sum outweighs ("" if nothing)."""
    rest = abs(total - float(values[list(listed)].sum())) if listed else abs(total)
    if rest < NEGLIGIBLE:
        return ""
    if not listed or rest > float(np.abs(values[list(listed)]).max()):
        return "any factor listed"
    return "half the difference" if rest > OTHER_SHARE * abs(total) else ""


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
        preds: np.ndarray | None = None,
        pinned: int | np.ndarray | None = None,
        index: np.ndarray | None = None,
        basis: Basis | Sequence[Basis] = "constant",
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
            preds: the candidates' predicted outcomes, (n, k, n_outcomes), when the caller
                has them (None: predicted here).
            pinned: a constant policy's action, first whatever its score (None: none), or
                each profile's pinned candidate row, (n,) with -1 for none (a baseline policy).
            basis: what pinned it (``"constant"`` or ``"baseline"``), for the wording; or
                each profile's, (n,).
            index: each profile's candidate rows, (n, k), when ``pairs``, ``discount`` and
                ``preds`` are in per-profile positions (``Ranking.index``); None: they are
                candidate rows.

        Returns:
            One explanation per pair, in order.
        """
        rowof = (lambda i, j: j) if index is None else (lambda i, j: int(index[i, j]))
        rows = self._pair_rows(context, pairs, rowof)
        contrib = contributions(self.models, rows, weights, np.repeat(np.arange(len(pairs)), 2))
        if preds is None:
            pair_preds = self.models.predict(rows).reshape(len(pairs), 2, -1)
        else:
            pair_preds = np.stack([preds[i, [a, b]] for i, a, b in pairs])
        unit = self.narrator.score_unit(self.models.outcomes, weights)
        weighed = [o for o, w in zip(self.models.outcomes, weights, strict=True) if w != 0]
        explained = []
        for p, (i, a, b) in enumerate(pairs):
            outcomes = tuple(
                (o, float(pair_preds[p, 0, k]), float(pair_preds[p, 1, k]))
                for k, o in enumerate(self.models.outcomes)
                if o in weighed
            )
            score_diff = float(
                (contrib[2 * p].sum() - discount[i, a])
                - (contrib[2 * p + 1].sum() - discount[i, b])
            )
            ra, rb = rowof(i, a), rowof(i, b)
            pin = (
                None
                if pinned is None
                else int(np.atleast_1d(pinned)[i] if np.ndim(pinned) else pinned)
            )
            said = basis if isinstance(basis, str) else basis[i]
            gap = Gap(score_diff, outcomes, unit, pin is not None and pin >= 0 and ra == pin, said)
            explained.append(
                self._explanation(
                    context[i],
                    ra,
                    rb,
                    contrib[2 * p] - contrib[2 * p + 1],
                    discount[i, [a, b]],
                    gap,
                )
            )
        return explained

    def _pair_rows(
        self,
        context: np.ndarray,
        pairs: Sequence[tuple[int, int, int]],
        rowof: Callable[[int, int], int],
    ) -> np.ndarray:
        """The model rows of every pair's chosen and runner-up candidates, two per pair."""
        return np.vstack(
            [
                self.builder.cross(
                    context[i][None, :], self.candidates.encoded[[rowof(i, a), rowof(i, b)]]
                )
                for i, a, b in pairs
            ]
        )

    def _explanation(
        self,
        context_row: np.ndarray,
        chosen: int,
        runner_up: int,
        diff: np.ndarray,
        disc: np.ndarray,
        gap: Gap,
    ) -> Explanation:
        disc = np.asarray(disc, dtype=float)
        values = np.append(diff[:-1], -(disc[0] - disc[1]))  # features, then support
        # The bias differs between two styles only by the style corrections' per-style
        # constants: part of what the style itself is worth, not a factor of its own.
        values[self.models.n_context] += diff[-1]
        total = float(diff.sum() - (disc[0] - disc[1]))
        a, b = self.candidate_rows[chosen], self.candidate_rows[runner_up]
        listed, outweighs = select_factors(values, total)
        factors = tuple(self._factor(context_row, f, values[f], a, b, gap.unit) for f in listed)
        rest = float(total - sum(x.contribution for x in factors))
        grouped = int((np.abs(values) >= NEGLIGIBLE).sum()) - len(factors)
        style = self.narrator.spec.style.name
        return Explanation(
            chosen_style=str(a[style]),
            runner_up_style=str(b[style]),
            score_difference=gap.difference,
            contributions_sum=total,
            factors=factors,
            other_factors=rest,
            summary=self.narrator.summary(a, b, gap),
            other_factors_count=grouped,
            other_factors_sentence=self.narrator.others_sentence(
                grouped, rest, outweighs, gap.unit.points
            ),
        )

    def _factor(
        self,
        context_row: np.ndarray,
        f: int,
        value: float,
        a: Mapping[str, Any],
        b: Mapping[str, Any],
        unit: ScoreUnit,
    ) -> Factor:
        """Factor ``f`` of the explanation (the last index is the support factor)."""
        names = self.builder.feature_names
        points = unit.points
        if f == len(names):
            sentence = self.narrator.support_sentence(a, b, value, points)
            return Factor(
                feature="support",
                value=None,
                runner_up_value=None,
                contribution=float(value),
                sentence=sentence,
            )
        name = names[f]
        if name in a:  # a decision: the two candidates' values
            raw, other = a[name], (_jsonable(b[name]) if name in b else None)
            sentence = self.narrator.factor_sentence(name, value, a, b, points=points)
        else:  # a profile feature: the profile's value
            raw = context_value(self.narrator.spec, name, context_row[f])
            other = None
            sentence = self.narrator.factor_sentence(name, value, a, b, raw, points)
        return Factor(
            feature=name,
            value=_jsonable(raw),
            runner_up_value=other,
            contribution=float(value),
            sentence=sentence,
        )


def _jsonable(value: object) -> FactorValue:
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    return str(value)
