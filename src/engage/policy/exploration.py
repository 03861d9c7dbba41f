"""Exploration: how the served first recommendation is drawn among the allowed styles.

The policy ranks; exploration decides which of the ranked styles is served first, and with
what probability, so the decisions it logs carry *known* propensities for off-policy
evaluation. Three methods, over the scores of the styles a profile may get (within the
support floor and the caller's constraints; the caller passes only those):

* ``greedy``: the policy's first choice, probability 1 (the behaviour without exploration);
* ``epsilon``: the first choice with probability ``1 - epsilon``; with probability
  ``epsilon`` a style drawn uniformly among all of them (the first choice included), so the
  first choice has ``1 - epsilon + epsilon / m`` and every other ``epsilon / m``;
* ``softmax``: ``p_j ∝ exp(score_j / temperature)`` over the (support-discounted) scores.

The reported probability is read from the very array the draw used. The draw is reproducible:
its generator is seeded from the profile and the decision id (:func:`draw_seed`). Pure numpy.

**Full-action exploration** (``full=True``): besides the style, the served action's continuous
decisions are drawn around the policy's choice for the served style, so the loop learns about
other mixes and cadences too (:func:`draw_continuous`; the densities are
:mod:`engage.ope.kernels`'): the mix from a Dirichlet whose mode is the chosen mix, of
concentration :data:`MIX_CONCENTRATION`, contracted so that no draw breaks the caller's caps on
shares; each numeric decision uniform within :data:`NUMERIC_BANDWIDTH` of the decision's
spread in the policy's candidate set (its logged 10%-90% range per style), cut to the spec's
declared range and the caller's bounds. The recorded propensity of the served action is the
style probability times the density of that draw at the drawn action. Categorical decisions
(a platform) are not explored.

**Budget**: the expected objective given up by exploring, estimated with the outcome models,
is held at or below what the request may spend (:func:`thin`, :func:`fit_scale`): the style
distribution is mixed with the greedy choice, and the continuous draw is narrowed (scale 1,
1/2, 1/4, 1/8 of its width, else not explored) until it fits. What an option gives up is its
:func:`loss` against the policy's choice, never below 0: a predicted gain off that choice is
the model's extrapolation, not a saving to spend elsewhere. :class:`BudgetLedger` keeps a
service's running mean of that cost at or below its per-decision budget.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from engage.ope.kernels import (
    box_bounds,
    box_density,
    draw_box,
    draw_mix,
    mix_contraction,
    mix_density,
)

#: the Dirichlet's concentration ``c`` in ``alpha = 1 + c * mix``: a share of 0.2 moves by about
#: 0.07 (one standard deviation) at full scale
MIX_CONCENTRATION = 30.0
#: each numeric decision's half-width, in units of its spread in the candidate set
NUMERIC_BANDWIDTH = 0.25
#: model-scored draws behind a budget's estimate of what the continuous draw gives up
BUDGET_DRAWS = 8
#: the widths tried, widest first, until the continuous draw fits the budget
BUDGET_SCALES = (1.0, 0.5, 0.25, 0.125)

Method = Literal["greedy", "epsilon", "softmax"]
METHODS: tuple[str, ...] = ("greedy", "epsilon", "softmax")


@dataclass(frozen=True)
class Exploration:
    """How to draw the served style.

    Attributes:
        method: ``greedy``, ``epsilon`` or ``softmax``.
        epsilon: share of draws spread uniformly over the allowed styles, in [0, 1].
        temperature: softmax temperature in score units, > 0 (small: nearly greedy).
        full: also draw the continuous decisions (mix, numeric) around the chosen ones.
        budget: the most expected objective one decision may give up by exploring (objective
            units, >= 0); None: no cap beyond the method's own.
    """

    method: Method = "greedy"
    epsilon: float = 0.1
    temperature: float = 1.0
    full: bool = False
    budget: float | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(
                f"exploration.method must be one of {list(METHODS)}, not {self.method!r}"
            )
        if not (math.isfinite(self.epsilon) and 0.0 <= self.epsilon <= 1.0):
            raise ValueError(f"exploration.epsilon must be in [0, 1], not {self.epsilon}")
        if not (math.isfinite(self.temperature) and self.temperature > 0.0):
            raise ValueError(f"exploration.temperature must be > 0, not {self.temperature}")
        if self.budget is not None and not (math.isfinite(self.budget) and self.budget >= 0):
            raise ValueError(f"exploration.budget must be >= 0, not {self.budget}")

    @property
    def explores(self) -> bool:
        """Whether anything is drawn (a style or a continuous decision)."""
        return self.method != "greedy" or self.full


GREEDY = Exploration()


@dataclass(frozen=True)
class Draw:
    """One draw: which option was served, its probability and the whole distribution."""

    index: int
    probability: float
    probabilities: np.ndarray


def distribution(scores: Sequence[float] | np.ndarray, first: int, how: Exploration) -> np.ndarray:
    """The probability of serving each option first.

    Args:
        scores: each allowed option's ranking score (one option per style), at least one.
        first: the index of the policy's own first choice among them.
        how: the exploration method.

    Returns:
        Probabilities, same length as ``scores``, summing to 1.
    """
    s = np.asarray(scores, dtype=float)
    m = len(s)
    if m == 0:
        raise ValueError("no option to draw from")
    if not 0 <= first < m:
        raise ValueError(f"first choice {first} is not one of the {m} options")
    if how.method == "greedy" or m == 1:
        p = np.zeros(m)
        p[first] = 1.0
        return p
    if how.method == "epsilon":
        p = np.full(m, how.epsilon / m)
        p[first] += 1.0 - how.epsilon
        return p
    if not np.all(np.isfinite(s)):
        raise ValueError("softmax exploration needs finite scores")
    z = (s - s.max()) / how.temperature
    e = np.exp(z)
    softmax: np.ndarray = e / e.sum()
    return softmax


def draw(scores: Sequence[float] | np.ndarray, first: int, how: Exploration, seed: int) -> Draw:
    """Draw the served option from :func:`distribution`; greedy draws nothing (probability 1).

    The same ``seed`` gives the same draw; the probability is that of the drawn option in the
    distribution the draw used.
    """
    return draw_from(distribution(scores, first, how), first, seed)


def draw_from(p: np.ndarray, first: int, seed: int) -> Draw:
    """Draw an option from the probabilities ``p`` (seeded as :func:`draw`)."""
    if p[first] == 1.0:
        return Draw(first, 1.0, p)
    u = np.random.default_rng(seed).random()
    index = min(int(np.searchsorted(np.cumsum(p), u, side="right")), len(p) - 1)
    while p[index] == 0.0:  # only reachable through rounding at the cumulative sum's end
        index -= 1
    return Draw(index, float(p[index]), p)


def draw_seed(profile: Mapping[str, Any], decision_id: str) -> int:
    """A 64-bit seed from a profile and a decision id (stable across processes and runs)."""
    text = json.dumps(dict(profile), sort_keys=True, default=str) + "\x00" + decision_id
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


# -------------------------------------------------------------------- the continuous decisions


@dataclass(frozen=True)
class Region:
    """Where a continuous draw may land: caps on mix shares (1 where none), each numeric
    decision's allowed range (declared range and caller's bounds) and full-scale half-width."""

    mix_caps: np.ndarray
    low: np.ndarray
    high: np.ndarray
    bandwidth: np.ndarray


def spread(values: np.ndarray) -> float:
    """A numeric decision's spread: its range over the candidate set (which spans the log's
    10%-90% quantiles of each style), else 10% of its size (1 when it is 0)."""
    v = np.asarray(values, dtype=float)
    width = float(v.max() - v.min()) if v.size else 0.0
    if width > 0:
        return width
    size = float(np.abs(v).max()) if v.size else 0.0
    return 0.1 * size if size > 0 else 1.0


def region(
    mix_caps: Sequence[float],
    declared: Sequence[tuple[float | None, float | None]],
    bounds: Sequence[tuple[float | None, float | None]],
    candidates: Sequence[np.ndarray],
) -> Region:
    """The :class:`Region` of a request: ``declared`` the spec's (min, max) of each numeric
    decision, ``bounds`` the caller's, ``candidates`` each decision's candidate values."""
    lows = [
        max(x for x in (d[0], b[0], -math.inf) if x is not None)
        for d, b in zip(declared, bounds, strict=True)
    ]
    highs = [
        min(x for x in (d[1], b[1], math.inf) if x is not None)
        for d, b in zip(declared, bounds, strict=True)
    ]
    return Region(
        np.asarray(mix_caps, dtype=float),
        np.asarray(lows, dtype=float),
        np.asarray(highs, dtype=float),
        np.array([NUMERIC_BANDWIDTH * spread(c) for c in candidates], dtype=float),
    )


@dataclass(frozen=True)
class ContinuousDraw:
    """A drawn mix and numeric decisions, the density of the draw there, and its parameters."""

    mix: np.ndarray
    numeric: np.ndarray
    density: float
    scale: float
    contraction: float
    half_width: np.ndarray

    def parameters(self) -> dict[str, Any]:
        """The distribution's parameters, as the decision record keeps them."""
        return {
            "mix_concentration": MIX_CONCENTRATION,
            "mix_contraction": self.contraction,
            "half_width": [float(h) for h in self.half_width],
            "scale": self.scale,
        }


def _contraction(centre_mix: np.ndarray, where: Region, scale: float) -> float:
    return scale * mix_contraction(centre_mix, where.mix_caps) if centre_mix.size else 1.0


def movable(centre_mix: np.ndarray, centre_numeric: np.ndarray, where: Region) -> bool:
    """Whether a continuous draw around this centre has a density: the mix is not pinned on
    a cap, every numeric range has room, and there is at least one continuous decision."""
    if centre_mix.size == 0 and centre_numeric.size == 0:
        return False
    if centre_mix.size and _contraction(centre_mix, where, 1.0) <= 0.0:
        return False
    if centre_numeric.size:
        a = np.maximum(where.low, centre_numeric - where.bandwidth)
        b = np.minimum(where.high, centre_numeric + where.bandwidth)
        if ((b - a) <= 0).any():
            return False
    return True


def draw_continuous(
    centre_mix: np.ndarray, centre_numeric: np.ndarray, where: Region, scale: float, seed: int
) -> ContinuousDraw:
    """Draw the mix and numeric decisions around the centre at ``scale`` (0 < scale <= 1), from
    a generator seeded with ``(seed, 1)``; the density is that of this very distribution."""
    rng = np.random.default_rng([seed, 1])
    contraction = _contraction(centre_mix, where, scale)
    half = scale * where.bandwidth
    mix = (
        draw_mix(rng, centre_mix, MIX_CONCENTRATION, contraction) if centre_mix.size else centre_mix
    )
    numeric = draw_box(rng, centre_numeric, half, where.low, where.high)
    density = continuous_density(mix, numeric, centre_mix, centre_numeric, where, contraction, half)
    return ContinuousDraw(mix, numeric, density, scale, contraction, half)


def continuous_density(
    mix: np.ndarray,
    numeric: np.ndarray,
    centre_mix: np.ndarray,
    centre_numeric: np.ndarray,
    where: Region,
    contraction: float,
    half_width: np.ndarray,
) -> float:
    """The density of :func:`draw_continuous`'s distribution at ``(mix, numeric)``."""
    d = 1.0
    if centre_mix.size:
        d *= float(mix_density(mix, centre_mix, MIX_CONCENTRATION, contraction)[0])
    if centre_numeric.size:
        d *= float(box_density(numeric, centre_numeric, half_width, where.low, where.high)[0])
    return d


#: the model's predicted objective of rows of mixes ``(M, K)`` and numeric decisions
#: ``(M, J)`` for one profile and style. The hook for optimism: a caller whose models give an
#: uncertainty may return ``mean + k * width`` here, so uncertain upside counts as less given up.
Objective = Callable[[np.ndarray, np.ndarray], np.ndarray]


def continuous_costs(
    centre_mix: np.ndarray,
    centre_numeric: np.ndarray,
    where: Region,
    objective: Objective,
    seed: int,
    scales: Sequence[float] = BUDGET_SCALES,
) -> dict[float, float]:
    """Expected objective given up by the continuous draw at each of ``scales`` (all of
    :data:`BUDGET_SCALES`, or the widest alone when nothing caps the cost): the mean :func:`loss`
    against the centre of :data:`BUDGET_DRAWS` draws, one model call (common random numbers
    across scales from a generator seeded ``(seed, 2)``: a scale's cost does not depend on which
    others are asked)."""
    rng = np.random.default_rng([seed, 2])
    widths = np.asarray(scales, dtype=float)
    n = BUDGET_DRAWS * len(widths)
    mixes = np.repeat(centre_mix[None], n, axis=0)
    if centre_mix.size:
        dm = rng.dirichlet(1.0 + MIX_CONCENTRATION * centre_mix, size=BUDGET_DRAWS)
        step = (widths * _contraction(centre_mix, where, 1.0))[None, :, None]
        mixes = (centre_mix + step * (dm - centre_mix)[:, None, :]).reshape(n, -1)
    u = rng.random((BUDGET_DRAWS, 1, centre_numeric.size))
    a, b = box_bounds(centre_numeric, widths[:, None] * where.bandwidth, where.low, where.high)
    nums = (a + u * (b - a)).reshape(n, centre_numeric.size)
    values = np.asarray(
        objective(np.vstack([centre_mix[None], mixes]), np.vstack([centre_numeric[None], nums])),
        dtype=float,
    )
    lost = loss(values[0], values[1:]).reshape(BUDGET_DRAWS, len(widths)).mean(axis=0)
    return {float(s): float(c) for s, c in zip(widths, lost, strict=True)}


def loss(reference: float | np.ndarray, values: np.ndarray) -> np.ndarray:
    """What serving each of ``values`` instead of ``reference`` gives up: never below 0."""
    out: np.ndarray = np.maximum(np.asarray(reference, dtype=float) - values, 0.0)
    return out


def fit_scale(costs: Mapping[float, float], allowed: float) -> float:
    """The widest scale whose cost fits in ``allowed``; 0 (no continuous draw) if none does."""
    for s in sorted(costs, reverse=True):
        if costs[s] <= allowed:
            return s
    return 0.0


def style_cost(p: np.ndarray, objectives: np.ndarray) -> float:
    """Expected objective given up by drawing the style from ``p`` instead of the first
    (``objectives`` the options' values, the first's first; each option's :func:`loss`)."""
    values = np.asarray(objectives, dtype=float)
    return float(np.dot(p, loss(values[0], values)))


def thin(p: np.ndarray, first: int, cost: float, allowed: float) -> np.ndarray:
    """``p`` mixed with the greedy choice so that its cost (linear in the mix) is ``allowed``
    when ``cost`` exceeds it; ``p`` unchanged otherwise."""
    if cost <= allowed or cost <= 0:
        return p
    t = max(allowed, 0.0) / cost
    out = t * p
    out[first] += 1.0 - t
    return out


class BudgetLedger:
    """A service's exploration spending: each decision may spend what keeps the running mean
    of the expected objective given up at or below ``per_decision`` (None: unbounded)."""

    def __init__(self, per_decision: float | None) -> None:
        self.per_decision = per_decision
        self.decisions = 0
        self.spent = 0.0
        self._lock = threading.Lock()

    def allowance(self) -> float:
        """What the next decision may spend."""
        if self.per_decision is None:
            return math.inf
        with self._lock:
            return max(0.0, self.per_decision * (self.decisions + 1) - self.spent)

    def charge(self, cost: float) -> float:
        """Book one decision's expected cost; returns the running mean per decision."""
        with self._lock:
            self.decisions += 1
            self.spent += max(cost, 0.0)
            return self.spent / self.decisions
