"""Typed results and their ``to_dict``: the exact JSON shape the artifact and the snapshot use."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from engage.policy.artifact import flatten
from engage.policy.results import (
    Answer,
    Explanation,
    Factor,
    OutcomeForecast,
    PolicyNote,
    Recommendation,
    Support,
)

RECOMMENDATION_KEYS = [
    "rank",
    "style",
    "posting_mix",
    "decisions",
    "predicted",
    "score",
    "model_score",
    "predicted_objective",
    "support_discount",
    "lift_vs_typical",
    "support",
    "candidate_index",
    "basis",
    "decision_labels",
]
EXPLANATION_KEYS = [
    "chosen_style",
    "runner_up_style",
    "score_difference",
    "contributions_sum",
    "factors",
    "other_factors",
    "summary",
    "other_factors_count",
    "other_factors_sentence",
]
FACTOR_KEYS = ["feature", "value", "runner_up_value", "contribution", "sentence"]


@pytest.fixture(scope="module")
def answer(policy, tiny) -> Answer:
    return policy.recommend(tiny.profiles.head(1))[0]


def test_answer_to_dict_shape_and_types(answer, tiny) -> None:
    d = answer.to_dict()
    assert list(d) == ["recommendations", "policy", "explanation", "score_unit", "fit"]
    assert d["policy"] == {
        "mode": "personalized",
        "note": answer.policy.note,
        "fallback": None,
        "confirmed_gain": None,
    }
    assert d["score_unit"].startswith("points: 1 × conversions per 1,000 followers")
    rec = d["recommendations"][0]
    assert list(rec) == RECOMMENDATION_KEYS
    assert type(rec["rank"]) is int and type(rec["candidate_index"]) is int
    assert type(rec["style"]) is str
    for key in ("score", "predicted_objective", "support_discount", "lift_vs_typical"):
        assert type(rec[key]) is float
    assert set(rec["posting_mix"]) == {c.removeprefix("mix_") for c in tiny.spec.mix_columns}
    assert all(type(v) is float for v in rec["posting_mix"].values())
    assert type(rec["decisions"]["posts_per_week"]) is float
    assert type(rec["decisions"]["channel"]) is str
    labels = {"feed": "main feed", "stories": "stories"}  # "stories" has no label: the code
    assert rec["decision_labels"] == {"channel": labels[rec["decisions"]["channel"]]}
    assert rec["basis"] == "personalized"
    assert list(rec["predicted"]) == tiny.spec.outcome_names
    assert all(list(f) == ["mean", "low", "high", "unit"] for f in rec["predicted"].values())
    assert rec["predicted"]["conversions"]["unit"] == "conversions per 1,000 followers"
    assert list(rec["support"]) == ["propensity", "level", "within_support", "similar_campaigns"]
    assert type(rec["support"]["within_support"]) is bool
    explanation = d["explanation"]
    assert list(explanation) == EXPLANATION_KEYS
    assert isinstance(explanation["factors"], list)
    assert all(list(f) == FACTOR_KEYS for f in explanation["factors"])
    assert type(explanation["summary"]) is str and explanation["summary"]
    assert type(explanation["other_factors_count"]) is int
    assert json.loads(json.dumps(d)) == d  # plain JSON, nothing numpy


def test_to_dict_mirrors_the_attributes(answer) -> None:
    d = answer.to_dict()
    top, rec = answer.recommendations[0], d["recommendations"][0]
    assert rec["score"] == top.score and rec["style"] == top.style
    assert rec["predicted"]["conversions"]["low"] == top.predicted["conversions"].low
    assert rec["support"]["level"] == top.support.level
    assert d["explanation"]["factors"][0]["sentence"] == answer.explanation.factors[0].sentence


def test_answer_without_explanation() -> None:
    rec = Recommendation(
        rank=1,
        style="community",
        posting_mix={"visual": 1.0},
        decisions={"posts_per_week": 3.0},
        predicted={"conversions": OutcomeForecast(mean=1.0, low=0.5, high=1.5)},
        score=0.9,
        model_score=0.9,
        predicted_objective=1.0,
        support_discount=0.1,
        lift_vs_typical=0.2,
        support=Support(propensity=0.3, level="good", within_support=True),
        candidate_index=4,
    )
    answer = Answer(recommendations=(rec,), policy=PolicyNote(mode="constant", note="same for all"))
    d = answer.to_dict()
    assert d["explanation"] is None
    assert d["recommendations"][0]["predicted"] == {
        "conversions": {"mean": 1.0, "low": 0.5, "high": 1.5, "unit": ""}
    }
    assert d["recommendations"][0]["basis"] == "personalized"
    assert d["policy"]["fallback"] is None and d["score_unit"] == ""
    row = flatten(answer)
    assert row["style"] == "community" and row["mix_visual"] == 1.0 and row["posts_per_week"] == 3.0
    assert row["support"] == "good" and row["policy_mode"] == "constant"
    assert json.loads(row["result_json"]) == d


def test_results_are_frozen_and_closed(answer) -> None:
    with pytest.raises(ValidationError, match="frozen"):
        answer.recommendations[0].score = 0.0  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        answer.explanation.factors[0].contribution = 0.0  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        PolicyNote(mode="constant", note="n", extra_field=1)  # type: ignore[call-arg]


def test_explanation_to_dict_lists_factors() -> None:
    factor = Factor(
        feature="support", value=None, runner_up_value=None, contribution=1.0, sentence="s"
    )
    e = Explanation(
        chosen_style="a",
        runner_up_style="b",
        score_difference=1.0,
        contributions_sum=1.0,
        factors=(factor,),
        other_factors=0.0,
    )
    assert e.to_dict()["factors"] == [
        {
            "feature": "support",
            "value": None,
            "runner_up_value": None,
            "contribution": 1.0,
            "sentence": "s",
        }
    ]


def test_field_descriptions_state_the_interval_level_and_the_lift_unit() -> None:
    """A client reads what ``low``/``high`` are and in what unit ``lift_vs_typical`` is, in
    the schema (the OpenAPI document shows these descriptions)."""
    from engage.training.conformal import INTERVAL_LEVEL
    from engage.training.selection import INTERVAL_LEVEL as POLICY_LEVEL

    level = f"{INTERVAL_LEVEL:.0%}"
    assert POLICY_LEVEL == INTERVAL_LEVEL
    for name in ("low", "high"):
        described = OutcomeForecast.model_fields[name].description or ""
        assert f"{level} prediction interval" in described
    assert "conformal" in (OutcomeForecast.model_fields["low"].description or "")
    lift = Recommendation.model_fields["lift_vs_typical"].description or ""
    assert "score_unit" in lift and "points" in lift
