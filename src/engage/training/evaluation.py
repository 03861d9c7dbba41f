"""Off-policy evaluation of deterministic target policies from logged campaigns.

A campaign log has ``n`` rows. Row ``i`` carries

* ``style[i]`` — the logged style ``a_i``, an integer code in ``0..K-1``;
* ``reward[i]`` — the observed scalar reward ``y_i`` (the weighted objective);
* ``propensity[i]`` — the logging propensity ``p_i = P(a_i | x_i)`` of the logged style;
* ``q_logged[i]`` — the outcome model's prediction ``q̂(x_i, logged action)``.

A deterministic target policy ``π`` is described by two arrays aligned with the log: its chosen
style ``t_i = π(x_i)`` and the model's prediction ``q_target_i = q̂(x_i, π's full action)``.

The logged action has components besides the style (posting mix, cadence). Those are continuous
or high-cardinality, so importance weighting cannot match them exactly; the estimators here match
on the style only. With ``match_i = 1[a_i == t_i]`` and weights ``w_i = 1 / p_i``:

* ``DM    = mean(q_target)``  — the direct method, a pure model read-out;
* ``IPS   = mean(match * y * w)``  — inverse propensity scoring;
* ``SNIPS = sum(match * y * w) / sum(match * w)``  — self-normalised IPS;
* ``DR    = mean(q_target + match * (y - q_logged) * w)``  — doubly robust.

What each one values:

* IPS and SNIPS value **π's style with the logged within-style choices**: a matched row keeps the
  mix and cadence the marketer actually used, so they estimate the policy "pick π's style, then
  choose mix and cadence the way the loggers did for that style". They need no outcome model and
  are unbiased (IPS) or consistent (SNIPS) when the propensities are right. SNIPS is invariant to
  rescaling all propensities by a constant, which makes it robust to a miscalibrated logging
  model's overall level; it is undefined (NaN) when no row matches.
* DM and DR value **π's full action** (style, mix and cadence) through ``q_target``. DM is only as
  good as the model. DR adds the matched, importance-weighted residual ``y - q_logged``; in
  expectation that correction equals the model's error averaged over the logged within-style
  choices of π's style. So if the model is biased at the level of (context, style) — e.g. it
  over-predicts one style by a constant — the correction removes that bias exactly and DR is
  unbiased whenever the propensities are right. What DR cannot fix is model error that varies
  *within* a style (between π's mix/cadence and the logged ones); that part of DR rests on the
  model, like DM.

Weight clipping: with ``clip=c`` every weight ``1/p`` is capped at ``c`` (``w = min(1/p, c)``),
trading a downward bias in IPS/DR corrections for lower variance. ``c`` must be >= 1, since
``1/p >= 1``. DM does not use weights and is unaffected.

Uncertainty: each :class:`Estimate` carries a 95% percentile-bootstrap interval from ``n_boot``
resamples of rows (with replacement, size ``n``). The point value always uses the full sample. All
estimators — and both policies in :func:`compare_policies` — share the same resamples, drawn from
``numpy.random.default_rng(seed)``; resample ``b`` depends only on ``(seed, n, b)``. Resamples are
represented as multinomial count vectors and the resampled sums as a matrix product
``counts @ per_row_terms``, built in chunks so memory stays bounded (~4M counts at a time);
``n = 250,000`` with ``n_boot = 200`` takes about 0.8 s on a 2-core machine.

SNIPS resamples with no matching row give NaN and are ignored by the percentiles.

The DR value's **range** (:func:`extrapolation_range`): DM assumes the model has no error at
π's action; DR assumes its error there equals its (weighted) error at the logged actions of π's
style. Where π's action differs from those logged actions, neither need hold: on simulated
worlds whose best actions lie at the edge of the logged ones (issue 11; six runs at n = 5,000)
the DR of a personalised policy erred by -0.33 to +0.61 and the DM by -0.75 to +0.03, on
opposite sides of the truth in three runs. The range is the DR value with an interval spanning
both estimators' 95% intervals: it allows for a model error at π's action anywhere from none to
the logged actions'. Where π's action is the logged action on every matched row (the style is
the whole decision), DR's assumption holds and the range is DR's interval.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ESTIMATORS",
    "Estimate",
    "LoggedData",
    "compare_policies",
    "effective_sample_size",
    "estimate_policy_value",
    "extrapolation_range",
    "logged_policy_value",
    "logged_where_matched",
    "simultaneous_differences",
    "simultaneous_gains",
    "simultaneous_values",
]

ESTIMATORS: tuple[str, ...] = ("dm", "ips", "snips", "dr")

# Columns of the per-row term matrix built by ``_terms``.
_DM, _IPS_NUM, _SNIPS_DEN, _DR = range(4)
# How many bootstrap counts (rows x resamples) to hold in memory at once.
_CHUNK_ELEMENTS = 1 << 22
_PERCENTILES = (2.5, 97.5)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% bootstrap percentile interval ``[low, high]``."""

    value: float
    low: float  # bootstrap percentile 2.5%
    high: float  # bootstrap percentile 97.5%

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


# --------------------------------------------------------------------------------------------
# validation


def _vector(name: str, values: object) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def _float_vector(name: str, values: object) -> np.ndarray:
    arr = _vector(name, values)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = np.array(arr, dtype=np.float64)  # private copy
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"{name}: {bad} of {arr.size} entries are not finite (NaN or inf)")
    arr.flags.writeable = False
    return arr


def _style_vector(name: str, values: object) -> np.ndarray:
    arr = _vector(name, values)
    if arr.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = int(np.count_nonzero(~np.isfinite(arr) | (arr != np.round(arr))))
        if bad:
            raise ValueError(
                f"{name}: {bad} of {arr.size} entries are not integer style codes "
                "(NaN, inf or fractional)"
            )
    elif arr.dtype.kind not in "biu":
        raise ValueError(f"{name} must hold integer style codes, got dtype {arr.dtype}")
    arr = np.array(arr, dtype=np.int64)  # private copy
    bad = int(np.count_nonzero(arr < 0))
    if bad:
        raise ValueError(f"{name}: {bad} of {arr.size} entries are negative style codes")
    arr.flags.writeable = False
    return arr


def _check_lengths(n: int, **arrays: np.ndarray) -> None:
    for name, arr in arrays.items():
        if arr.shape[0] != n:
            raise ValueError(f"{name} has {arr.shape[0]} entries but the log has {n} rows")


def _check_boot(n_boot: int) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")


@dataclass(frozen=True)
class LoggedData:
    """The logged campaigns: one entry per row in each array (see the module docstring).

    Validated on construction: every field is 1-D with the same (non-zero) length, rewards,
    propensities and predictions are finite, ``0 < propensity <= 1`` and styles are integer codes
    ``>= 0``. Fields are stored as private read-only copies (float64; int64 for ``style``).
    """

    reward: np.ndarray
    style: np.ndarray
    propensity: np.ndarray
    q_logged: np.ndarray

    def __post_init__(self) -> None:
        fields = {
            name: _vector(f"LoggedData.{name}", getattr(self, name))
            for name in ("reward", "style", "propensity", "q_logged")
        }
        n = fields["reward"].shape[0]
        for name, arr in fields.items():
            if arr.shape[0] != n:
                raise ValueError(
                    f"LoggedData.{name} has {arr.shape[0]} entries but LoggedData.reward has {n}"
                )
        if n == 0:
            raise ValueError("LoggedData has no rows")
        reward = _float_vector("LoggedData.reward", fields["reward"])
        style = _style_vector("LoggedData.style", fields["style"])
        propensity = _float_vector("LoggedData.propensity", fields["propensity"])
        bad = int(np.count_nonzero((propensity <= 0.0) | (propensity > 1.0)))
        if bad:
            raise ValueError(f"LoggedData.propensity: {bad} of {n} entries are outside (0, 1]")
        q_logged = _float_vector("LoggedData.q_logged", fields["q_logged"])
        object.__setattr__(self, "reward", reward)
        object.__setattr__(self, "style", style)
        object.__setattr__(self, "propensity", propensity)
        object.__setattr__(self, "q_logged", q_logged)

    @property
    def n(self) -> int:
        return int(self.reward.shape[0])


# --------------------------------------------------------------------------------------------
# core


def _weights(data: LoggedData, clip: float | None) -> np.ndarray:
    w = 1.0 / data.propensity
    if clip is None:
        return w
    if isinstance(clip, bool) or not np.isfinite(clip) or clip < 1.0:
        raise ValueError(f"clip must be a finite number >= 1 (weights 1/p are >= 1), got {clip!r}")
    return np.minimum(w, float(clip))


def _target(data: LoggedData, target_style: object, q_target: object, prefix: str = ""):
    style = _style_vector(f"{prefix}target_style", target_style)
    q = _float_vector(f"{prefix}q_target", q_target)
    _check_lengths(data.n, **{f"{prefix}target_style": style, f"{prefix}q_target": q})
    return style, q


def _terms(data: LoggedData, target_style: np.ndarray, q_target: np.ndarray, w: np.ndarray):
    """Per-row terms whose column sums give every estimator: an ``(n, 4)`` C-ordered array."""
    mw = np.where(data.style == target_style, w, 0.0)
    terms = np.empty((data.n, 4))
    terms[:, _DM] = q_target
    terms[:, _IPS_NUM] = mw * data.reward
    terms[:, _SNIPS_DEN] = mw
    terms[:, _DR] = _dr_terms(data, target_style, q_target, w)
    return terms


def _dr_terms(data: LoggedData, target_style: np.ndarray, q_target: np.ndarray, w: np.ndarray) -> np.ndarray:
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


# --------------------------------------------------------------------------------------------
# public API


def estimate_policy_value(
    data: LoggedData,
    target_style: np.ndarray,
    q_target: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
    clip: float | None = None,
) -> dict[str, Estimate]:
    """Estimate the value of a deterministic target policy with DM, IPS, SNIPS and DR.

    Args:
        data: the validated log.
        target_style: ``π(x_i)``, the style the policy picks for each logged row.
        q_target: ``q̂(x_i, π's full action)`` for each logged row.
        n_boot: number of bootstrap resamples of rows for the 95% percentile intervals.
        seed: seed of the resamples (the same resamples serve all four estimators).
        clip: if given, every importance weight ``1/p`` is capped at ``clip`` (must be >= 1);
            applies to IPS, SNIPS and the DR correction, not to DM.

    Returns:
        ``{name: Estimate}`` for every name in :data:`ESTIMATORS`. Point values use the full
        sample. SNIPS is NaN when no row's logged style matches the target style.
    """
    _check_boot(n_boot)
    style, q = _target(data, target_style, q_target)
    terms = _terms(data, style, q, _weights(data, clip))
    point = _values(terms.sum(axis=0), data.n)
    (boot_sums,) = _bootstrap_sums([terms], n_boot, seed)
    low, high = _interval(_values(boot_sums, data.n))
    return {
        name: Estimate(float(point[k]), float(low[k]), float(high[k]))
        for k, name in enumerate(ESTIMATORS)
    }


def logged_where_matched(
    data: LoggedData, target_style: np.ndarray, actions: np.ndarray, logged_actions: np.ndarray
) -> bool:
    """Whether the target's action is the logged one on every row whose logged style is the
    target's (``actions`` and ``logged_actions``: the encoded decisions, one row per log row):
    then the style-matched DR rests on no model between two actions."""
    matched = data.style == np.asarray(target_style)
    return bool(np.allclose(actions[matched], logged_actions[matched], rtol=0.0, atol=1e-9))


def extrapolation_range(estimates: dict[str, Estimate], exact: bool) -> Estimate:
    """The DR value with an interval that also allows for the model's error at the target's
    action (module docstring): DR's 95% interval when ``exact`` (the target's action is the
    logged one on every row whose style matches), else the span of the DM and DR intervals."""
    dr, dm = estimates["dr"], estimates["dm"]
    if exact:
        return dr
    return Estimate(dr.value, min(dr.low, dm.low), max(dr.high, dm.high))


def compare_policies(
    data: LoggedData,
    a: tuple[np.ndarray, np.ndarray],
    b: tuple[np.ndarray, np.ndarray],
    *,
    estimator: str = "dr",
    n_boot: int = 200,
    seed: int = 0,
) -> Estimate:
    """Paired estimate of ``value(a) - value(b)`` under one estimator.

    ``a`` and ``b`` are ``(target_style, q_target)`` pairs. Both policies are evaluated on the same
    bootstrap resamples (the ones :func:`estimate_policy_value` draws with the same ``seed``), so
    the noise they share cancels and the interval of the difference is much narrower than the
    two separate intervals suggest when the policies agree on most rows. Comparing a policy with
    itself gives exactly 0 with a zero-width interval.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    _check_boot(n_boot)
    w = _weights(data, None)
    terms_a = _terms(data, *_target(data, *a, prefix="a."), w)
    terms_b = _terms(data, *_target(data, *b, prefix="b."), w)
    n = data.n
    if estimator == "snips":
        cols = [_IPS_NUM, _SNIPS_DEN]
        ma = np.ascontiguousarray(terms_a[:, cols])
        mb = np.ascontiguousarray(terms_b[:, cols])
        with np.errstate(invalid="ignore", divide="ignore"):
            sa, sb = ma.sum(axis=0), mb.sum(axis=0)
            point = sa[0] / sa[1] - sb[0] / sb[1]
            boot_a, boot_b = _bootstrap_sums([ma, mb], n_boot, seed)
            draws = boot_a[:, 0] / boot_a[:, 1] - boot_b[:, 0] / boot_b[:, 1]
    else:
        col = {"dm": _DM, "ips": _IPS_NUM, "dr": _DR}[estimator]
        diff = (terms_a[:, col] - terms_b[:, col])[:, None]
        point = diff.sum() / n
        (boot,) = _bootstrap_sums([diff], n_boot, seed)
        draws = boot[:, 0] / n
    low, high = _interval(draws)
    return Estimate(float(point), float(low), float(high))


def gain_over_logged(
    data: LoggedData,
    target_style: np.ndarray,
    q_target: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> Estimate:
    """Paired DR estimate of ``value(target) - value(logging policy)`` on the same rows.

    The logging policy's value on its own log is the mean reward, so the per-row difference is
    the target's DR term less the row's reward; both sides move together on each bootstrap
    resample (the shared profile noise cancels).
    """
    _check_boot(n_boot)
    style, q = _target(data, target_style, q_target)
    terms = _terms(data, style, q, _weights(data, None))
    diff = np.ascontiguousarray((terms[:, _DR] - data.reward)[:, None])
    (boot,) = _bootstrap_sums([diff], n_boot, seed)
    low, high = _interval(boot[:, 0] / data.n)
    return Estimate(float(diff.mean()), float(low), float(high))


def simultaneous_gains(
    data: LoggedData,
    target_styles: np.ndarray,
    q_targets: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> tuple[list[Estimate], float]:
    """Paired DR gains over the logged policy of ``g`` policies at once, with 95% intervals
    that hold for all of them together: the one to trust when a policy is *chosen* among them
    on the same rows.

    ``target_styles`` and ``q_targets`` are ``(n, g)``: column ``j`` is policy ``j``'s style
    and objective per row, as in :func:`gain_over_logged`. Each interval is the point gain plus
    or minus ``c`` bootstrap standard errors, ``c`` the 95% quantile over the resamples of the
    largest standardised deviation of any policy (a studentised max-t band). When the
    policies' estimates move together (they share rows), ``c`` stays near the single
    policy's 1.96; for ``g`` unrelated policies it grows towards the Bonferroni value. Returns
    the estimates in column order and ``c``.
    """
    dr = _dr_columns(data, target_styles, q_targets)
    return _max_t_band(dr - data.reward[:, None], n_boot, seed)


def simultaneous_values(
    data: LoggedData,
    target_styles: np.ndarray,
    q_targets: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> tuple[list[Estimate], float]:
    """DR values of ``g`` policies with the intervals of :func:`simultaneous_gains` (the
    policies' values, not their gains over the logged policy)."""
    return _max_t_band(_dr_columns(data, target_styles, q_targets), n_boot, seed)


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


def _max_t_band(terms: np.ndarray, n_boot: int, seed: int) -> tuple[list[Estimate], float]:
    """Column means of ``terms`` (n, g) with a studentised max-t bootstrap band (95%)."""
    _check_boot(n_boot)
    n = terms.shape[0]
    point = terms.mean(axis=0)
    (boot,) = _bootstrap_sums([np.ascontiguousarray(terms)], n_boot, seed)
    draws = boot / n
    se = draws.std(axis=0, ddof=1)
    moving = se > 0  # a policy identical to the logged one on every row has no spread
    crit = 0.0
    if moving.any():
        deviation = np.abs(draws[:, moving] - point[moving]) / se[moving]
        crit = float(np.quantile(deviation.max(axis=1), 0.95))
    return [
        Estimate(float(v), float(v - crit * e), float(v + crit * e))
        for v, e in zip(point, se, strict=True)
    ], crit


def logged_policy_value(data: LoggedData, *, n_boot: int = 200, seed: int = 0) -> Estimate:
    """On-policy value of the logging policy: the mean reward, with a 95% bootstrap interval."""
    _check_boot(n_boot)
    reward = data.reward[:, None]
    (boot,) = _bootstrap_sums([np.ascontiguousarray(reward)], n_boot, seed)
    low, high = _interval(boot[:, 0] / data.n)
    return Estimate(float(data.reward.mean()), float(low), float(high))


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``; 0.0 for empty or all-zero weights."""
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size and not np.all(np.isfinite(w)):
        bad = int(np.count_nonzero(~np.isfinite(w)))
        raise ValueError(f"weights: {bad} of {w.size} entries are not finite (NaN or inf)")
    sum_sq = float(np.dot(w, w))
    if w.size == 0 or sum_sq == 0.0:
        return 0.0
    total = float(w.sum())
    return total * total / sum_sq
