"""Which candidate actions a profile may be recommended: the caller's limits and the support floor."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec

# Bounds are met up to float noise: a cadence of 8.000000001 satisfies ``posts_per_week <= 8``.
BOUND_TOLERANCE = 1e-9


class ConstraintError(ValueError):
    """No candidate action satisfies the caller's constraints."""


@dataclass
class Constraints:
    """Limits a caller puts on the actions it will accept.

    Attributes:
        styles: allowed styles (None: all).
        numeric_max: upper bounds on numeric decisions, e.g. ``{"posts_per_week": 10}``.
        numeric_min: lower bounds on numeric decisions.
        categorical: allowed values of categorical decisions.
        mix_max: upper bounds on mix shares by mix column, e.g. ``{"mix_promotional": 0.2}``.
    """

    styles: list[str] | None = None
    numeric_max: dict[str, float] = field(default_factory=dict)
    numeric_min: dict[str, float] = field(default_factory=dict)
    categorical: dict[str, list[str]] = field(default_factory=dict)
    mix_max: dict[str, float] = field(default_factory=dict)

    def mask(self, candidates: pd.DataFrame, spec: CampaignSpec) -> np.ndarray:
        """Which candidates satisfy every constraint.

        Args:
            candidates: the candidate frame (raw decision values, one row per candidate).
            spec: the contract, which names the style column.

        Returns:
            A boolean mask, one entry per candidate.
        """
        ok = np.ones(len(candidates), dtype=bool)
        if self.styles is not None:
            ok &= candidates[spec.style.name].isin(self.styles).to_numpy()
        for name, hi in self.numeric_max.items():
            ok &= candidates[name].to_numpy(float) <= hi + BOUND_TOLERANCE
        for name, lo in self.numeric_min.items():
            ok &= candidates[name].to_numpy(float) >= lo - BOUND_TOLERANCE
        for name, allowed in self.categorical.items():
            ok &= candidates[name].astype(str).isin([str(a) for a in allowed]).to_numpy()
        for name, hi in self.mix_max.items():
            ok &= candidates[name].to_numpy(float) <= hi + BOUND_TOLERANCE
        return ok

    def describe(self) -> str:
        """The constraints that are set, e.g. ``styles=['community'], numeric_max={...}``."""
        parts = [
            f"{name}={value!r}"
            for name, value in (
                ("styles", self.styles),
                ("numeric_max", self.numeric_max),
                ("numeric_min", self.numeric_min),
                ("categorical", self.categorical),
                ("mix_max", self.mix_max),
            )
            if value is not None and (name == "styles" or value)
        ]
        return ", ".join(parts) or "none"


def allowed_actions(
    propensity: np.ndarray,
    candidates: pd.DataFrame,
    style_codes: np.ndarray,
    spec: CampaignSpec,
    *,
    constraints: Constraints | None,
    min_propensity: float,
    index: np.ndarray | None = None,
    valid: np.ndarray | None = None,
) -> np.ndarray:
    """Which candidates each profile may be recommended: within support and the constraints.

    A candidate is within support when the profile's estimated propensity of its style reaches
    ``min_propensity``. A profile with no such candidate among those the constraints allow
    falls back to its best-supported allowed style(s): a recommendation outside the log's
    support is better than none, and the support discount and level say so.

    Args:
        propensity: each profile's estimated style propensities, (n, n_styles).
        candidates: the candidate frame, (k rows).
        style_codes: each candidate's style code, (k,).
        spec: the contract.
        constraints: the caller's limits, or None.
        min_propensity: the support floor.
        index: each profile's candidate rows, (n, m), when profiles have candidates of their
            own (``Ranking.index``); None: every profile has every candidate.
        valid: which of ``index``'s positions may be recommended at all, (n, m) (padding
            and thinly supported searched actions are not).

    Returns:
        A boolean mask, (n, k) or (n, m) with ``index``; every row has at least one True.

    Raises:
        ConstraintError: no candidate satisfies the constraints, for any profile.
    """
    by_constraint = (
        constraints.mask(candidates, spec) if constraints else np.ones(len(candidates), dtype=bool)
    )
    if not by_constraint.any():
        asked = constraints.describe() if constraints else "none; the candidate set is empty"
        raise ConstraintError(f"no candidate action satisfies the constraints ({asked})")
    if index is None:
        index = np.broadcast_to(np.arange(len(style_codes)), (len(propensity), len(style_codes)))
    ok = by_constraint[index] if valid is None else by_constraint[index] & valid
    cand_prop = np.take_along_axis(propensity, np.asarray(style_codes)[index], axis=1)
    allowed: np.ndarray = (cand_prop >= min_propensity) & ok
    empty = ~allowed.any(1)
    if empty.any():
        masked = np.where(ok, cand_prop, -1.0)
        best = masked.max(1, keepdims=True)
        allowed[empty] = (masked[empty] >= best[empty] - 1e-12) & ok[empty]
    if not allowed.any(1).all():
        asked = constraints.describe() if constraints else "none"
        raise ConstraintError(
            f"no candidate action for {int((~allowed.any(1)).sum())} profile(s) satisfies the "
            f"constraints ({asked})"
        )
    return allowed
