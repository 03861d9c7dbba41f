"""Simultaneous (max-t) bootstrap bands over many policies at once: the intervals to trust
when a policy is *chosen* among them on the same rows."""

from __future__ import annotations

import numpy as np

from engage.ope.core import _bootstrap_sums, _dr_terms, _target, _weights
from engage.ope.data import Estimate, LoggedData, _check_boot


def simultaneous_gains(
    data: LoggedData,
    target_styles: np.ndarray,
    q_targets: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[list[Estimate], float]:
    """Paired DR gains over the logged policy of ``g`` policies at once, with intervals (95%
    unless ``level`` says otherwise) that hold for all of them together: the one to trust when
    a policy is *chosen* among them on the same rows.

    ``target_styles`` and ``q_targets`` are ``(n, g)``: column ``j`` is policy ``j``'s style
    and objective per row, as in :func:`gain_over_logged`. Each interval is the point gain plus
    or minus ``c`` bootstrap standard errors, ``c`` the 95% quantile over the resamples of the
    largest standardised deviation of any policy (a studentised max-t band). When the
    policies' estimates move together (they share rows), ``c`` stays near the single
    policy's 1.96; for ``g`` unrelated policies it grows towards the Bonferroni value. Returns
    the estimates in column order and ``c``.
    """
    dr = _dr_columns(data, target_styles, q_targets)
    return _max_t_band(dr - data.reward[:, None], n_boot, seed, level)


def simultaneous_values(
    data: LoggedData,
    target_styles: np.ndarray,
    q_targets: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[list[Estimate], float]:
    """DR values of ``g`` policies with the intervals of :func:`simultaneous_gains` (the
    policies' values, not their gains over the logged policy)."""
    return _max_t_band(_dr_columns(data, target_styles, q_targets), n_boot, seed, level)


def simultaneous_gains_and_values(
    data: LoggedData,
    target_styles: np.ndarray,
    q_targets: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[list[Estimate], list[Estimate], float]:
    """:func:`simultaneous_gains` and :func:`simultaneous_values` of the same policies in one
    pass (the DR columns and the resamples computed once; the same estimates as the two calls
    with this seed). Returns the gains, the values and the gains' critical value."""
    dr = _dr_columns(data, target_styles, q_targets)
    (gains, crit), (values, _) = _max_t_bands([dr - data.reward[:, None], dr], n_boot, seed, level)
    return gains, values, crit


def simultaneous_differences(
    data: LoggedData,
    reference: tuple[np.ndarray, np.ndarray],
    target_styles: np.ndarray,
    q_targets: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> tuple[list[Estimate], float]:
    """Paired DR differences ``value(policy j) - value(reference)`` of ``g`` policies, with the
    band of :func:`simultaneous_gains`: how much better than ``reference`` the best of ``g``
    policies chosen on these rows is, its choice among them allowed for.

    ``reference`` is a ``(target_style, q_target)`` pair of ``(n,)`` arrays, as in
    :func:`compare_policies`; ``target_styles`` and ``q_targets`` are ``(n, g)``. A column equal
    to the reference on every row has the point 0 and no spread.
    """
    ref_style, ref_q = _target(data, *reference, prefix="reference.")
    dr = _dr_columns(data, target_styles, q_targets)
    ref = _dr_terms(data, ref_style, ref_q, _weights(data, None))
    return _max_t_band(dr - ref[:, None], n_boot, seed)


def _dr_columns(data: LoggedData, target_styles: np.ndarray, q_targets: np.ndarray) -> np.ndarray:
    """The per-row DR terms of each of ``g`` policies, ``(n, g)``, unclipped weights."""
    styles = np.asarray(target_styles)
    q = np.asarray(q_targets, dtype=np.float64)
    if styles.ndim != 2 or q.shape != styles.shape or styles.shape[0] != data.n:
        raise ValueError(
            f"target_styles and q_targets must both be (n, g) with n = {data.n} rows; got "
            f"{styles.shape} and {q.shape}"
        )
    if not np.isfinite(q).all():
        raise ValueError(f"q_targets: {int((~np.isfinite(q)).sum())} entries are not finite")
    return _dr_terms(data, styles, q, _weights(data, None))


def _max_t_band(
    terms: np.ndarray, n_boot: int, seed: int, level: float = 0.95
) -> tuple[list[Estimate], float]:
    """Column means of ``terms`` (n, g) with a studentised max-t bootstrap band at ``level``."""
    return _max_t_bands([terms], n_boot, seed, level)[0]


def _max_t_bands(
    matrices: list[np.ndarray], n_boot: int, seed: int, level: float = 0.95
) -> list[tuple[list[Estimate], float]]:
    """:func:`_max_t_band` of each ``(n, g)`` matrix, all over the same row resamples (drawn
    once: a matrix's band is the same as when it is banded alone with this seed)."""
    _check_boot(n_boot)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1 (exclusive); got {level}")
    n = matrices[0].shape[0]
    boots = _bootstrap_sums([np.ascontiguousarray(m) for m in matrices], n_boot, seed)
    return [_band(m.mean(axis=0), boot / n, level) for m, boot in zip(matrices, boots, strict=True)]


def _band(point: np.ndarray, draws: np.ndarray, level: float) -> tuple[list[Estimate], float]:
    se = draws.std(axis=0, ddof=1)
    moving = se > 0  # a policy identical to the logged one on every row has no spread
    crit = 0.0
    if moving.any():
        deviation = np.abs(draws[:, moving] - point[moving]) / se[moving]
        crit = float(np.quantile(deviation.max(axis=1), level))
    return [
        Estimate(float(v), float(v - crit * e), float(v + crit * e))
        for v, e in zip(point, se, strict=True)
    ], crit
