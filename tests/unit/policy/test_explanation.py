"""Explanations are the model's own: contributions sum exactly to what they explain."""

from __future__ import annotations

import numpy as np
import pytest

from engage.policy.encoding import FeatureBuilder
from engage.policy.explanation import MAX_LISTED, contributions, select_factors
from engage.policy.results import Explanation, Factor
from engage.policy.scoring import weighted

TOL = 1e-9


@pytest.fixture(scope="module")
def answers(policy, tiny):
    return policy.recommend(tiny.profiles, top_k=3)


def _pair(answer):
    """The recommendations an answer explains: the first, and the first of another style
    shown (else the second)."""
    first, *rest = answer.recommendations
    return first, next((r for r in rest if r.style != first.style), rest[0])


def test_factors_and_other_factors_sum_to_the_score_difference(answers) -> None:
    for answer in answers:
        first, second = _pair(answer)
        e = answer.explanation
        assert isinstance(e, Explanation)
        assert (e.chosen_style, e.runner_up_style) == (first.style, second.style)
        assert e.score_difference == pytest.approx(first.score - second.score, abs=TOL)
        assert e.contributions_sum == pytest.approx(e.score_difference, abs=TOL)
        shown = sum(f.contribution for f in e.factors) + e.other_factors
        assert shown == pytest.approx(e.score_difference, abs=TOL)


def test_factors_in_favour_come_first_each_group_largest_first(answers) -> None:
    for answer in answers:
        e = answer.explanation
        assert 1 <= len(e.factors) <= MAX_LISTED
        assert all(isinstance(f, Factor) and f.sentence for f in e.factors)
        signs = [f.contribution > 0 for f in e.factors]
        assert signs == sorted(signs, reverse=True)  # every factor in favour before any against
        for group in (
            [f for f in e.factors if f.contribution > 0],
            [f for f in e.factors if f.contribution <= 0],
        ):
            sizes = [abs(f.contribution) for f in group]
            assert sizes == sorted(sizes, reverse=True)
        if e.score_difference > 0:
            assert e.factors[0].contribution > 0  # the explanation argues for the choice


def _folded(policy, context_row, chosen, runner_up, disc):
    """Every factor's contribution recomputed: features (bias in the style), then support."""
    rows = policy.builder.cross(
        context_row[None, :], policy.candidates.encoded[[chosen, runner_up]]
    )
    c = policy.contributions(rows, policy.weights())
    diff = c[0] - c[1]
    values = np.append(diff[:-1], disc[1] - disc[0])
    values[policy.predictor.n_context] += diff[-1]
    return dict(zip([*policy.builder.feature_names, "support"], values, strict=True))


def test_other_factors_are_exactly_the_factors_not_listed(policy, tiny, answers) -> None:
    r = policy.rank(tiny.context)
    for i, answer in enumerate(answers):
        e = answer.explanation
        first, second = (rec.candidate_index for rec in _pair(answer))
        values = _folded(policy, tiny.context[i], first, second, r.discount[i, [first, second]])
        listed = {f.feature for f in e.factors}
        for f in e.factors:
            assert f.contribution == pytest.approx(values[f.feature], abs=TOL)
        rest = [v for name, v in values.items() if name not in listed]
        assert e.other_factors == pytest.approx(sum(rest), abs=TOL)
        assert e.other_factors_count == sum(abs(v) >= 1e-12 for v in rest)
        assert bool(e.other_factors_sentence) == (e.other_factors_count > 0)
        assert f"{e.other_factors_count} smaller factor" in e.other_factors_sentence or not rest


def test_other_factors_never_outweigh_the_listed_ones_silently(answers) -> None:
    said = 0
    for answer in answers:
        e = answer.explanation
        largest = max(abs(f.contribution) for f in e.factors)
        outweighs = abs(e.other_factors) > largest or abs(e.other_factors) > 0.5 * abs(
            e.score_difference
        )
        if outweighs:
            said += 1
            assert "more than" in e.other_factors_sentence
            assert "many small effects" in e.other_factors_sentence
        else:
            assert "more than" not in e.other_factors_sentence
    assert said  # the fixture exercises the case


def test_summary_states_the_gap_with_both_predictions(answers, policy) -> None:
    for answer in answers:
        first, second = _pair(answer)
        e = answer.explanation
        assert e.summary.startswith(f"For this business, {first.style.replace('_', ' ')}")
        assert f"{e.score_difference:.2f} points above" in e.summary or "tie" in e.summary
        assert "conversions per 1,000 followers" in e.summary


def test_recommend_and_explain_tell_the_same_story(policy, tiny, answers) -> None:
    """The summary uses the ranking's predictions when it has them, else predicts: the same."""
    r = policy.rank(tiny.context[:5])
    for i, answer in enumerate(answers[:5]):
        a, b = (rec.candidate_index for rec in _pair(answer))
        alone = policy.explain(tiny.context[i], a, b, policy.weights(), r.discount[i, [a, b]])
        assert alone == answer.explanation


@pytest.mark.parametrize(
    ("values", "listed", "outweighs"),
    [
        # small factors are grouped
        ([5.0, -2.0, 0.1, 0.1, 0.05], [0, 1], ""),
        # while the rest outweighs the largest listed factor, more are listed (up to 8)
        ([1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.5, 0.5, 0.5], [0, 1, 2, 3, 4, 5, 6, 7], ""),
        # many small effects outweigh the one listed: said, not hidden
        ([0.5] + [0.1] * 30, [0], "any factor listed"),
        # the largest factor on the choice's side is listed, and first, even when small
        ([-1.0, -0.9] + [0.04] * 50, [2, 0, 1], "any factor listed"),
        # half the difference outweighed
        ([3.0, -2.0, 0.4, 0.4], [0, 2, 3, 1], ""),
        ([2.0, 2.0, -3.9] + [0.09] * 20, [0, 1, 2], "half the difference"),
        ([0.0, 0.0], [], ""),
    ],
)
def test_select_factors(values, listed, outweighs) -> None:
    v = np.array(values)
    assert select_factors(v, float(v.sum())) == (listed, outweighs)


def test_factor_values_say_whose_value_it_is(policy, tiny, answers) -> None:
    kinds = set()
    for i, answer in enumerate(answers):
        chosen, runner_up = (policy.candidates.frame.iloc[r.candidate_index] for r in _pair(answer))
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
        first, second = _pair(answer)
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
