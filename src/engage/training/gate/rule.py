"""The ship rule: from the gate's estimates to the mode that ships, nothing else.

1. the personalised policy, if its DR gain over the logged policy is positive with 95%
   confidence (paired bootstrap): safe policy improvement, the gain it is sure of;
2. else the best constant action, if its gain is (its interval allowing for its choice among
   the grid);
3. else the baseline policy: no change from what similar marketers typically do (the best
   constant action where the policy has no baseline). When the log declares its propensities
   (a randomised experiment, or decisions the service recorded) the baseline is the logging
   policy itself, whose value is the observed mean: nothing is then shipped in its place
   (``keeps_logging``: the version is registered, not promoted), so the randomisation or the
   serving policy keeps running and the log keeps its value.

When both are confirmed the personalised policy ships, unless the best constant is confirmed
better than it *with its choice among the grid allowed for* (``constant_over_learned``, a band
over every constant's difference from the personalised policy): the simpler policy is then
preferred. The plain paired comparison of the two is not enough (see :mod:`.evaluation`).
"""

from __future__ import annotations

from dataclasses import dataclass

from engage.ope import Estimate
from engage.policy.policy import PolicyMode


@dataclass(frozen=True)
class GateEstimates:
    """What the rule reads: DR gains over the logged policy on the gate's rows."""

    learned: Estimate  # the personalised policy's
    constant: Estimate  # the best constant's, its choice among the grid allowed for
    # the best constant's DR value minus the personalised policy's, its choice allowed for
    # (None: not measured)
    constant_over_learned: Estimate | None = None
    has_baseline: bool = True  # whether the policy has a baseline to fall back on
    logging_baseline: bool = False  # the baseline is the logging policy (declared propensities)


@dataclass(frozen=True)
class Verdict:
    """The mode that ships and whether the gate was sure of it."""

    mode: PolicyMode
    confident: bool  # False: nothing was confidently better; the fallback ships
    # the constant ships although the personalised policy was confirmed too: the constant was
    # confirmed better than it, its choice among the grid allowed for
    displaced: bool = False
    # nothing confidently better than the logging policy of a log that declares it: keep it
    keeps_logging: bool = False


def ship_rule(estimates: GateEstimates) -> Verdict:
    """The mode that ships (see the module docstring)."""
    learned, constant, over = estimates.learned, estimates.constant, estimates.constant_over_learned
    if learned.low > 0 and constant.low > 0 and over is not None and over.low > 0:
        return Verdict("constant", confident=True, displaced=True)
    if learned.low > 0:
        return Verdict("personalized", confident=True)
    if constant.low > 0:
        return Verdict("constant", confident=True)
    if estimates.logging_baseline:
        return Verdict("baseline", confident=False, keeps_logging=True)
    return Verdict("baseline" if estimates.has_baseline else "constant", confident=False)
