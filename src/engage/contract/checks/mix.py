"""The posting mix: shares that must sum to 1 within the spec's tolerance.

Each share column is first checked on its own as a numeric column with the
:data:`~engage.contract.checks.numeric.SHARE` rules; this check only looks at the rows whose
shares are all valid, so a row with a bad share is not reported twice.
"""

from __future__ import annotations

import numpy as np

from engage.contract.messages import examples, format_value, rows_have
from engage.contract.report import ProblemCollector


def check_mix_sum(
    c: ProblemCollector, shares: np.ndarray, columns: list[str], tolerance: float
) -> None:
    """Quarantine rows whose valid shares do not sum to 1 within ``tolerance``.

    Args:
        c: Where problems and quarantine reasons go.
        shares: The coerced shares, one column per entry of ``columns`` (n x k).
        columns: The share columns' names, for messages.
        tolerance: The largest accepted distance of a row's sum from 1.
    """
    with np.errstate(invalid="ignore"):
        valid = (
            np.isfinite(shares).all(axis=1) & (shares >= 0).all(axis=1) & (shares <= 1).all(axis=1)
        )
        total = shares.sum(axis=1)
    tol = format_value(tolerance)
    c.quarantine(
        " + ".join(columns),
        valid & (np.abs(total - 1.0) > tolerance),
        lambda n, pos: (
            f"mix shares {columns}: {rows_have(n)} shares that do not sum to 1 "
            f"within {tol} (e.g. sums {examples(total[pos])})"
        ),
        lambda pos: [
            f"mix shares sum to {format_value(s)} (must be 1 within {tol})" for s in total[pos]
        ],
    )


def renormalise(shares: np.ndarray) -> np.ndarray:
    """Scale each row of clean shares to sum to exactly 1 (they were within the tolerance)."""
    renormalised: np.ndarray = shares / shares.sum(axis=1, keepdims=True)
    return renormalised
