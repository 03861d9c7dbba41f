"""The per-row terms every estimator sums and the shared bootstrap resamples (see
:mod:`engage.ope.estimators` for what each estimator values)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from engage.ope.data import LoggedData, _check_lengths, _float_vector, _style_vector

# Columns of the per-row term matrix built by ``_terms``.
_DM, _IPS_NUM, _SNIPS_DEN, _DR = range(4)
# How many bootstrap counts (rows x resamples) to hold in memory at once.
_CHUNK_ELEMENTS = 1 << 22
_PERCENTILES = (2.5, 97.5)


def _weights(data: LoggedData, clip: float | None) -> np.ndarray:
    w = 1.0 / data.propensity
    if clip is None:
        return w
    if isinstance(clip, bool) or not np.isfinite(clip) or clip < 1.0:
        raise ValueError(f"clip must be a finite number >= 1 (weights 1/p are >= 1), got {clip!r}")
    return np.minimum(w, float(clip))


def _target(
    data: LoggedData, target_style: object, q_target: object, prefix: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """The target policy's styles and predictions as checked vectors aligned with the log."""
    style = _style_vector(f"{prefix}target_style", target_style)
    q = _float_vector(f"{prefix}q_target", q_target)
    _check_lengths(data.n, **{f"{prefix}target_style": style, f"{prefix}q_target": q})
    return style, q


def _terms(
    data: LoggedData, target_style: np.ndarray, q_target: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """Per-row terms whose column sums give every estimator: an ``(n, 4)`` C-ordered array."""
    mw = np.where(data.style == target_style, w, 0.0)
    terms = np.empty((data.n, 4))
    terms[:, _DM] = q_target
    terms[:, _IPS_NUM] = mw * data.reward
    terms[:, _SNIPS_DEN] = mw
    terms[:, _DR] = _dr_terms(data, target_style, q_target, w)
    return terms


def _dr_terms(
    data: LoggedData, target_style: np.ndarray, q_target: np.ndarray, w: np.ndarray
) -> np.ndarray:
    """The per-row DR terms ``q_target + match * w * (y - q_logged)`` of one policy (``(n,)``
    arguments) or of ``g`` at once (``(n, g)`` styles and objectives)."""
    correction = w * (data.reward - data.q_logged)
    logged = data.style
    if np.ndim(target_style) == 2:
        correction, logged = correction[:, None], logged[:, None]
    return q_target + np.where(logged == target_style, correction, 0.0)


def _values(sums: np.ndarray, n: int) -> np.ndarray:
    """Estimator values (last axis in :data:`ESTIMATORS` order) from column sums of ``_terms``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        snips = sums[..., _IPS_NUM] / sums[..., _SNIPS_DEN]
    return np.stack(
        [sums[..., _DM] / n, sums[..., _IPS_NUM] / n, snips, sums[..., _DR] / n], axis=-1
    )


def _bootstrap_sums(matrices: Sequence[np.ndarray], n_boot: int, seed: int) -> list[np.ndarray]:
    """Column sums of each ``(n, m)`` matrix over the same ``n_boot`` row resamples.

    Resample ``b`` is a multinomial count vector (bincount of ``n`` uniform row draws); the
    resampled sums of a block of resamples are one matrix product ``counts @ matrix``.
    """
    n = matrices[0].shape[0]
    rng = np.random.default_rng(seed)
    index_dtype = np.int32 if n < np.iinfo(np.int32).max else np.int64
    rows = max(1, min(n_boot, _CHUNK_ELEMENTS // n))
    counts = np.empty((rows, n))
    out = [np.empty((n_boot, m.shape[1])) for m in matrices]
    for start in range(0, n_boot, rows):
        stop = min(start + rows, n_boot)
        block = counts[: stop - start]
        for j in range(stop - start):
            block[j] = np.bincount(rng.integers(0, n, size=n, dtype=index_dtype), minlength=n)
        for o, m in zip(out, matrices, strict=True):
            o[start:stop] = block @ m
    return out


def _interval(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2.5% and 97.5% percentiles along axis 0, ignoring NaN draws (all-NaN -> NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nanpercentile(draws, _PERCENTILES, axis=0)
    return low, high
