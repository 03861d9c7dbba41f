"""What the policy answers, as frozen typed records.

These cross module boundaries (serving, the MLflow pyfunc, training's reports) in place of
dicts read by string keys. Each record's ``to_dict`` gives the plain JSON-ready dict of the
policy's answer: the pyfunc's ``result_json`` and the behaviour snapshot are built from it, so
its keys, values and value types are part of the artifact's contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

PolicyMode = Literal["personalized", "constant", "baseline"]
# Whom a constant policy's action is for (``Policy.constant_scope``).
ConstantScope = Literal["everyone", "supported"]
SupportLevel = Literal["good", "limited", "poor"]
FactorValue = float | int | str | None
# Why a recommendation holds its rank: "constant", the shipped constant action a constant
# policy puts first for every profile it may get; "baseline", what marketers of similar
# profiles typically do, which a baseline policy puts first; "personalized", its score.
Basis = Literal["constant", "personalized", "baseline"]
# Why a constant policy's action is not first for a profile (None: it is, or not constant).
Fallback = Literal["outside_constraints", "outside_support"]


@dataclass(frozen=True)
class OutcomeForecast:
    """A predicted outcome with its interval.

    Attributes:
        mean: the predicted value.
        low: lower end of the interval (``mean`` less the outcome's interval half-width).
        high: upper end of the interval.
        unit: the outcome's unit as the spec declares it ("" when it declares none).
    """

    mean: float
    low: float
    high: float
    unit: str = ""

    def to_dict(self) -> dict[str, float | str]:
        """The forecast as ``{"mean", "low", "high", "unit"}``."""
        return {"mean": self.mean, "low": self.low, "high": self.high, "unit": self.unit}


@dataclass(frozen=True)
class Support:
    """How well the log covers a recommended style for the profile.

    Attributes:
        propensity: estimated chance a marketer picks this style for such a profile.
        level: ``"good"``, ``"limited"`` or ``"poor"`` (see ``support_level``); ``"poor"``
            exactly when the propensity is below the policy's ``min_propensity``.
        within_support: whether the propensity reaches the policy's ``min_propensity``
            (``level != "poor"``: both come from the same threshold).
        similar_campaigns: logged campaigns of this style, by profiles like this one, whose
            actions (mix, cadence, ...) lie within the support radius of this action; None
            where not measured (a policy without the action search).
    """

    propensity: float
    level: SupportLevel
    within_support: bool
    similar_campaigns: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The support as ``{"propensity", "level", "within_support"[, "similar_campaigns"]}``."""
        out: dict[str, Any] = {
            "propensity": self.propensity,
            "level": self.level,
            "within_support": self.within_support,
        }
        if self.similar_campaigns is not None:
            out["similar_campaigns"] = self.similar_campaigns
        return out


@dataclass(frozen=True)
class Recommendation:
    """One ranked action for a profile.

    Attributes:
        rank: 1 for the first choice.
        style: the engagement style.
        posting_mix: share of posts by content type, keyed without the ``mix_`` prefix.
        decisions: the other decisions (numeric as float, categorical as str).
        predicted: each outcome's forecast, in the policy's outcome order.
        score: the ranking score, ``predicted_objective - support_discount``; recommendations
            of basis ``"personalized"`` are listed in descending score order.
        predicted_objective: the objective's weighted sum of the predicted outcomes.
        support_discount: pessimism subtracted for thin support.
        lift_vs_typical: predicted objective less that of the profile's typical logged choice.
        support: how well the log covers the style for the profile.
        candidate_index: the action's row in the policy's candidate set.
        basis: why it holds its rank: ``"constant"`` for a constant policy's shipped action,
            listed first whatever its score; ``"personalized"`` for a rank by score.
        decision_labels: the words for each categorical decision's code, e.g.
            ``{"Category": "product"}`` (the code itself when the spec declares no label).
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
    basis: Basis = "personalized"
    decision_labels: Mapping[str, str] = field(default_factory=dict)

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
            "basis": self.basis,
            "decision_labels": dict(self.decision_labels),
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
        factors: the contributions worth listing: those in favour of the first choice first,
            then those against it, each group largest first.
        other_factors: what the factors not listed contribute together.
        summary: the headline: how far apart the two are, in the outcomes' units.
        other_factors_count: how many factors ``other_factors`` groups.
        other_factors_sentence: ``other_factors`` in words ("" when nothing is grouped); it
            says so when they outweigh the largest factor listed or half the difference.
    """

    chosen_style: str
    runner_up_style: str
    score_difference: float
    contributions_sum: float
    factors: tuple[Factor, ...]
    other_factors: float
    summary: str = ""
    other_factors_count: int = 0
    other_factors_sentence: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The explanation as the plain dict of the policy's JSON answer."""
        return {
            "chosen_style": self.chosen_style,
            "runner_up_style": self.runner_up_style,
            "score_difference": self.score_difference,
            "contributions_sum": self.contributions_sum,
            "factors": [f.to_dict() for f in self.factors],
            "other_factors": self.other_factors,
            "summary": self.summary,
            "other_factors_count": self.other_factors_count,
            "other_factors_sentence": self.other_factors_sentence,
        }


@dataclass(frozen=True)
class PolicyNote:
    """What kind of policy answered, in words a caller can show.

    Attributes:
        mode: ``"personalized"`` or ``"constant"``.
        note: what the mode means for the caller; in a constant policy's answer, also which
            action comes first and, when it cannot for this profile, why not.
        fallback: why a constant policy's action is not this profile's first recommendation
            (``"outside_constraints"``: the caller's constraints exclude it;
            ``"outside_support"``: the log has too few such profiles with its style); None
            when it is first, or the policy is personalised.
    """

    mode: PolicyMode
    note: str
    fallback: Fallback | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The note as ``{"mode", "note", "fallback"}``."""
        return {"mode": self.mode, "note": self.note, "fallback": self.fallback}


@dataclass(frozen=True)
class Answer:
    """The policy's whole answer for one profile.

    Attributes:
        recommendations: ranked actions, best first.
        policy: what kind of policy answered.
        explanation: the first choice against the runner-up (None when not asked for or when
            there is no runner-up).
        score_unit: what one point of ``score`` is: an outcome's unit when the objective is
            that outcome alone, else the objective's weights with the outcomes' units.
    """

    recommendations: tuple[Recommendation, ...]
    policy: PolicyNote
    explanation: Explanation | None = None
    score_unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The answer as the plain JSON-ready dict (``result_json`` of the MLflow model)."""
        return {
            "recommendations": [r.to_dict() for r in self.recommendations],
            "policy": self.policy.to_dict(),
            "explanation": None if self.explanation is None else self.explanation.to_dict(),
            "score_unit": self.score_unit,
        }
