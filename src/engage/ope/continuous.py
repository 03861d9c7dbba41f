"""Kernel-smoothed IPS and DR of full actions (style, mix and numeric decisions), for logs whose
continuous decisions were drawn with a recorded density.

The style-matched estimators (:mod:`engage.ope.estimators`) correct the style only: a matched
row keeps the logged mix and cadence. When the service explored the continuous decisions too
(full-action exploration) each row carries the density ``f_i`` of its mix and numeric
decisions given its style, so the log has a generalised propensity ``p_i * f_i`` over
style x mix x numeric decisions, and a target's *whole* action can be valued.

A deterministic target's action ``(t_i, m_i, u_i)`` has density zero in the log, so its action
is smoothed with a kernel ``K`` of the same family the service draws with
(:mod:`engage.ope.kernels`): a Dirichlet with mode ``m_i`` over the mix and a box of half-width
``h`` around each numeric decision, cut to its declared range. With
``w_i = 1[a_i = t_i] / p_i * K(mix_i, num_i | m_i, u_i) / f_i``:

* ``kIPS = mean(w * y)``; ``kSNIPS = sum(w * y) / sum(w)``;
* ``kDR = mean(q_target + w * (y - q_logged))``, with ``q_target`` the model's objective
  averaged over the kernel (:func:`kernel_samples` draws the actions to average it over).

kIPS is unbiased for the **smoothed target**, "serve ``t_i`` with the mix and numeric decisions
drawn from ``K`` around ``(m_i, u_i)``", wherever the log's density is positive on ``K``'s
support (a kernel reaching where the log could not draw loses that mass: kIPS then reads low,
and kDR leans on its model there); kDR is unbiased when either the weights or the model are
right. Read at the kernel's mode instead of averaged over it, the model term would carry the
model's smoothing error (of order ``h^2``). The smoothed target tends to the deterministic one
as the kernel narrows.

**Bandwidth rule** (:func:`kernel_scale`): the kernel has the log's own exploration width
(the median of the recorded parameters) times ``min(1, (n / 1000)^(-1 / (d + 4)))``, ``d`` the
number of continuous dimensions (``K - 1`` mix shares plus the numeric decisions): the
classical rate at which a kernel's bias and variance stay balanced as the log grows, never
wider than the exploration that made the log (which would weigh actions it could not have
drawn). The Dirichlet's spread scales as ``1 / sqrt(concentration)``, so its concentration is
divided by the scale squared.

Intervals: 95% percentile bootstrap of rows, as :mod:`engage.ope.estimators`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engage.ope.core import _bootstrap_sums, _interval, _target
from engage.ope.data import Estimate, LoggedData, _check_boot
from engage.ope.kernels import box_bounds, box_density, dirichlet_alpha, mix_density

#: the log size at which the kernel is as wide as the exploration (the rule's reference)
KERNEL_REFERENCE_ROWS = 1000
KERNEL_ESTIMATORS: tuple[str, ...] = ("kips", "ksnips", "kdr")


def _matrix(name: str, values: object, n: int) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    if arr.ndim == 1 and n:
        arr = arr.reshape(n, -1) if arr.size else np.empty((n, 0))
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(f"LoggedActions.{name} must be ({n}, k), got shape {arr.shape}")
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"LoggedActions.{name}: {bad} of {arr.size} entries are not finite")
    arr.flags.writeable = False
    return arr


def _filled(name: str, values: object, n: int, explored: np.ndarray) -> np.ndarray:
    arr = np.array(values, dtype=np.float64)
    arr = arr.reshape(n, -1) if arr.ndim == 1 else arr
    if arr.ndim == 2 and arr.shape[0] == n and arr.shape[1]:
        arr[~explored] = np.median(arr[explored], axis=0)
    return _matrix(name, arr, n)


@dataclass(frozen=True)
class LoggedActions:
    """The continuous part of each logged row's action and how it was drawn.

    Attributes:
        mix: ``(n, K)`` logged mix shares (``K = 0``: no mix).
        numeric: ``(n, J)`` logged numeric decisions.
        density: ``(n,)`` recorded density of each row's continuous draw, > 0; NaN where the
            row's mix and numeric decisions were not drawn (the policy's own: a budget left no
            room, or a cap pinned them). Such rows get kernel weight 0: they add only the
            model term to kDR and nothing to kIPS, a hole in the log's support that the
            estimates report (:attr:`explored`).
        mix_concentration: ``(n,)`` the Dirichlet concentration each row was drawn with.
        half_width: ``(n, J)`` the numeric half-widths each row was drawn with.
        low, high: ``(J,)`` each numeric decision's declared range (kernels are cut to it).
    """

    mix: np.ndarray
    numeric: np.ndarray
    density: np.ndarray
    mix_concentration: np.ndarray
    half_width: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def __post_init__(self) -> None:
        density = np.array(self.density, dtype=np.float64)
        if density.ndim != 1 or density.size == 0:
            raise ValueError(
                f"LoggedActions.density must be 1-D and non-empty, got {density.shape}"
            )
        n = density.size
        bad = int(np.count_nonzero(np.isinf(density) | (density <= 0)))
        if bad:
            raise ValueError(
                f"LoggedActions.density: {bad} of {n} rows have a density that is not positive "
                "and finite (NaN marks a row whose continuous decisions were not drawn)"
            )
        explored = ~np.isnan(density)
        if not explored.any():
            raise ValueError(f"LoggedActions.density: none of the {n} rows was explored")
        for name in ("mix", "numeric"):
            object.__setattr__(self, name, _matrix(name, getattr(self, name), n))
        # the drawing parameters of rows not drawn are unused: their explored rows' median
        object.__setattr__(self, "half_width", _filled("half_width", self.half_width, n, explored))
        conc = (
            _filled("mix_concentration", self.mix_concentration, n, explored)[:, 0]
            if self.mix.shape[1]
            else np.zeros(n)
        )
        object.__setattr__(self, "mix_concentration", conc)
        object.__setattr__(self, "density", density)
        j = self.numeric.shape[1]
        for name in ("low", "high"):
            arr = np.array(getattr(self, name), dtype=np.float64).reshape(-1)
            if arr.shape != (j,):
                raise ValueError(f"LoggedActions.{name} must have {j} entries, got {arr.shape}")
            object.__setattr__(self, name, arr)
        if self.half_width.shape != self.numeric.shape:
            raise ValueError("LoggedActions.half_width must have numeric's shape")

    @property
    def n(self) -> int:
        return int(self.density.size)

    @property
    def explored(self) -> np.ndarray:
        """Which rows' continuous decisions were drawn (a recorded density)."""
        out: np.ndarray = ~np.isnan(self.density)
        return out

    @property
    def dims(self) -> int:
        """Continuous dimensions: ``K - 1`` free mix shares plus the numeric decisions."""
        k = int(self.mix.shape[1])
        return max(k - 1, 0) + int(self.numeric.shape[1])


def kernel_scale(n: int, dims: int) -> float:
    """The kernel's width relative to the log's exploration: ``min(1, (n/1000)^(-1/(d+4)))``."""
    if n < 1 or dims < 0:
        raise ValueError(f"kernel_scale needs n >= 1 and dims >= 0, got {n}, {dims}")
    return float(min(1.0, (n / KERNEL_REFERENCE_ROWS) ** (-1.0 / (dims + 4))))


def _kernel(actions: LoggedActions, scale: float | None) -> tuple[float, float, np.ndarray]:
    """The kernel's scale, Dirichlet concentration and numeric half-widths for ``actions``."""
    s = kernel_scale(actions.n, actions.dims) if scale is None else float(scale)
    if not 0 < s <= 1:
        raise ValueError(f"kernel scale must be in (0, 1], got {s}")
    concentration = (
        float(np.median(actions.mix_concentration)) / s**2 if actions.mix.shape[1] else 0.0
    )
    half = np.median(actions.half_width, axis=0) * s if actions.numeric.shape[1] else np.empty(0)
    return s, concentration, half


def kernel_samples(
    actions: LoggedActions,
    target_mix: np.ndarray,
    target_numeric: np.ndarray,
    *,
    draws: int = 16,
    seed: int = 0,
    scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``draws`` actions from the kernel around each row's target action, to average a model
    over (kDR's ``q_target``): mixes ``(n * draws, K)`` and numeric decisions
    ``(n * draws, J)``, row ``i``'s draws at ``i * draws ... (i + 1) * draws - 1``."""
    _, concentration, half = _kernel(actions, scale)
    rng = np.random.default_rng(seed)
    n, k, j = actions.n, actions.mix.shape[1], actions.numeric.shape[1]
    tm = _matrix("target_mix", target_mix, n) if k else np.empty((n, 0))
    tn = _matrix("target_numeric", target_numeric, n) if j else np.empty((n, 0))
    mixes = np.empty((n * draws, 0))
    nums = np.empty((n * draws, 0))
    if k:  # Dirichlet draws as normalised gamma draws, all rows at once
        centre = np.repeat(tm / tm.sum(axis=1, keepdims=True), draws, axis=0)
        g = rng.gamma(dirichlet_alpha(centre, concentration))
        mixes = g / g.sum(axis=1, keepdims=True)
    if j:
        a, b = box_bounds(np.repeat(tn, draws, axis=0), half, actions.low, actions.high)
        nums = rng.uniform(a, b)
    return mixes, nums


def kernel_weights(
    actions: LoggedActions,
    target_mix: np.ndarray,
    target_numeric: np.ndarray,
    scale: float | None = None,
) -> np.ndarray:
    """``K(logged continuous action | target's) / recorded density`` per row, ``(n,)``; the
    kernel at :func:`kernel_scale` of the log unless ``scale`` is given."""
    _, concentration, half = _kernel(actions, scale)
    k = np.ones(actions.n)
    if actions.mix.shape[1]:
        tm = _matrix("target_mix", target_mix, actions.n)
        k *= mix_density(actions.mix, tm / tm.sum(axis=1, keepdims=True), concentration)
    if actions.numeric.shape[1]:
        tn = _matrix("target_numeric", target_numeric, actions.n)
        k *= box_density(actions.numeric, tn, half, actions.low, actions.high)
    out: np.ndarray = np.where(
        actions.explored, k / np.where(actions.explored, actions.density, 1.0), 0.0
    )
    return out


def kernel_policy_value(
    data: LoggedData,
    actions: LoggedActions,
    target_style: np.ndarray,
    target_mix: np.ndarray,
    target_numeric: np.ndarray,
    q_target: np.ndarray,
    *,
    n_boot: int = 200,
    seed: int = 0,
    scale: float | None = None,
) -> dict[str, Estimate]:
    """kIPS, kSNIPS and kDR (module docstring) of a deterministic full-action target.

    Args:
        data: the log (its ``propensity`` is the recorded *style* probability).
        actions: the log's continuous decisions and their recorded densities.
        target_style, target_mix, target_numeric: the target's action per logged row.
        q_target: the model's objective of the target's action per row, averaged over the
            kernel (:func:`kernel_samples`); at the kernel's mode it is an approximation.
        n_boot, seed: the bootstrap, as :func:`~engage.ope.estimate_policy_value`.
        scale: the kernel's width relative to the exploration (default :func:`kernel_scale`).
    """
    _check_boot(n_boot)
    if actions.n != data.n:
        raise ValueError(f"LoggedActions has {actions.n} rows but the log has {data.n}")
    style, q = _target(data, target_style, q_target)
    w = np.where(data.style == style, 1.0 / data.propensity, 0.0)
    w = w * kernel_weights(actions, target_mix, target_numeric, scale)
    terms = np.column_stack([w * data.reward, w, q + w * (data.reward - data.q_logged)])
    terms = np.ascontiguousarray(terms)
    point = _kernel_values(terms.sum(axis=0), data.n)
    (boot,) = _bootstrap_sums([terms], n_boot, seed)
    low, high = _interval(_kernel_values(boot, data.n))
    return {
        name: Estimate(float(point[k]), float(low[k]), float(high[k]))
        for k, name in enumerate(KERNEL_ESTIMATORS)
    }


def _kernel_values(sums: np.ndarray, n: int) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        snips = sums[..., 0] / sums[..., 1]
    return np.stack([sums[..., 0] / n, snips, sums[..., 2] / n], axis=-1)
