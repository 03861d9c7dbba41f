"""The densities of the continuous decisions' exploration, and the kernels that value them.

One family serves both sides: the service draws the posting mix and each numeric decision
(cadence, ...) from these distributions around the policy's choice and records their density
at the drawn action (:mod:`engage.policy.exploration`); the kernel estimators
(:mod:`engage.ope.continuous`) smooth a target policy's action with the same family. So the
density a decision record carries and the kernel an estimator uses are one formula, here.

* **Mix** (``K`` shares on the simplex): ``d ~ Dirichlet(1 + c * m)``, whose mode is the
  centre mix ``m`` (``c`` the concentration: larger is tighter), then contracted towards the
  centre, ``x = m + s * (d - m)`` with ``0 < s <= 1``, so that caller's caps on shares hold for
  every possible draw (:func:`mix_contraction`). The density of ``x`` over its first ``K - 1``
  shares is ``Dirichlet(m + (x - m) / s) * s^-(K-1)``.
* **Numeric decision** (each one separately): uniform on ``[t - h, t + h]`` cut to the
  allowed range ``[low, high]`` (declared range and caller's bounds), ``h`` the half-width:
  the truncated box kernel of CATS. Its density is ``1 / width`` inside and 0 outside.

Pure numpy and the standard library (``math.lgamma``); imports nothing else from engage.
"""

from __future__ import annotations

import math

import numpy as np

#: shares closer than this to a bound count as on it (float noise of a sum-to-one mix)
SHARE_TOLERANCE = 1e-9
_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def dirichlet_alpha(centre: np.ndarray, concentration: float | np.ndarray) -> np.ndarray:
    """``1 + concentration * centre``: a Dirichlet whose mode is ``centre`` (shape ``(..., K)``;
    ``concentration`` a scalar or one per row)."""
    c = np.asarray(concentration, dtype=float)
    if c.ndim:
        c = c[..., None]
    out: np.ndarray = 1.0 + c * np.asarray(centre, dtype=float)
    return out


def log_dirichlet(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Log density of ``Dirichlet(alpha)`` at ``x`` (rows on the simplex), over the first
    ``K - 1`` coordinates; ``-inf`` outside the simplex."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), x.shape)
    outside = (x < -SHARE_TOLERANCE).any(axis=1) | (np.abs(x.sum(axis=1) - 1.0) > 1e-6)
    xc = np.clip(x, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(alpha == 1.0, 0.0, (alpha - 1.0) * np.log(xc))
    log_norm = _lgamma(alpha).astype(float).sum(axis=1) - _lgamma(alpha.sum(axis=1)).astype(float)
    out: np.ndarray = terms.sum(axis=1) - log_norm
    out[outside] = -np.inf
    return out


def mix_contraction(centre: np.ndarray, caps: np.ndarray) -> float:
    """The largest ``s`` in ``[0, 1]`` for which every draw ``centre + s * (d - centre)`` (``d``
    anywhere on the simplex) keeps each share ``j`` at or below ``caps[j]``: the vertex
    ``e_j`` is the worst case, ``(1 - s) * centre_j + s <= caps_j``. 0 when the centre already
    sits on a cap (the mix cannot move without breaking it)."""
    c = np.asarray(centre, dtype=float)
    u = np.asarray(caps, dtype=float)
    bound = u < 1.0 - SHARE_TOLERANCE
    if not bound.any():
        return 1.0
    room = (u[bound] - c[bound]) / np.maximum(1.0 - c[bound], SHARE_TOLERANCE)
    return float(np.clip(room.min(), 0.0, 1.0))


def mix_density(
    x: np.ndarray,
    centre: np.ndarray,
    concentration: float | np.ndarray,
    contraction: float | np.ndarray = 1.0,
) -> np.ndarray:
    """Density of the contracted Dirichlet draw (module docstring) at rows ``x``, ``(n,)``.

    ``centre``, ``concentration`` and ``contraction`` broadcast against the rows of ``x``.
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    m = np.broadcast_to(np.asarray(centre, dtype=float), x.shape)
    s = np.broadcast_to(np.asarray(contraction, dtype=float), (x.shape[0],))
    if (s <= 0).any():
        raise ValueError("a mix contraction must be > 0 (0: the mix was not explored)")
    d = m + (x - m) / s[:, None]
    alpha = dirichlet_alpha(m, np.broadcast_to(np.asarray(concentration, float), (x.shape[0],)))
    dens: np.ndarray = np.exp(log_dirichlet(d, alpha)) * s ** (-(x.shape[1] - 1.0))
    return dens


def draw_mix(
    rng: np.random.Generator, centre: np.ndarray, concentration: float, contraction: float
) -> np.ndarray:
    """One draw of the contracted Dirichlet around ``centre`` (module docstring)."""
    m = np.asarray(centre, dtype=float)
    d = rng.dirichlet(dirichlet_alpha(m, concentration))
    x = m + contraction * (d - m)
    x = np.clip(x, 0.0, None)
    out: np.ndarray = x / x.sum()
    return out


def box_bounds(
    centre: np.ndarray, half_width: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The truncated box ``[max(low, t - h), min(high, t + h)]`` (elementwise)."""
    t = np.asarray(centre, dtype=float)
    h = np.asarray(half_width, dtype=float)
    return np.maximum(low, t - h), np.minimum(high, t + h)


def box_density(
    x: np.ndarray,
    centre: np.ndarray,
    half_width: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> np.ndarray:
    """Product over the numeric decisions (last axis) of the truncated box densities at ``x``;
    ``(n,)`` for ``(n, J)`` rows (1 when ``J = 0``)."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    a, b = box_bounds(centre, half_width, low, high)
    a, b = np.broadcast_to(a, x.shape), np.broadcast_to(b, x.shape)
    width = b - a
    if (width <= 0).any():
        raise ValueError("a numeric kernel has no width (half-width 0, or the range is empty)")
    tol = 1e-9 * np.maximum(1.0, np.abs(x))
    inside = (x >= a - tol) & (x <= b + tol)
    out: np.ndarray = np.where(inside, 1.0 / width, 0.0).prod(axis=1)
    return out


def draw_box(
    rng: np.random.Generator,
    centre: np.ndarray,
    half_width: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
) -> np.ndarray:
    """One draw of each numeric decision, uniform on its truncated box."""
    a, b = box_bounds(centre, half_width, low, high)
    out: np.ndarray = rng.uniform(a, b) if np.size(a) else np.empty(0)
    return out
