"""Explanations are the model's own: contributions sum exactly to what they explain."""

from __future__ import annotations

import numpy as np
import pytest

from engage.policy.encoding import FeatureBuilder
from engage.policy.explanation import MAX_FACTORS, contributions
from engage.policy.results import Explanation, Factor
from engage.policy.scoring import weighted

TOL = 1e-9


@pytest.fixture(scope="module")
def answers(policy, tiny):
    return policy.recommend(tiny.profiles, top_k=3)


def test_factors_and_other_factors_sum_to_the_score_difference(answers) -> None:
    for answer in answers:
        first, second = answer.recommendations[:2]
        e = answer.explanation
        assert isinstance(e, Explanation)
        assert (e.chosen_style, e.runner_up_style) == (first.style, second.style)
        assert e.score_difference == pytest.approx(first.score - second.score, abs=TOL)
        assert e.contributions_sum == pytest.approx(e.score_difference, abs=TOL)
        shown = sum(f.contribution for f in e.factors) + e.other_factors
        assert shown == pytest.approx(e.score_difference, abs=TOL)


def test_factors_are_the_largest_first_and_at_most_five(answers) -> None:
    for answer in answers:
        factors = answer.explanation.factors
        assert 1 <= len(factors) <= MAX_FACTORS
        sizes = [abs(f.contribution) for f in factors]
        assert sizes == sorted(sizes, reverse=True)
        assert all(isinstance(f, Factor) and f.sentence for f in factors)


def test_factor_values_say_whose_value_it_is(policy, tiny, answers) -> None:
    kinds = set()
    for i, answer in enumerate(answers):
        chosen, runner_up = (
            policy.candidates.frame.iloc[r.candidate_index] for r in answer.recommendations[:2]
        )
        for f in answer.explanation.factors:
            if f.feature == "support":
                assert f.value is None and f.runner_up_value is None
                kinds.add("support")
            elif f.feature in policy.spec.decision_names:
                assert f.value == chosen[f.feature] and f.runner_up_value == runner_up[f.feature]
                kinds.add("decision")
            else:  # a profile feature: the profile's own (raw) value, nothing for the runner-up
                assert f.value == tiny.profiles.iloc[i][f.feature] and f.runner_up_value is None
                kinds.add("profile")
    assert kinds == {"support", "decision", "profile"}  # the fixture exercises all three


def test_support_factor_is_the_difference_in_discount(answers) -> None:
    seen = 0
    for answer in answers:
        first, second = answer.recommendations[:2]
        for f in answer.explanation.factors:
            if f.feature == "support":
                seen += 1
                assert f.contribution == pytest.approx(
                    second.support_discount - first.support_discount
                )
    assert seen


def test_contributions_sum_to_the_predicted_objective(policy, tiny) -> None:
    rows = FeatureBuilder.cross(tiny.context[:3], policy.candidates.encoded[:7])
    for weights in (policy.weights(), policy.weights({"follower_growth": 1.0})):
        contrib = contributions(policy.predictor, rows, weights)
        assert contrib.shape == (len(rows), rows.shape[1] + 1)
        expected = weighted(policy.predict_outcomes(rows), weights)
        np.testing.assert_allclose(contrib.sum(1), expected, atol=TOL)


def test_grouping_rows_by_profile_changes_nothing(policy, tiny) -> None:
    rows = FeatureBuilder.cross(tiny.context[:4], policy.candidates.encoded[[0, 9, 20]])
    profile = np.repeat(np.arange(4), 3)
    per_row = policy.contributions(rows, policy.weights())
    per_profile = policy.contributions(rows, policy.weights(), profile)
    np.testing.assert_allclose(per_profile, per_row, rtol=0, atol=1e-12)


def test_without_corrections_contributions_are_the_models_alone(tiny) -> None:
    bare = tiny.variant(style_corrections=None)
    rows = FeatureBuilder.cross(tiny.context[:2], bare.candidates.encoded[:5])
    w = bare.weights()
    np.testing.assert_allclose(
        bare.contributions(rows, w).sum(1), weighted(bare.predict_outcomes(rows), w), atol=TOL
    )
    e = bare.explain(tiny.context[0], 0, 30, w)
    assert e.contributions_sum == pytest.approx(e.score_difference, abs=TOL)


def test_explain_one_pair_equals_the_batched_call(policy, tiny) -> None:
    w = policy.weights()
    discount = np.array([0.2, 0.7])
    one = policy.explain(tiny.context[3], 4, 25, w, discount)
    disc = np.zeros((len(tiny.context), len(policy.candidates)))
    disc[3, [4, 25]] = discount
    many = policy.explain_pairs(tiny.context, [(0, 1, 2), (3, 4, 25)], w, disc)
    assert many[1] == one
    support = [f for f in one.factors if f.feature == "support"]
    assert not support or support[0].contribution == pytest.approx(0.5)


def test_explain_without_discount_has_no_support_factor(policy, tiny) -> None:
    e = policy.explain(tiny.context[0], 0, 30, policy.weights())
    assert all(f.feature != "support" for f in e.factors)
    assert e.score_difference == pytest.approx(e.contributions_sum, abs=TOL)


def test_identical_candidates_explain_nothing(policy, tiny) -> None:
    e = policy.explain(tiny.context[0], 5, 5, policy.weights())
    assert e.factors == () and e.score_difference == 0.0 and e.other_factors == 0.0


def test_no_explanation_when_not_asked(policy, tiny) -> None:
    assert all(
        a.explanation is None for a in policy.recommend(tiny.profiles.head(3), explain=False)
    )
