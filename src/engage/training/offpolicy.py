"""Off-policy evaluation on the held-out split, and the decision of what to ship.

DM, IPS, SNIPS and DR (with bootstrap intervals) value the personalised candidate policy and
the best constant action; the logged policy gets its observed mean. The personalised policy
ships only if its DR value beats the best constant's with 95% confidence (a paired bootstrap
of the difference); otherwise the best constant action does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engage.contract.spec import CampaignSpec
from engage.policy.policy import Policy, PolicyMode
from engage.training import evaluation as ope
from engage.training.nuisance import Propensity
from engage.training.selection import Selection, objective_values
from engage.training.settings import TrainSettings
from engage.training.split import Split

#: ``{policy: {estimator: (value, low, high)}}``; policies ``learned``, ``best_constant``,
#: ``logged`` (estimator ``observed``) and, once decided, ``shipped``.
Values = dict[str, dict[str, tuple[float, float, float]]]


@dataclass(frozen=True)
class Evaluation:
    """The candidate policy and the best constant judged on the OPE rows of the held-out split."""

    data: ope.LoggedData  # reward, logged style, logging propensity, q of the logged action
    context: np.ndarray  # encoded profiles of the OPE rows
    learned: np.ndarray  # the personalised policy's candidate for each OPE row
    values: Values  # learned, best_constant and logged
    gain: ope.Estimate  # DR value of learned minus best constant, paired bootstrap
    metrics: dict[str, float]
    params: dict[str, Any]


@dataclass(frozen=True)
class ShipDecision:
    """Which policy ships: personalised, or the best constant action for everyone."""

    mode: PolicyMode
    reason: str
    constant_action: int

    @property
    def shipped(self) -> str:
        """The key of the shipped policy in :attr:`Evaluation.values`."""
        return "learned" if self.mode == "personalized" else "best_constant"

    @property
    def tags(self) -> dict[str, str]:
        """What the run tags about the decision."""
        return {"policy_mode": self.mode, "policy_decision": self.reason}


def evaluate_offpolicy(
    spec: CampaignSpec,
    split: Split,
    propensity: Propensity,
    selection: Selection,
    weights: Mapping[str, float],
    settings: TrainSettings,
) -> Evaluation:
    """Value the candidate policy, the best constant and the logged policy off-policy."""
    ev, rows, policy = split.eval, split.samples.ope, selection.policy
    data, clipped, source = _logged_data(spec, split, policy, propensity, weights, settings)
    context = ev.context[rows]
    ranked = policy.rank(context, settings.objective)
    scores, learned = ranked.predicted_objective, ranked.choice
    const_choice = np.full(len(rows), selection.constant_action)
    targets = {
        "learned": (policy.candidates.style_codes[learned], scores[np.arange(len(rows)), learned]),
        "best_constant": (
            policy.candidates.style_codes[const_choice], scores[:, selection.constant_action]
        ),
    }
    values: Values = {}
    for name, (style, q) in targets.items():
        est = ope.estimate_policy_value(data, style, q, n_boot=settings.n_boot, seed=settings.seed)
        values[name] = {k: (e.value, e.low, e.high) for k, e in est.items()}
    logged = ope.logged_policy_value(data)
    values["logged"] = {"observed": (logged.value, logged.low, logged.high)}
    gain = ope.compare_policies(
        data, targets["learned"], targets["best_constant"], estimator="dr",
        n_boot=settings.n_boot, seed=settings.seed,
    )
    metrics = {
        "overlap.clipped_rows": clipped,
        "policy.dr_gain_vs_constant": gain.value,
        "policy.dr_gain_vs_constant_low": gain.low,
        "policy.dr_gain_vs_constant_high": gain.high,
    }
    return Evaluation(data, context, learned, values, gain, metrics, {"ope_propensity": source})


def _logged_data(
    spec: CampaignSpec,
    split: Split,
    policy: Policy,
    propensity: Propensity,
    weights: Mapping[str, float],
    settings: TrainSettings,
) -> tuple[ope.LoggedData, int, str]:
    """The OPE rows as logged data, how many propensities were clipped, and their source."""
    ev, rows = split.eval, split.samples.ope
    reward = objective_values({o: ev.y[o][rows] for o in weights}, weights)
    # q of the logged action as the policy predicts it (style corrections included)
    q_logged = policy.predict_outcomes(ev.X[rows]) @ policy.weights(settings.objective)
    declared = spec.logged_propensity(ev.log)  # a column, or a randomised experiment's constant
    if declared is not None:  # the marketers' propensities are known: trust them
        p_logged, source = declared[rows], "logged"
    else:
        p_logged, source = propensity.eval_proba[rows, ev.style[rows]], "estimated"
    clipped = int((p_logged < settings.ope_clip).sum())
    data = ope.LoggedData(
        reward=reward, style=ev.style[rows], propensity=np.maximum(p_logged, settings.ope_clip),
        q_logged=q_logged,
    )
    return data, clipped, source


def decide_shipping(evaluation: Evaluation, constant_action: int) -> ShipDecision:
    """Personalised when the DR gain over the best constant is positive with 95% confidence."""
    gain = evaluation.gain
    interval = f"95% interval {gain.low:.3f} to {gain.high:.3f}"
    if gain.low > 0:
        reason = f"personalised DR value beats the best constant by {gain.value:.3f} ({interval})"
        return ShipDecision("personalized", reason, constant_action)
    reason = (
        f"personalised DR gain over the best constant is not significant ({gain.value:.3f}, "
        f"{interval}); shipping the best constant action"
    )
    return ShipDecision("constant", reason, constant_action)


def decided_values(evaluation: Evaluation, decision: ShipDecision) -> Values:
    """The evaluation's values with the shipped policy's added as ``shipped``."""
    return {**evaluation.values, "shipped": evaluation.values[decision.shipped]}


def decision_metrics(values: Values, decision: ShipDecision) -> dict[str, float]:
    """``policy.personalized`` and ``ope.<policy>.<estimator>[_low|_high]`` of every value."""
    metrics = {"policy.personalized": float(decision.mode == "personalized")}
    for policy, estimates in values.items():
        for estimator, (v, lo, hi) in estimates.items():
            metrics[f"ope.{policy}.{estimator}"] = v
            metrics[f"ope.{policy}.{estimator}_low"] = lo
            metrics[f"ope.{policy}.{estimator}_high"] = hi
    return metrics
