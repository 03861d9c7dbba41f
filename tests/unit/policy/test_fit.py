"""Issue 30, item 6: models that explain nothing do not speak with confidence. An answer says
how well the outcome models fit (held-out R²); where an outcome the objective weighs is below
``WEAK_FIT_R2`` its explanation is hedged as the model's unconfirmed estimate. The figures are
the Facebook example's (R² 0.00007, 0.017, 0.024)."""

from __future__ import annotations

import dataclasses

from engage.policy.fit import WEAK_FIT_R2, fit_note, matters

FACEBOOK_R2 = {"eval.conversions.r2": 0.00007, "eval.engagement_rate.r2": 0.017}


def test_the_fit_note_names_each_weak_model_and_the_threshold() -> None:
    fit = fit_note(
        {**FACEBOOK_R2, "eval.follower_growth.r2": 0.4, "eval.retention_30d.r2": float("nan")},
        ["conversions", "engagement_rate", "follower_growth", "retention_30d"],
    )
    assert fit is not None
    assert fit.weak == ("conversions", "engagement_rate")
    assert fit.r2 == {"conversions": 0.00007, "engagement_rate": 0.017, "follower_growth": 0.4}
    assert fit.threshold == WEAK_FIT_R2
    assert "explain little" in fit.note and f"below {WEAK_FIT_R2:g}" in fit.note
    assert fit_note({}, ["conversions"]) is None  # a model without fit figures says nothing
    good = fit_note({"eval.conversions.r2": 0.5}, ["conversions"])
    assert good is not None and good.weak == ()
    # a weak model that the objective does not weigh does not hedge the answer
    assert matters(fit, ["conversions", "follower_growth"], [1.0, 0.0])
    assert not matters(fit, ["conversions", "follower_growth"], [0.0, 1.0])


def test_an_answer_of_a_weak_model_says_so_and_hedges_its_explanation(policy, tiny) -> None:
    outcomes = list(policy.outcome_models)
    weak = dataclasses.replace(
        policy, metadata={"metrics": {f"eval.{o}.r2": 0.01 for o in outcomes}}
    )
    answer = weak.recommend(tiny.profiles.head(3), top_k=3)[0]
    assert answer.fit is not None and set(answer.fit.weak) == set(outcomes)
    assert answer.explanation is not None
    assert answer.explanation.summary.startswith("Unconfirmed: ")
    modelled = [f for f in answer.explanation.factors if f.feature != "support"]
    assert modelled and all("the model's estimate" in f.sentence for f in modelled)
    assert answer.to_dict()["fit"]["weak"]

    fine = dataclasses.replace(
        policy, metadata={"metrics": {f"eval.{o}.r2": 0.6 for o in outcomes}}
    )
    plain = fine.recommend(tiny.profiles.head(3), top_k=3)[0]
    assert plain.fit is not None and plain.fit.weak == ()
    assert plain.explanation is not None
    assert not plain.explanation.summary.startswith("Unconfirmed")
    assert all("the model's estimate" not in f.sentence for f in plain.explanation.factors)
