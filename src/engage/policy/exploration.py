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
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Method = Literal["greedy", "epsilon", "softmax"]
METHODS: tuple[str, ...] = ("greedy", "epsilon", "softmax")


@dataclass(frozen=True)
class Exploration:
    """How to draw the served style.

    Attributes:
        method: ``greedy``, ``epsilon`` or ``softmax``.
        epsilon: share of draws spread uniformly over the allowed styles, in [0, 1].
        temperature: softmax temperature in score units, > 0 (small: nearly greedy).
    """

    method: Method = "greedy"
    epsilon: float = 0.1
    temperature: float = 1.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(
                f"exploration.method must be one of {list(METHODS)}, not {self.method!r}"
            )
        if not (math.isfinite(self.epsilon) and 0.0 <= self.epsilon <= 1.0):
            raise ValueError(f"exploration.epsilon must be in [0, 1], not {self.epsilon}")
        if not (math.isfinite(self.temperature) and self.temperature > 0.0):
            raise ValueError(f"exploration.temperature must be > 0, not {self.temperature}")


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
    p = distribution(scores, first, how)
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
