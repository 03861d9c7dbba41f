"""The promotion gate's sanity check: a model claiming numbers the data cannot produce never
takes the ``champion`` alias.

A policy's value (DR, DM) averages per-row objective values, and a tree model's predicted
outcome averages training outcomes, so a sound model cannot leave the range that the observed
values span. One poisoned value (a ``conversions`` of 1e12) makes both leave it by orders of
magnitude. The range is taken robustly: the most extreme 0.1% of the rows at each end (at
least one row) are left out, so a few bad values cannot widen it; it is then widened on each
side by ``margin`` times its width (:data:`MARGIN`, 1 in a run), room for
legitimately heavy tails. An outcome that is constant on all but those extreme rows (a rare
event) is judged against its full range instead, since its rare values may be real.

Non-finite values are refused whatever the margin (``inf`` turns the range check off, never
this one). ``--force`` skips the comparison with the champion, not this gate: a model that
fails it is registered (for inspection) but never promoted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

TRIM_SHARE = 0.001  # the share of rows left out at each end of the observed range
#: How far beyond the observed range a value may lie, in widths of the range on each side.
MARGIN = 1.0
_RELATIVE_EPS = 1e-6  # the width of a constant's range, relative to its size (float noise)


@dataclass(frozen=True)
class Bounds:
    """The plausible interval of one quantity."""

    low: float
    high: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return f"[{self.low:.4g}, {self.high:.4g}]"


@dataclass(frozen=True)
class Plausibility:
    """Whether the model's values and predictions are finite and within the data's range."""

    finite: bool
    plausible: bool
    reason: str

    @property
    def tags(self) -> dict[str, str]:
        """What the run and the model version record about the check."""
        verdict = "ok" if self.plausible else ("non-finite" if not self.finite else "implausible")
        return {"plausibility": verdict, "plausibility_reason": self.reason}


def plausible_bounds(observed: np.ndarray, margin: float) -> Bounds:
    """The observed values' robust range (see the module docstring), widened by ``margin``."""
    values = np.sort(np.asarray(observed, dtype=float)[np.isfinite(observed)])
    n = len(values)
    if n == 0 or math.isinf(margin):
        return Bounds(-math.inf, math.inf)
    trim = min(max(1, math.ceil(TRIM_SHARE * n)), (n - 1) // 2)
    low, high = values[trim], values[n - 1 - trim]
    if high == low:  # constant but for the extremes: a rare event, judged on its full range
        low, high = values[0], values[-1]
    width = max(high - low, _RELATIVE_EPS * max(1.0, abs(low), abs(high)))
    return Bounds(low - margin * width, high + margin * width)


def check_plausibility(
    values: Mapping[str, float],
    predictions: Mapping[str, np.ndarray],
    observed_objective: np.ndarray,
    observed_outcomes: Mapping[str, np.ndarray],
    margin: float = MARGIN,
) -> Plausibility:
    """Check the shipped policy's values and its predicted outcomes against the data.

    Args:
        values: the shipped policy's value estimates by name (e.g. ``{"DR": ..., "DM": ...}``),
            in the units of the run's objective.
        predictions: predicted outcomes by outcome name (any shape), e.g. every candidate's
            for a sample of evaluation profiles.
        observed_objective: the run's objective for every clean row.
        observed_outcomes: every clean row's observed value of each outcome.
        margin: how many widths of the robust range to add on each side (``inf``: the
            range check off; non-finite values are refused all the same).

    Returns:
        The verdict; its reason names the first offending quantity and the range it left.
    """
    non_finite = [name for name, v in values.items() if not math.isfinite(v)]
    non_finite += [
        f"predicted {o} ({int((~np.isfinite(p)).sum())} values)"
        for o, p in predictions.items()
        if not np.isfinite(p).all()
    ]
    if non_finite:
        return Plausibility(False, False, f"non-finite values: {', '.join(non_finite)}")
    bounds = plausible_bounds(observed_objective, margin)
    for name, value in values.items():
        if value not in bounds:
            return Plausibility(
                True,
                False,
                (
                    f"{name} value {value:.4g} is outside the objective's plausible range {bounds} "
                    f"({_how(margin)})"
                ),
            )
    for outcome, predicted in predictions.items():
        bounds = plausible_bounds(observed_outcomes[outcome], margin)
        outside = (predicted < bounds.low) | (predicted > bounds.high)
        if outside.any():
            bad = predicted[outside]
            worst = bad[np.abs(bad).argmax()]
            return Plausibility(
                True,
                False,
                (
                    f"predicted {outcome} reaches {worst:.4g} ({int(outside.sum())} of "
                    f"{predicted.size} predictions) outside its plausible range {bounds} ({_how(margin)})"
                ),
            )
    return Plausibility(
        True, True, f"values and predictions within the data's range ({_how(margin)})"
    )


def _how(margin: float) -> str:
    pct = f"{100 * TRIM_SHARE:g}%"
    return f"observed {pct} to {100 - 100 * TRIM_SHARE:g}% range widened by {margin:g}x its width each side"
