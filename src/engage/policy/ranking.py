"""Ranking candidate actions: the policy's scores for a batch, its choice, alternatives by style."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Ranking:
    """Everything the policy computes for a batch of n profiles and k candidate actions.

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
    """

    preds: np.ndarray
    predicted_objective: np.ndarray
    discount: np.ndarray
    score: np.ndarray
    propensity: np.ndarray
    allowed: np.ndarray
    choice: np.ndarray
    weights: np.ndarray
    typical: np.ndarray | None = None


def top_choice(
    score: np.ndarray, allowed: np.ndarray, constant_action: int | None = None
) -> np.ndarray:
    """Each profile's best allowed candidate, or ``constant_action`` wherever it is allowed.

    Args:
        score: ranking scores, (n, k).
        allowed: which candidates each profile may get, (n, k); at least one per row.
        constant_action: the one action a constant policy recommends (None: personalised).

    Returns:
        Candidate indices, (n,).
    """
    choice: np.ndarray = np.where(allowed, score, -np.inf).argmax(1)
    if constant_action is not None:
        choice = np.where(allowed[:, constant_action], constant_action, choice)
    return choice


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
