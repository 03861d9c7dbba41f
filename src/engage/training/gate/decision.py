"""What ships, why in words, and the decision's metrics: the ship rule (:mod:`.rule`) applied
to an :class:`.evaluation.Evaluation`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engage import ope
from engage.policy.policy import PolicyMode
from engage.training.gate.evaluation import Evaluation
from engage.training.gate.reasons import Judged, ship_reason
from engage.training.gate.rule import GateEstimates, ship_rule

#: The key in :attr:`Evaluation.values` of each mode's policy.
SHIPPED_KEY: dict[str, str] = {
    "personalized": "learned",
    "constant": "best_constant",
    "baseline": "baseline",
    "logging": "logging",
}


@dataclass(frozen=True)
class ShipDecision:
    """Which policy ships: personalised, the best constant action, the baseline, or the
    logging distribution."""

    mode: PolicyMode
    reason: str
    constant_action: int
    # the constant ships although the personalised policy was confirmed too: the constant was
    # confirmed better than it, its choice among the grid allowed for
    displaced: bool = False
    # the figures the decision was made on, the one source every summary of the run words:
    # each mode's DR gain over the logged policy, and the personalised policy's over the best
    # constant (paired); empty / None for a decision made by hand
    gains: Mapping[str, ope.Estimate] = field(default_factory=dict)
    versus: ope.Estimate | None = None
    # nothing was confidently better than the logging policy of a log that declares its
    # propensities: its distribution is served (mode "logging"), so the log keeps its value
    keeps_logging: bool = False

    @property
    def shipped(self) -> str:
        """The key of the shipped policy in :attr:`Evaluation.values`."""
        return SHIPPED_KEY[self.mode]

    @property
    def gain(self) -> ope.Estimate | None:
        """The shipped policy's DR gain over the logged policy, as the decision judged it."""
        return self.gains.get(self.shipped)

    @property
    def tags(self) -> dict[str, str]:
        """What the run tags about the decision."""
        return {
            "policy_mode": self.mode,
            "policy_decision": self.reason,
            "policy_keeps_logging": str(self.keeps_logging).lower(),
        }


def gate_estimates(evaluation: Evaluation) -> GateEstimates:
    """What the ship rule reads of an evaluation."""
    return GateEstimates(
        learned=evaluation.gains["learned"],
        constant=evaluation.gains["best_constant"],
        constant_over_learned=evaluation.constant_over_learned,
        has_baseline=evaluation.baseline is not None,
        # the logging policy is the fallback where its distribution can be served
        logging_baseline=evaluation.logging is not None,
    )


def decide_shipping(evaluation: Evaluation) -> ShipDecision:
    """What ships (:func:`.rule.ship_rule`), and why in words."""
    estimates = gate_estimates(evaluation)
    ruled = ship_rule(estimates)
    judged = Judged(
        versus=evaluation.gain,
        rows=evaluation.gate_rows_said,
        floor=evaluation.min_propensity,
        floors_tried=evaluation.floors_tried,
        constants_tried=evaluation.constants_tried,
        baseline=evaluation.gains.get("baseline"),
        logging=evaluation.gains.get("logging"),
    )
    reason = ship_reason(estimates, ruled, judged)
    return ShipDecision(
        ruled.mode,
        reason,
        evaluation.constant_action,
        displaced=ruled.displaced,
        gains=dict(evaluation.gains),
        versus=evaluation.gain,
        keeps_logging=ruled.keeps_logging,
    )


def decided_values(evaluation: Evaluation, decision: ShipDecision) -> ope.Values:
    """The evaluation's values with the shipped policy's added as ``shipped``."""
    return {**evaluation.values, "shipped": evaluation.values[decision.shipped]}


def decision_metrics(values: ope.Values, decision: ShipDecision) -> dict[str, float]:
    """``policy.personalized``, ``policy.baseline``, ``policy.logging`` (1/0: which mode
    shipped; none: the best constant), ``ope.<policy>.<estimator>[_low|_high]`` of every
    value, and the figures the
    decision was made on: ``decision.gain_vs_logged`` (the shipped policy's) and
    ``decision.gain_vs_constant`` (the personalised policy's over the best constant)."""
    figures: dict[str, float] = {}
    if decision.gain is not None:
        figures |= ope.estimate_metrics("decision.gain_vs_logged", decision.gain)
    if decision.versus is not None:
        figures |= ope.estimate_metrics("decision.gain_vs_constant", decision.versus)
    return {
        "policy.personalized": float(decision.mode == "personalized"),
        "policy.baseline": float(decision.mode == "baseline"),
        "policy.logging": float(decision.mode == "logging"),
        **ope.value_metrics(values),
        **figures,
    }
