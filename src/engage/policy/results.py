"""What the policy answers, as frozen typed records.

These cross module boundaries (serving, the MLflow pyfunc, training's reports) in place of
dicts read by string keys. Each record's ``to_dict`` gives the plain JSON-ready dict of the
policy's answer: the pyfunc's ``result_json`` and the behaviour snapshot are built from it, so
its keys, values and value types are part of the artifact's contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

PolicyMode = Literal["personalized", "constant"]
SupportLevel = Literal["good", "limited", "poor"]
FactorValue = float | int | str | None


@dataclass(frozen=True)
class OutcomeForecast:
    """A predicted outcome with its interval.

    Attributes:
        mean: the predicted value.
        low: lower end of the interval (``mean`` less the outcome's interval half-width).
        high: upper end of the interval.
    """

    mean: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        """The forecast as ``{"mean", "low", "high"}``."""
        return {"mean": self.mean, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Support:
    """How well the log covers a recommended style for the profile.

    Attributes:
        propensity: estimated chance a marketer picks this style for such a profile.
        level: ``"good"``, ``"limited"`` or ``"poor"`` (see ``support_level``).
        within_support: whether the propensity reaches the policy's ``min_propensity``.
    """

    propensity: float
    level: SupportLevel
    within_support: bool

    def to_dict(self) -> dict[str, Any]:
        """The support as ``{"propensity", "level", "within_support"}``."""
        return {
            "propensity": self.propensity,
            "level": self.level,
            "within_support": self.within_support,
        }


@dataclass(frozen=True)
class Recommendation:
    """One ranked action for a profile.

    Attributes:
        rank: 1 for the first choice.
        style: the engagement style.
        posting_mix: share of posts by content type, keyed without the ``mix_`` prefix.
        decisions: the other decisions (numeric as float, categorical as str).
        predicted: each outcome's forecast, in the policy's outcome order.
        score: the ranking score, ``predicted_objective - support_discount``.
        predicted_objective: the objective's weighted sum of the predicted outcomes.
        support_discount: pessimism subtracted for thin support.
        lift_vs_typical: predicted objective less that of the profile's typical logged choice.
        support: how well the log covers the style for the profile.
        candidate_index: the action's row in the policy's candidate set.
    """

    rank: int
    style: str
    posting_mix: Mapping[str, float]
    decisions: Mapping[str, float | str]
    predicted: Mapping[str, OutcomeForecast]
    score: float
    predicted_objective: float
    support_discount: float
    lift_vs_typical: float
    support: Support
    candidate_index: int

    def to_dict(self) -> dict[str, Any]:
        """The recommendation as the plain dict of the policy's JSON answer."""
        return {
            "rank": self.rank,
            "style": self.style,
            "posting_mix": dict(self.posting_mix),
            "decisions": dict(self.decisions),
            "predicted": {name: f.to_dict() for name, f in self.predicted.items()},
            "score": self.score,
            "predicted_objective": self.predicted_objective,
            "support_discount": self.support_discount,
            "lift_vs_typical": self.lift_vs_typical,
            "support": self.support.to_dict(),
            "candidate_index": self.candidate_index,
        }


@dataclass(frozen=True)
class Factor:
    """One feature's share of the score difference between the first choice and the runner-up.

    Attributes:
        feature: the model feature, or ``"support"`` for the difference in support discount.
        value: the feature's value for the first choice (the profile's value for a profile
            feature; None for ``"support"``).
        runner_up_value: the runner-up's value of a decision feature, else None.
        contribution: the signed share of the score difference.
        sentence: the factor in plain English.
    """

    feature: str
    value: FactorValue
    runner_up_value: FactorValue
    contribution: float
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        """The factor as the plain dict of the policy's JSON answer."""
        return {
            "feature": self.feature,
            "value": self.value,
            "runner_up_value": self.runner_up_value,
            "contribution": self.contribution,
            "sentence": self.sentence,
        }


@dataclass(frozen=True)
class Explanation:
    """Why the first choice ranks above the runner-up.

    Attributes:
        chosen_style: style of the first choice.
        runner_up_style: style of the runner-up.
        score_difference: first choice's score less the runner-up's.
        contributions_sum: the sum of every feature's contribution and the support factor;
            equals ``score_difference`` (LightGBM ``pred_contrib`` is exact).
        factors: the largest contributions, largest first (at most five).
        other_factors: what the factors not listed contribute together.
    """

    chosen_style: str
    runner_up_style: str
    score_difference: float
    contributions_sum: float
    factors: tuple[Factor, ...]
    other_factors: float

    def to_dict(self) -> dict[str, Any]:
        """The explanation as the plain dict of the policy's JSON answer."""
        return {
            "chosen_style": self.chosen_style,
            "runner_up_style": self.runner_up_style,
            "score_difference": self.score_difference,
            "contributions_sum": self.contributions_sum,
            "factors": [f.to_dict() for f in self.factors],
            "other_factors": self.other_factors,
        }


@dataclass(frozen=True)
class PolicyNote:
    """What kind of policy answered, in words a caller can show.

    Attributes:
        mode: ``"personalized"`` or ``"constant"``.
        note: one sentence saying what the mode means for the caller.
    """

    mode: PolicyMode
    note: str

    def to_dict(self) -> dict[str, str]:
        """The note as ``{"mode", "note"}``."""
        return {"mode": self.mode, "note": self.note}


@dataclass(frozen=True)
class Answer:
    """The policy's whole answer for one profile.

    Attributes:
        recommendations: ranked actions, best first.
        policy: what kind of policy answered.
        explanation: the first choice against the runner-up (None when not asked for or when
            there is no runner-up).
    """

    recommendations: tuple[Recommendation, ...]
    policy: PolicyNote
    explanation: Explanation | None = None

    def to_dict(self) -> dict[str, Any]:
        """The answer as the plain JSON-ready dict (``result_json`` of the MLflow model)."""
        return {
            "recommendations": [r.to_dict() for r in self.recommendations],
            "policy": self.policy.to_dict(),
            "explanation": None if self.explanation is None else self.explanation.to_dict(),
        }
