"""Checks of the per-row style arrays that the propensity figures take."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def as_codes(x: np.ndarray) -> np.ndarray:
    """Integer class codes; non-finite entries become -1, which matches no style."""
    arr = np.asarray(x)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64).ravel()
    f = np.asarray(arr, dtype=float).ravel()
    out = np.full(f.shape, -1, dtype=np.int64)
    ok = np.isfinite(f)
    out[ok] = f[ok].astype(np.int64)
    return out


def check_proba(
    proba: np.ndarray, codes: np.ndarray, styles: Sequence[str], what: str
) -> np.ndarray:
    """``proba`` as an (n, K) float array matching ``codes`` and ``styles``.

    A 1-d array is accepted for a single style. ``what`` names the argument in the error.

    Raises:
        ValueError: the shape does not match the labels or the styles.
    """
    p = np.asarray(proba, dtype=float)
    if p.ndim == 1 and len(styles) == 1:
        p = p[:, None]
    if p.ndim != 2:
        raise ValueError(f"{what} must be a 2-d (n, K) array, got shape {p.shape}")
    if p.shape[1] != len(styles):
        raise ValueError(f"{what} has {p.shape[1]} columns but {len(styles)} styles were given")
    if p.shape[0] != len(codes):
        raise ValueError(f"{what} has {p.shape[0]} rows but the labels have {len(codes)}")
    return p
