"""The shipping gate: off-policy evaluation on every clean row, and the decision of what to
ship (the personalised policy, the best constant action, or the baseline).

* :mod:`.rows`: the gate's rows: every clean row, each judged by a policy learned without it;
* :mod:`.floors`, :mod:`.contenders`: every policy the gate values, as one type, and the one
  place that chooses the personalised policy's support floor and the best constant;
* :mod:`.valuation`, :mod:`.metrics`: their values, gains and the run's metrics;
* :mod:`.rule`: the pure ship rule, from estimates to a mode; :mod:`.reasons`: its words;
* :mod:`.evaluation`, :mod:`.decision`: the gate's record and what ships;
* :mod:`.knobs`: the constants only the team turns.
"""

from engage.training.gate.decision import (
    SHIPPED_KEY,
    ShipDecision,
    decide_shipping,
    decided_values,
    decision_metrics,
)
from engage.training.gate.evaluation import Evaluation, evaluate_offpolicy
from engage.training.gate.knobs import OPE_CLIP, GateKnobs
from engage.training.gate.rule import GateEstimates, Verdict, ship_rule

__all__ = [
    "OPE_CLIP",
    "SHIPPED_KEY",
    "Evaluation",
    "GateEstimates",
    "GateKnobs",
    "ShipDecision",
    "Verdict",
    "decide_shipping",
    "decided_values",
    "decision_metrics",
    "evaluate_offpolicy",
    "ship_rule",
]
