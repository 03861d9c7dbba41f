"""What a run report is built from.

The inputs are the typed results the training steps already produce; nothing here reads
MLflow, settings or the campaign log again, so a report can be built from a run's steps in a
test as well as inside ``train()``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engage.contract.validation import ValidationReport
from engage.ope import Values
from engage.policy.policy import Policy
from engage.training.gate import Evaluation, ShipDecision
from engage.training.nuisance import Propensity


@dataclass(frozen=True)
class ReportInputs:
    """Everything a run report needs, as the pipeline holds it after the ``model`` stage.

    Attributes:
        policy: the shipped policy (its mode, constant action, spec and objective).
        evaluation: the off-policy evaluation of the candidate policy on held-out rows.
        decision: whether the personalised policy or the best constant ships, and why.
        values: the evaluation's values with ``shipped`` (and ``true`` values in simulation).
        propensity: the propensity model's held-out predictions and overlap diagnostics.
        eval_styles: the logged style code of every evaluation row (for the overlap figure).
        validation: the validation report of the campaign log.
        run_id: the MLflow run, shown in the report's footer (None outside a run).
        oracle_value: the optimal policy's true value (simulated logs with an oracle only).
    """

    policy: Policy
    evaluation: Evaluation
    decision: ShipDecision
    values: Values
    propensity: Propensity
    eval_styles: np.ndarray
    validation: ValidationReport
    run_id: str | None = None
    oracle_value: float | None = None
