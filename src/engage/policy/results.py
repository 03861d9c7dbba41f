"""What the policy answers, as frozen typed records (pydantic models).

These cross module boundaries in place of dicts read by string keys, and they are the one
definition of the answer: the HTTP API returns them as its response models (serving adds
only what serving knows: a decision id, the exploration probability, the model), the CLI and
the MLflow pyfunc print their ``to_dict``, the batch job flattens it. A field added here
reaches every caller. Field descriptions become the OpenAPI text.

``to_dict`` is ``model_dump(mode="json")``: the pyfunc's ``result_json`` and the behaviour
snapshot are built from it, so its keys, values and value types are part of the artifact's
contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PolicyMode = Literal["personalized", "constant", "baseline", "logging"]
# Whom a constant policy's action is for (``Policy.constant_scope``).
ConstantScope = Literal["everyone", "supported"]
SupportLevel = Literal["good", "limited", "poor"]
FactorValue = float | int | str | None
# Why a recommendation holds its rank: "constant", the shipped constant action a constant
# policy puts first for every profile it may get; "baseline", what marketers of similar
# profiles typically do, which a baseline policy puts first; "logging", drawn from the logging
# distribution (a logging policy lists the action it would serve for each style it may draw);
# "personalized", its score.
Basis = Literal["constant", "personalized", "baseline", "logging"]
# Why a constant policy's action is not first for a profile (None: it is, or not constant).
Fallback = Literal["outside_constraints", "outside_support"]


class Result(BaseModel):
    """A part of the policy's answer: frozen, closed to extra fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        """The plain JSON-ready dict of this part of the answer."""
        return self.model_dump(mode="json")


class OutcomeForecast(Result):
    """A predicted outcome with its 90% prediction interval."""

    mean: float = Field(description="the predicted value")
    low: float = Field(
        description="lower end of the 90% prediction interval of the outcome for this profile "
        "and action (the policy's interval_level, 0.9 as engage trains it; normalised split "
        "conformal, wider where the model errs more, or the 90th percentile of the absolute "
        "out-of-fold error when too few rows calibrate it: the outcome falls inside with about "
        "90% probability where the action resembles logged ones): the mean less the "
        "interval's half-width, within the outcome's declared range"
    )
    high: float = Field(
        description="upper end of the same 90% prediction interval: the mean plus the "
        "half-width, within the outcome's declared range"
    )
    unit: str = Field(default="", description="the outcome's unit, as the spec declares it")


class Support(Result):
    """How well the log covers a recommended style (and action) for the profile."""

    propensity: float = Field(
        description="estimated chance a marketer picks this style for such a profile"
    )
    level: SupportLevel = Field(
        description="poor: below the policy's support floor (min_propensity; never "
        "recommended first unless nothing else is allowed); limited: thin; good: well covered"
    )
    within_support: bool = Field(
        description="whether the propensity reaches the policy's support floor (false "
        "exactly when the level is poor: both come from the same threshold)"
    )
    similar_campaigns: int | None = Field(
        default=None,
        description="logged campaigns of this style, by profiles like this one, whose actions "
        "(mix, cadence, ...) lie within the support radius of this action; null where not "
        "measured (a policy without the action search)",
    )


class Recommendation(Result):
    """One ranked action for a profile."""

    rank: int = Field(ge=1, description="1 for the first choice")
    style: str = Field(description="the engagement style")
    posting_mix: Mapping[str, float] = Field(
        description="share of posts by content type, keyed without the mix_ prefix (sum to 1)"
    )
    decisions: Mapping[str, float | str] = Field(
        description="the other decisions, e.g. posts_per_week (numeric as number, "
        "categorical as string)"
    )
    predicted: Mapping[str, OutcomeForecast] = Field(
        description="each outcome's forecast with its interval, in the policy's outcome order"
    )
    score: float | None = Field(
        description="the number the rank follows: the model's score (model_score) for a "
        "recommendation of basis personalized, listed in descending score order; null for the "
        "action a constant or baseline policy puts first whatever the model's score (basis "
        "constant or baseline): its place rests on the shipping decision's confirmed gain "
        "(policy.confirmed_gain), not on a score; null for every recommendation of a logging "
        "policy (basis logging: drawn, not ranked by score). Scores never increase from one "
        "rank to the next, so sorting by score (null first) gives the ranks"
    )
    model_score: float = Field(
        description="the outcome models' score, predicted_objective less support_discount; "
        "for a recommendation of basis constant or baseline an unconfirmed figure the "
        "decision did not rank by (it may exceed or fall below the others')"
    )
    predicted_objective: float = Field(
        description="the objective's weighted sum of the predicted outcomes"
    )
    support_discount: float = Field(
        description="pessimism subtracted where the log holds few such campaigns"
    )
    lift_vs_typical: float = Field(
        description="predicted objective less that of the profile's typical logged choice, in "
        "the objective's points (the unit score_unit names; a difference, not a percentage)"
    )
    support: Support = Field(description="how well the log covers the style for the profile")
    candidate_index: int = Field(description="the action's row in the policy's candidate set")
    basis: Basis = Field(
        default="personalized",
        description="constant: the shipped constant action, first whatever its score; "
        "baseline: what marketers of similar profiles typically do, first whatever its score "
        "(a baseline policy, or a constant policy where few similar campaigns were logged near "
        "its action); logging: the action marketers of similar profiles use with this style, "
        "listed by the probability of drawing the style from the logging distribution (a "
        "logging policy: nothing was confidently better than the logging policy); "
        "personalized: ranked by score",
    )
    decision_labels: Mapping[str, str] = Field(
        default_factory=dict,
        description="the words for each categorical decision's code, e.g. Category: product "
        "(the code itself when the spec declares no label)",
    )


class Factor(Result):
    """One feature's share of the score difference between the first choice and the runner-up."""

    feature: str = Field(
        description="the model feature, or support for the difference in support discount"
    )
    value: FactorValue = Field(
        description="the feature's value for the first choice (the profile's value for a "
        "profile feature; null for support)"
    )
    runner_up_value: FactorValue = Field(
        description="the runner-up's value of a decision feature, else null"
    )
    contribution: float = Field(description="the signed share of the score difference")
    sentence: str = Field(description="the factor in plain English")


class Explanation(Result):
    """Why the first choice ranks above the runner-up."""

    chosen_style: str = Field(description="style of the first choice")
    runner_up_style: str = Field(description="style of the runner-up")
    score_difference: float = Field(description="first choice's score less the runner-up's")
    contributions_sum: float = Field(
        description="the sum of every feature's contribution and the support factor; equals "
        "score_difference (LightGBM pred_contrib is exact)"
    )
    factors: tuple[Factor, ...] = Field(
        description="the contributions worth listing: those in favour of the first choice "
        "first, then those against it, each group largest first"
    )
    other_factors: float = Field(description="what the factors not listed contribute together")
    summary: str = Field(
        default="", description="the headline: how far apart the two are, in the outcomes' units"
    )
    other_factors_count: int = Field(default=0, description="how many factors other_factors groups")
    other_factors_sentence: str = Field(
        default="",
        description="other_factors in words (empty when nothing is grouped); it says so when "
        "they outweigh the largest factor listed or half the difference",
    )


class ConfirmedGain(Result):
    """What the shipping decision confirmed of the policy that answers: its gain over what
    marketers did, off-policy, on the gate's logged campaigns (an average, not this profile's)."""

    value: float = Field(description="the doubly robust gain, in score_unit per logged row")
    low: float = Field(description="lower end of its 95% interval")
    high: float = Field(description="upper end of its 95% interval")


class PolicyNote(Result):
    """What kind of policy answered, in words a caller can show."""

    mode: PolicyMode = Field(
        description="personalized, constant, baseline or logging (the logging distribution: "
        "the style drawn with the propensity the log declares, probability recorded)"
    )
    note: str = Field(
        description="what the mode means for the caller; in a constant policy's answer, also "
        "which action comes first and, when it cannot for this profile, why not"
    )
    fallback: Fallback | None = Field(
        default=None,
        description="why a constant policy's action is not this profile's first "
        "recommendation (outside_constraints: the caller's constraints exclude it; "
        "outside_support: the log has too few such profiles with its style); null when it is "
        "first, or the policy is not constant",
    )
    confirmed_gain: ConfirmedGain | None = Field(
        default=None,
        description="the shipped policy's gain over what marketers did as the shipping "
        "decision judged it (null: the model carries no decision figures): what ranks a "
        "constant or baseline policy's action first",
    )


class FitNote(Result):
    """How well the outcome models explain the logged outcomes (held-out R²)."""

    r2: Mapping[str, float] = Field(
        description="each outcome model's R² on held-out campaigns (1: explains every "
        "difference between campaigns; 0: no better than the average; below 0: worse)"
    )
    weak: tuple[str, ...] = Field(
        description="the outcomes whose model explains little (R² below threshold): their "
        "forecasts and the differences between plans are the model's unconfirmed estimates"
    )
    threshold: float = Field(description="the R² below which a model explains little")
    note: str = Field(description="the fit in words, with what it means for this answer")


class Answer(Result):
    """The policy's whole answer for one profile."""

    recommendations: tuple[Recommendation, ...] = Field(description="ranked actions, best first")
    policy: PolicyNote = Field(description="what kind of policy answered")
    explanation: Explanation | None = Field(
        default=None,
        description="the first choice against the runner-up (null when not asked for or when "
        "there is no runner-up)",
    )
    score_unit: str = Field(
        default="",
        description="what one point of score is: an outcome's unit when the objective is that "
        "outcome alone, else the objective's weights with the outcomes' units",
    )
    fit: FitNote | None = Field(
        default=None,
        description="how well the outcome models fit the logged outcomes; when an outcome the "
        "objective weighs is in fit.weak, the explanation's sentences are hedged as unconfirmed "
        "(null: the model carries no fit figures)",
    )
