"""Ranking: the typed batch ranking, the order shown to a caller, top_k, constant mode, batches."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.policy.constraints import Constraints
from engage.policy.ranking import Ranking, rank_styles, runner_up, top_choice
from engage.policy.scoring import weighted


def test_rank_returns_a_frozen_typed_ranking(policy, tiny) -> None:
    r = policy.rank(tiny.context)
    n, k = len(tiny.context), len(policy.candidates)
    assert isinstance(r, Ranking)
    assert r.preds.shape == (n, k, 4)
    assert (
        r.predicted_objective.shape
        == r.discount.shape
        == r.score.shape
        == r.allowed.shape
        == (n, k)
    )
    assert r.propensity.shape == (n, len(policy.spec.styles))
    assert r.typical is None  # only recommend asks for the typical choice
    np.testing.assert_array_equal(r.predicted_objective, weighted(r.preds, r.weights))
    np.testing.assert_array_equal(r.score, r.predicted_objective - r.discount)
    assert (r.discount > 0).all()  # the fixture's pessimism is on
    masked = np.where(r.allowed, r.score, -np.inf)
    np.testing.assert_array_equal(r.choice, masked.argmax(1))
    np.testing.assert_array_equal(policy.choose(tiny.context), r.choice)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.choice = r.choice  # type: ignore[misc]


def test_shown_order_is_the_score_order_with_every_style_before_variants(policy, tiny) -> None:
    r = policy.rank(tiny.context)
    for i, answer in enumerate(policy.recommend(tiny.profiles, top_k=10)):
        recs = answer.recommendations
        assert [rec.rank for rec in recs] == list(range(1, len(recs) + 1))
        assert recs[0].candidate_index == r.choice[i]
        for rec in recs:  # the scores shown are the ranking's
            assert rec.score == r.score[i, rec.candidate_index]
            assert rec.predicted_objective == r.predicted_objective[i, rec.candidate_index]
            assert rec.support_discount == r.discount[i, rec.candidate_index]
            assert rec.basis == "personalized"
        scores = [rec.score for rec in recs]
        assert scores == sorted(scores, reverse=True)  # the ranks never contradict the scores
        allowed_styles = set(policy.candidates.style_codes[r.allowed[i]])
        shown_styles = {rec.style for rec in recs}
        assert len(shown_styles) == min(len(allowed_styles), 10)  # alternatives, not variants


@pytest.mark.parametrize("top_k", [1, 2, 3, 7])
def test_top_k_limits_the_recommendations(policy, tiny, top_k) -> None:
    for answer in policy.recommend(tiny.profiles.head(8), top_k=top_k):
        assert len(answer.recommendations) == top_k
        assert (answer.explanation is None) == (top_k == 1)


def test_top_k_beyond_the_allowed_actions_lists_them_all(policy, tiny) -> None:
    r = policy.rank(tiny.context[:3])
    for i, answer in enumerate(policy.recommend(tiny.profiles.head(3), top_k=1000)):
        shown = sorted(rec.candidate_index for rec in answer.recommendations)
        assert shown == np.flatnonzero(r.allowed[i]).tolist()


@pytest.fixture(scope="module")
def constant(tiny):
    """A constant policy whose action the support floor excludes for some profiles only."""
    personal = tiny.policy.rank(tiny.context)
    action = next(
        j for j in range(personal.allowed.shape[1]) if 0 < personal.allowed[:, j].mean() < 1
    )
    return tiny.variant(mode="constant", constant_action=action)


def test_constant_policy_puts_its_action_first_where_allowed_and_says_so(constant, tiny) -> None:
    action = constant.constant_action
    style = constant.spec.styles[constant.candidates.style_codes[action]].replace("_", " ")
    r = constant.rank(tiny.context)
    fallbacks = 0
    for i, answer in enumerate(constant.recommend(tiny.profiles)):
        recs = answer.recommendations
        assert answer.policy.mode == "constant"
        assert "The constant action is " + style in answer.policy.note
        rest = [rec.score for rec in recs[1:]]
        assert rest == sorted(rest, reverse=True)
        assert all(rec.basis == "personalized" for rec in recs[1:])
        if r.allowed[i, action]:
            assert recs[0].candidate_index == action and recs[0].basis == "constant"
            assert answer.policy.fallback is None
        else:  # said, not silent: the support floor excludes it for this profile
            fallbacks += 1
            best = int(np.where(r.allowed[i], r.score[i], -np.inf).argmax())
            assert recs[0].candidate_index == best and recs[0].basis == "personalized"
            assert answer.policy.fallback == "outside_support"
            assert "outside the log's support" in answer.policy.note
            assert [rec.score for rec in recs] == sorted(rest + [recs[0].score], reverse=True)
    assert 0 < fallbacks < len(tiny.profiles)


def test_constant_action_outside_the_constraints_is_said(constant, tiny) -> None:
    style = constant.spec.styles[constant.candidates.style_codes[constant.constant_action]]
    others = [s for s in constant.spec.styles if s != style]
    for answer in constant.recommend(tiny.profiles.head(5), constraints=Constraints(styles=others)):
        assert answer.policy.fallback == "outside_constraints"
        assert "outside the constraints given" in answer.policy.note
        assert all(rec.basis == "personalized" for rec in answer.recommendations)


def test_constant_explanation_says_why_a_lower_score_comes_first(constant, tiny) -> None:
    seen = 0
    for answer in constant.recommend(tiny.profiles):
        e = answer.explanation
        if answer.recommendations[0].basis == "constant" and e.score_difference < 0:
            seen += 1
            assert "comes first because it is the shipped constant action" in e.summary
            assert "still comes out ahead" not in " ".join(f.sentence for f in e.factors)
    assert seen


def test_top_choice_and_constant_action() -> None:
    score = np.array([[1.0, 3.0, 2.0], [5.0, 1.0, 0.0]])
    allowed = np.array([[True, False, True], [False, True, True]])
    assert top_choice(score, allowed).tolist() == [2, 1]
    assert top_choice(score, allowed, 0).tolist() == [0, 1]
    # per-profile pinned positions (a baseline policy), -1 for none
    assert top_choice(score, allowed, np.array([2, -1])).tolist() == [2, 1]


def test_rank_styles_picks_styles_first_and_orders_by_score() -> None:
    score = np.array([5.0, 9.0, 4.0, 8.0, 7.0, 1.0])
    styles = np.array([0, 0, 1, 1, 2, 2])
    allowed = np.array([True, True, True, True, True, False])
    assert rank_styles(score, allowed, styles, 1, 10) == [1, 3, 4, 0, 2]
    assert rank_styles(score, allowed, styles, 1, 2) == [1, 3]
    # a constant policy's first choice stays first even when it scores lower
    assert rank_styles(score, allowed, styles, 2, 3, pinned=True) == [2, 1, 4]
    # unpinned, the order is the score order whatever comes first
    assert rank_styles(score, allowed, styles, 2, 3) == [1, 4, 2]


def test_a_variant_that_outscores_another_style_is_listed_above_it() -> None:
    score = np.array([9.0, 8.5, 1.0, 0.5])
    styles = np.array([0, 0, 1, 1])
    allowed = np.ones(4, dtype=bool)
    assert rank_styles(score, allowed, styles, 0, 3) == [0, 1, 2]
    assert rank_styles(score, allowed, styles, 0, 2) == [0, 2]  # the other style is kept
    assert runner_up([0, 1, 2], styles) == 2  # explained against the other style
    assert runner_up([0, 1], styles) == 1


def test_lift_is_against_the_typical_logged_choice(policy, tiny) -> None:
    ctx = tiny.context[:5]
    typical_rows = np.hstack([ctx, policy.typical_actions[policy.propensities(ctx).argmax(1)]])
    typical = weighted(policy.predict_outcomes(typical_rows), policy.weights())
    for i, answer in enumerate(policy.recommend_context(ctx)):
        for rec in answer.recommendations:
            assert rec.lift_vs_typical == pytest.approx(
                rec.predicted_objective - typical[i], abs=1e-12
            )


def test_forecasts_carry_the_interval_halfwidths(policy, tiny) -> None:
    rec = policy.recommend(tiny.profiles.head(1))[0].recommendations[0]
    assert list(rec.predicted) == policy.spec.outcome_names
    for name, f in rec.predicted.items():
        half = policy.interval_halfwidth.get(name, 0.0)
        assert (f.low, f.high) == pytest.approx((f.mean - half, f.mean + half))
    assert rec.predicted["retention_30d"].low == rec.predicted["retention_30d"].mean  # no width


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batch=st.lists(st.integers(0, 39), min_size=1, max_size=12),
    top_k=st.integers(1, 5),
    explain=st.booleans(),
)
def test_a_profiles_answer_does_not_depend_on_its_batch(tiny, batch, top_k, explain) -> None:
    policy = tiny.policy
    together = policy.recommend_context(tiny.context[batch], top_k=top_k, explain=explain)
    for i, answer in zip(batch, together, strict=True):
        alone = policy.recommend_context(tiny.context[[i]], top_k=top_k, explain=explain)[0]
        assert answer == alone  # exactly: every float bit-for-bit


def test_recommend_encodes_profiles_like_recommend_context(policy, tiny) -> None:
    assert policy.recommend(tiny.profiles.head(6)) == policy.recommend_context(tiny.context[:6])
