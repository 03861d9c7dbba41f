"""The logging distribution as a policy (mode ``"logging"``): what a model serves when the log
declares its propensities (a randomised experiment, or decisions the service recorded) and
training found nothing confidently better than the logging policy.

For a profile, the logging policy picks a style with the probability the fitted propensity
model gives it (the classifier of the logged style given the profile that training fits for
the gate, carried by the artifact with its temperature) and, for that style, the action
marketers of similar profiles used with it: its cluster's *typical action* of that style (the
candidate row ``Policy.baseline[cluster, style]``). The served distribution is that
propensity restricted to the styles the profile may be served (its cluster logged a typical
action of the style, and the action meets the caller's constraints), renormalised: the
probability recorded with a decision is the one the draw used (:func:`logging_options`). It
has no continuous density: the mix and cadence are not drawn.

The draw is reproducible: over HTTP it is seeded from the profile and the decision id, as
exploration's draws are (``engage.policy.exploration.draw_seed``); in process, where there is
no decision id (``engage recommend``, batch scoring, Python), from the encoded profile alone
(:func:`profile_seeds`), so the same profile gets the same draw there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engage.policy.constraints import Constraints
from engage.policy.exploration import draw_from, draw_seed

if TYPE_CHECKING:
    from engage.policy.reach import SupportReach


@dataclass(frozen=True)
class LoggingOptions:
    """Each profile's options under the logging distribution, one per style.

    Attributes:
        rows: the candidate row served for each style (its cluster's typical action of the
            style), (n, n_styles); -1 where the style cannot be served to the profile.
        probability: the probability of serving each style, (n, n_styles): the fitted
            propensity over the styles that can be served, renormalised; a row of zeros where
            none can (the profile is then answered as a personalised policy would).
    """

    rows: np.ndarray
    probability: np.ndarray

    @property
    def servable(self) -> np.ndarray:
        """Whether each profile has at least one option, (n,)."""
        return np.asarray(self.probability.sum(1) > 0)


def logging_options(
    policy: SupportReach,
    context: np.ndarray,
    prop: np.ndarray | None = None,
    constraints: Constraints | None = None,
) -> LoggingOptions:
    """The logging distribution of each encoded profile (see the module docstring).

    Args:
        policy: the policy (its propensity model, clusters and typical actions).
        context: encoded profiles, (n, n_context).
        prop: their estimated style propensities (None: computed).
        constraints: the caller's limits; a style whose typical action breaks them is not
            served.
    """
    prop = policy.propensities(context) if prop is None else prop
    rows = np.asarray(policy.baseline, dtype=int)[policy.clusters.assign(context)]
    ok = rows >= 0
    if constraints is not None:
        meets = constraints.mask(policy.candidates.frame, policy.spec)
        ok &= meets[np.maximum(rows, 0)]
    p = np.where(ok, prop, 0.0)
    total = p.sum(1, keepdims=True)
    p = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
    return LoggingOptions(np.where(ok, rows, -1), p)


def profile_seeds(context: np.ndarray) -> list[int]:
    """The seed of each encoded profile's in-process draw (no decision id)."""
    return [draw_seed({"encoded_profile": [float(v) for v in row]}, "") for row in context]


def draw_styles(probability: np.ndarray, seeds: list[int]) -> np.ndarray:
    """The style drawn for each profile from its row of ``probability`` with its seed, (n,);
    -1 where the profile has no option."""
    out = np.full(len(probability), -1, dtype=int)
    for i, (p, seed) in enumerate(zip(probability, seeds, strict=True)):
        if p.sum() > 0:
            out[i] = draw_from(p, int(p.argmax()), seed).index
    return out


def served_probabilities(propensities: list[float]) -> np.ndarray:
    """The logging distribution over the options an answer lists (every style it may serve,
    each with its ``support.propensity``): the propensities renormalised, as
    :func:`logging_options` does."""
    p = np.asarray(propensities, dtype=float)
    total = p.sum()
    if not total > 0:
        raise ValueError("no option with a positive propensity to draw from")
    served: np.ndarray = p / total
    return served
