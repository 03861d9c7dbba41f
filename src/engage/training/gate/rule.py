"""The ship rule: from the gate's estimates to the mode that ships, nothing else.

1. the personalised policy, if its DR gain over the logged policy is positive with 95%
   confidence (paired bootstrap): safe policy improvement, the gain it is sure of;
2. else the best constant action, if its gain is (its interval allowing for its choice among
   the grid);
3. else, when the log declares its propensities (a randomised experiment, or decisions the
   service recorded), the **logging distribution** (mode ``"logging"``): the logging policy is
   then known exactly and is the baseline (its value is the observed mean), so nothing is put
   in its place; the version serves it (each profile's style drawn with its propensity, the
   typical plan of similar profiles for that style, the probability recorded with the
   decision), so the randomisation or the serving policy goes on and the log keeps its value.
   It is promoted like any version. The one exception is the best supported constant when it
   is *confidently no worse* than the logging policy: its DR gain's lower bound, in the gate's
   band, is at least 0; it then ships instead (``"constant"``), the simpler plan the data
   vouches for. In the gate's band "no worse" and "better" are the same bound, so on such a
   log the constant ships exactly when its lower bound is >= 0, boundary included. No margin
   of "practically no worse" is allowed: a constant whose lower bound is below 0 could be
   worse than the randomisation, and replacing it would also end the draws that keep the log
   worth learning from. (When some profile could not be served by the logging distribution,
   e.g. a policy without typical plans, the rule goes on to 4.)
4. else the baseline policy: no change from what similar marketers typically do (the best
   constant action where the policy has no baseline).

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
    # the baseline is the logging policy (declared propensities) and its distribution can be
    # served to every profile
    logging_baseline: bool = False


@dataclass(frozen=True)
class Verdict:
    """The mode that ships and whether the gate was sure of it."""

    mode: PolicyMode
    confident: bool  # False: nothing was confidently better; the fallback ships
    # the constant ships although the personalised policy was confirmed too: the constant was
    # confirmed better than it, its choice among the grid allowed for
    displaced: bool = False
    # nothing confidently better than the logging policy of a log that declares it: its
    # distribution is served (mode "logging")
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
        if constant.low >= 0:  # confidently no worse than the logging policy
            return Verdict("constant", confident=True)
        return Verdict("logging", confident=False, keeps_logging=True)
    return Verdict("baseline" if estimates.has_baseline else "constant", confident=False)
