"""Outliers: values far outside the bulk of a numeric column (outcomes, profile numbers, decisions).

The rule (documented in the README's contract section): with the quartiles ``q25``/``q75`` of
the column's finite, in-bounds values and the spec's ``outlier_iqr_multiple`` *k* (default
20), a value is an outlier when it lies outside

    [q25 - k * spread, q75 + k * spread],   spread = q75 - q25 (the inter-quartile range).

*k* = 20 is deliberately lenient: for normally distributed values the fence is ~27 standard
deviations out, so only values off by orders of magnitude (a typo, a unit mix-up, a sentinel
such as 1e12) are caught, while the real long tail of viral campaigns stays in. When the
inter-quartile range is 0 (over half of the values are equal, e.g. a zero-inflated count) the
spread falls back to the 5-95% range, then the 1-99% range; when that is 0 too, or the column
has fewer than :data:`MIN_VALUES` values, the column has no robust scale and is not judged
(declare ``min``/``max`` for such a column).

What happens to outliers is the column's ``outliers`` policy: ``quarantine`` (the default for
outcomes), ``fatal``, ``warn`` (kept, with a warning) or ``keep`` (the column is not judged;
the default for profile and decision numbers, which are often heavy-tailed by nature).
"""

from __future__ import annotations

import numpy as np

from engage.contract.declarations import OutlierPolicy
from engage.contract.messages import bounds_text, examples, format_value, rows_have
from engage.contract.report import ProblemCollector

#: Fewer finite values than this and quartiles say little about the column's scale.
MIN_VALUES = 20

# Percentiles read in one pass; the pairs (inter-quartile, then wider) give the spread.
_PERCENTILES = (1.0, 5.0, 25.0, 75.0, 95.0, 99.0)
_SPREADS = ((2, 3), (1, 4), (0, 5))  # positions in _PERCENTILES, tried in turn


def outlier_fence(values: np.ndarray, k: float) -> tuple[float, float] | None:
    """The interval outside which a value is an outlier, or None when it cannot be judged.

    Args:
        values: The column's finite values (those already set aside excluded).
        k: How many spreads beyond the quartiles a value may lie.

    Returns:
        ``(low, high)``, or None for fewer than :data:`MIN_VALUES` values or no spread.
    """
    if len(values) < MIN_VALUES:
        return None
    q = np.percentile(values, _PERCENTILES)
    q25, q75 = q[2], q[3]
    for lo, hi in _SPREADS:
        spread = float(q[hi] - q[lo])
        if spread > 0:
            return float(q25 - k * spread), float(q75 + k * spread)
    return None


def check_outliers(
    c: ProblemCollector,
    values: np.ndarray,
    judged: np.ndarray,
    name: str,
    policy: OutlierPolicy,
    k: float,
) -> None:
    """Report the outliers of one numeric column (see the module docstring for the rule).

    Args:
        c: Where problems and quarantine reasons go.
        values: The column's float64 values, one per row.
        judged: Which rows to judge: finite values not already set aside by this column's
            own checks (missing, out of bounds, ...), which would distort the quartiles.
        name: The column's name, for messages.
        policy: ``quarantine`` the rows, reject the log (``fatal``), ``warn`` and keep them,
            or ``keep`` (the column is not judged).
        k: The spec's ``outlier_iqr_multiple``.
    """
    if policy == OutlierPolicy.keep:
        return
    fence = outlier_fence(values[judged], k)
    if fence is None:
        return
    low, high = fence
    with np.errstate(invalid="ignore"):
        outlier = judged & ((values < low) | (values > high))
    n = int(outlier.sum())
    if not n:
        return
    bounds = bounds_text(low, high)
    rule = f"more than {format_value(k)} x the inter-quartile range beyond the quartiles"

    def message(count: int, pos: np.ndarray) -> str:
        return (
            f"column {name!r}: {rows_have(count)} an outlier, a value outside {bounds} "
            f"({rule}; e.g. {examples(values[pos])})"
        )

    pos = np.flatnonzero(outlier)
    if policy == OutlierPolicy.fatal:
        c.error(name, n, f"{message(n, pos)}; the spec says outliers: fatal")
    elif policy == OutlierPolicy.warn:
        c.warning(name, n, f"{message(n, pos)}; kept (outliers: warn)")
    else:
        c.quarantine(
            name,
            outlier,
            lambda count, p: (
                f"{message(count, p)}; set `outliers: warn` on the column to keep them"
            ),
            lambda p: [
                f"column {name!r}: outlier {format_value(v)} outside {bounds}" for v in values[p]
            ],
        )
