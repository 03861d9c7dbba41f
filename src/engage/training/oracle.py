"""Ground truth, when there is any: the :class:`Oracle` a simulated world offers training.

Training never knows where a log came from. A caller that has the truth of the world behind
the log (the CLI for a log written by ``engage simulate``, tests, benchmarks) passes an
``Oracle`` to ``train()``; the run then also logs the true values of the policies and their
normalised regret. Real logs have no oracle, and these metrics are simply absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec
from engage.ope import Values
from engage.policy.candidates import CandidateSet
from engage.training.gate import Evaluation, ShipDecision
from engage.training.split import Split

ORACLE_ROWS = 2_000  # evaluation profiles the oracle scores (its cost grows with the candidates)


@runtime_checkable
class Oracle(Protocol):
    """The true expected outcomes of any action, for the world a log was drawn from.

    Profiles are frames of the spec's context columns, actions frames of its decision columns
    (row-aligned with the profiles), and ``weights`` the signed objective weights by outcome
    name (``CampaignSpec.outcome_weights``): the oracle values exactly the objective the run
    trains for.
    """

    @property
    def description(self) -> Mapping[str, Any]:
        """The world's settings (logged as the run's ``world`` tag)."""
        ...

    def policy_value(
        self, profiles: pd.DataFrame, actions: pd.DataFrame, weights: Mapping[str, float]
    ) -> float:
        """True mean objective of taking ``actions[i]`` for ``profiles[i]``."""
        ...

    def best_value(self, profiles: pd.DataFrame, weights: Mapping[str, float]) -> float:
        """True mean objective of the best action for each profile (the oracle policy)."""
        ...


def measure_truth(
    oracle: Oracle,
    spec: CampaignSpec,
    split: Split,
    candidates: CandidateSet,
    evaluation: Evaluation,
    decision: ShipDecision,
    weights: Mapping[str, float],
) -> dict[str, float]:
    """``true.<policy>`` values and ``regret.<policy>`` on the first ``ORACLE_ROWS``
    OPE rows; regret is normalised: (oracle - policy) / (oracle - logged)."""
    k = min(ORACLE_ROWS, len(split.samples.ope))
    rows = split.eval.log.iloc[split.samples.ope[:k]].reset_index(drop=True)
    profiles, logged = rows[spec.context_names], rows[spec.decision_names]

    def chosen(idx: np.ndarray) -> pd.DataFrame:
        return candidates.frame.iloc[idx].reset_index(drop=True)[spec.decision_names]

    out = {
        "true.learned": oracle.policy_value(profiles, chosen(evaluation.learned[:k]), weights),
        "true.best_constant": oracle.policy_value(
            profiles, chosen(evaluation.choices("constant")[:k]), weights
        ),
        "true.baseline": oracle.policy_value(
            profiles, chosen(evaluation.choices("baseline")[:k]), weights
        ),
        "true.logged": oracle.policy_value(profiles, logged, weights),
        "true.oracle": oracle.best_value(profiles, weights),
    }
    if decision.mode == "logging":  # one seeded draw per profile: unbiased for its value
        out["true.logging"] = oracle.policy_value(
            profiles, chosen(evaluation.choices("logging")[:k]), weights
        )
    out["true.shipped"] = out[f"true.{decision.shipped}"]
    gap = out["true.oracle"] - out["true.logged"]
    for policy in ("learned", "best_constant", "baseline", "shipped"):
        regret = (out["true.oracle"] - out[f"true.{policy}"]) / gap if gap > 0 else float("nan")
        out[f"regret.{policy}"] = regret
    return out


def with_truth(values: Values, truth: Mapping[str, float]) -> Values:
    """``values`` with each policy's true value added as estimator ``true`` (v, v, v)."""
    out = {policy: dict(estimates) for policy, estimates in values.items()}
    for policy in ("learned", "best_constant", "baseline", "logging", "logged", "shipped"):
        if f"true.{policy}" in truth:
            out.setdefault(policy, {})["true"] = (truth[f"true.{policy}"],) * 3
    return out
