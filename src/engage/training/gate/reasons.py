"""The words of the gate: why a mode ships, and which rows judged it."""

from __future__ import annotations

from dataclasses import dataclass

from engage.ope import Estimate
from engage.policy.notes import LOGGING_SERVED as LOGGING_SERVED
from engage.training.gate.rule import GateEstimates, Verdict

_NAME = {"personalized": "personalised policy", "constant": "best constant action"}


@dataclass(frozen=True)
class Judged:
    """What the reason says about how the gate judged, besides the estimates."""

    versus: Estimate  # DR value of the personalised policy minus the best constant's, paired
    rows: str = ""  # the gate's rows in words (:func:`rows_said`); "": not said
    floor: float | None = None  # the personalised policy's support floor
    floors_tried: int = 1
    constants_tried: int = 0
    baseline: Estimate | None = None  # the baseline's DR gain over the logged, when measured
    # the served logging distribution's DR gain over the logged, when measured
    logging: Estimate | None = None


def said(g: Estimate) -> str:
    """An estimate with its interval, signed."""
    return f"{g.value:+.3f}, 95% interval {g.low:+.3f} to {g.high:+.3f}"


def verdict(g: Estimate) -> str:
    """How an estimated difference compares with zero, with 95% confidence."""
    if g.low > 0:
        return "better than"
    if g.high < 0:
        return "worse than"
    return "not distinguishable from"


def rows_said(n_eval: int, n_training: int) -> str:
    """The gate's rows in words (the run's ``gate_rows`` parameter)."""
    if not n_training:
        return f"the {n_eval:,} evaluation rows"
    return (
        f"all {n_eval + n_training:,} rows: {n_eval:,} evaluation rows and {n_training:,} "
        "training rows, each chosen for by a policy learned without it"
    )


def ship_reason(estimates: GateEstimates, ruled: Verdict, judged: Judged) -> str:
    """Why ``ruled.mode`` ships, in words."""
    learned, constant = estimates.learned, estimates.constant
    on = f" (judged on {judged.rows})" if judged.rows else ""
    if not ruled.confident:
        if ruled.keeps_logging:
            fallback = logging_served(judged.logging)
        elif ruled.mode == "baseline":
            fallback = "shipping the baseline: what marketers of similar profiles typically do"
            if judged.baseline is not None:
                # the figure the report's headline gives for what ships, said here too
                fallback += (
                    f" ({verdict(judged.baseline)} what marketers did, {said(judged.baseline)})"
                )
        else:
            fallback = "shipping the best constant action (this policy has no baseline)"
        return (
            f"neither the personalised policy ({verdict(learned)} what marketers did, DR gain "
            f"{said(learned)}) nor the best constant ({verdict(constant)}, {said(constant)}) is "
            f"confidently better than what marketers did{on}; {fallback}"
        )
    if ruled.displaced:
        assert estimates.constant_over_learned is not None
        among = f" among {judged.constants_tried:,} constants" if judged.constants_tried else ""
        why = (
            f"the personalised policy is better than what marketers did (DR gain {said(learned)}); "
            f"the best constant action is better still (DR gain {said(constant)}), by "
            f"{said(estimates.constant_over_learned)}, its choice{among} allowed for"
        )
        return f"{why}{on}: shipping the {_NAME[ruled.mode]}"
    if ruled.mode == "personalized":
        why = (
            f"the personalised policy{_floor_said(judged)} is better than what marketers did "
            f"(DR gain {said(learned)}); "
            f"the best constant is {verdict(constant)} what marketers did ({said(constant)})"
        )
    else:
        # on a log that declares its propensities a constant whose lower bound is 0 ships too
        better = "better" if constant.low > 0 else "confidently no worse than the logging policy"
        why = (
            f"the personalised policy is {verdict(learned)} what marketers did ({said(learned)}); "
            f"the best constant action is {better} (DR gain {said(constant)})"
        )
    # the paired comparison without the choice allowed for (the band says it when displaced)
    compared = (
        f"; the personalised policy is {verdict(judged.versus)} the best constant "
        f"({said(judged.versus)})"
    )
    return f"{why}{compared}{on}: shipping the {_NAME[ruled.mode]}"


def logging_served(gain: Estimate | None = None) -> str:
    """Why a logging policy serves, in words (the ship reason's end, the report's headline):
    :data:`engage.policy.notes.LOGGING_SERVED`, the one wording its answers give too, with the
    served distribution's gain over the logging policy when measured."""
    said_gain = "" if gain is None else f" (as served, {verdict(gain)} it: {said(gain)})"
    return (
        f"{LOGGING_SERVED[:1].lower()}{LOGGING_SERVED[1:]}{said_gain}: each profile's style "
        "drawn with the probability the logging policy gives it, with the plan marketers of "
        "similar profiles use with that style, the probability recorded with each decision so "
        "the log keeps its value"
    )


def _floor_said(judged: Judged) -> str:
    """Which support floor the personalised policy was judged at, when the gate tried several."""
    if judged.floor is None or judged.floors_tried < 2:
        return ""
    return (
        f" (no style recommended below propensity {judged.floor:g}: the lowest of "
        f"{judged.floors_tried} support floors tried whose gain is sure)"
    )
