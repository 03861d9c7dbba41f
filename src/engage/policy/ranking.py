"""Ranking candidate actions: the policy's scores for a batch, its choice, alternatives by style."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from engage.policy.logging_policy import LoggingOptions


@dataclass(frozen=True)
class Ranking:
    """Everything the policy computes for a batch of n profiles and k candidate actions.

    Each profile has its own k candidates (its cluster's, see ``engage.policy.support``):
    ``index[i, j]`` is the row, in the policy's candidate set, of profile ``i``'s candidate
    ``j``. Every other array is in these per-profile positions; :attr:`chosen` maps the choice
    back to candidate rows.

    Attributes:
        preds: predicted outcomes of every candidate, (n, k, n_outcomes), outcome order.
        predicted_objective: the objective's weighted sum of ``preds``, (n, k).
        discount: the support discount, (n, k).
        score: what the policy ranks by, ``predicted_objective - discount``, (n, k).
        propensity: estimated propensity of each style for each profile, (n, n_styles).
        allowed: candidates within support and the constraints, (n, k).
        choice: the recommended candidate of each profile, (n,).
        weights: the objective's signed weights in outcome order.
        typical: predicted objective of each profile's typical logged choice (the typical
            action of its likeliest style), (n,); None unless asked for.
        index: each profile's candidate rows, (n, k).
        pinned: the position of the action a constant or baseline policy recommends first
            whatever its score (a logging policy: the action of the style it drew), (n,); -1
            where none.
        support_rows: logged campaigns of the candidate's style, by similar profiles, near
            each candidate action, (n, k); NaN where not measured.
        logging: a logging policy's options (:mod:`engage.policy.logging_policy`); None for
            any other mode.
    """

    preds: np.ndarray
    predicted_objective: np.ndarray
    discount: np.ndarray
    score: np.ndarray
    propensity: np.ndarray
    allowed: np.ndarray
    choice: np.ndarray
    weights: np.ndarray
    index: np.ndarray
    typical: np.ndarray | None = None
    pinned: np.ndarray | None = None
    support_rows: np.ndarray | None = None
    logging: LoggingOptions | None = None

    @property
    def chosen(self) -> np.ndarray:
        """The candidate row of each profile's choice, (n,)."""
        return np.asarray(self.index[np.arange(len(self.choice)), self.choice])

    @property
    def chosen_objective(self) -> np.ndarray:
        """The predicted objective of each profile's choice, (n,)."""
        return np.asarray(self.predicted_objective[np.arange(len(self.choice)), self.choice])

    def rows(self, i: int) -> np.ndarray:
        """Candidate rows of profile ``i``'s positions."""
        return np.asarray(self.index[i])


def top_choice(
    score: np.ndarray, allowed: np.ndarray, pinned: np.ndarray | int | None = None
) -> np.ndarray:
    """Each profile's best allowed candidate, or its pinned one wherever that is allowed.

    Args:
        score: ranking scores, (n, k).
        allowed: which candidates each profile may get, (n, k); at least one per row.
        pinned: the position a constant or baseline policy recommends first, per profile
            (n,) with -1 for none, or one position for all; None: personalised.

    Returns:
        Candidate positions, (n,).
    """
    choice: np.ndarray = np.where(allowed, score, -np.inf).argmax(1)
    if pinned is None:
        return choice
    pin = np.broadcast_to(np.asarray(pinned, dtype=int), choice.shape)
    rows = np.arange(len(choice))
    ok = (pin >= 0) & allowed[rows, np.maximum(pin, 0)]
    return np.where(ok, pin, choice)


def rank_styles(
    score: np.ndarray,
    allowed: np.ndarray,
    style_codes: np.ndarray,
    first: int,
    limit: int,
    *,
    pinned: bool = False,
) -> list[int]:
    """Up to ``limit`` candidates to show one profile, alternatives a marketer can compare.

    Which: the first choice, the best allowed action of each other style (not ten variants of
    one style), then the next-best allowed variants (other mixes or cadences). In what order:
    by score, best first, so the ranks never contradict the scores shown; only a ``pinned``
    first choice (a constant policy's action, which it recommends whatever its score) stays
    first and says so with its basis.

    Args:
        score: the profile's ranking scores, (k,).
        allowed: the profile's allowed candidates, (k,).
        style_codes: each candidate's style code, (k,).
        first: the policy's choice.
        limit: the most candidates to return.
        pinned: keep ``first`` first whatever its score.

    Returns:
        Candidate indices in display order.
    """
    ranked = np.argsort(-np.where(allowed, score, -np.inf))
    ranked = ranked[allowed[ranked]]  # allowed candidates, best first
    first_of_style = np.sort(np.unique(style_codes[ranked], return_index=True)[1])
    shown = [int(first)] + [
        int(j) for j in ranked[first_of_style] if style_codes[j] != style_codes[first]
    ]
    seen = set(shown)
    shown += [int(j) for j in ranked if int(j) not in seen]
    shown = shown[:limit]
    # a stable sort: among equal scores the policy's choice stays ahead
    rest = sorted(shown[1:], key=lambda j: -score[j])
    if pinned:
        return [shown[0], *rest]
    return sorted([shown[0], *rest], key=lambda j: -score[j])


def runner_up(order: list[int], style_codes: np.ndarray) -> int:
    """What the first of ``order`` is explained against: the best other style shown (a
    marketer weighs styles, not two mixes of one), else the second candidate shown.

    Args:
        order: candidates in display order, at least two.
        style_codes: each candidate's style code.
    """
    first = style_codes[order[0]]
    return next((j for j in order[1:] if style_codes[j] != first), order[1])
