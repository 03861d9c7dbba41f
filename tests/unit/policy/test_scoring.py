"""Scoring: the weighted objective, the softmax, the support discount, outcome predictions."""

from __future__ import annotations

import numpy as np
import pytest

from engage.policy.encoding import FeatureBuilder
from engage.policy.scoring import OutcomePredictor, softmax, support_discount, weighted


def test_weighted_is_the_dot_product_summed_in_a_fixed_order() -> None:
    rng = np.random.default_rng(0)
    preds, weights = rng.normal(size=(7, 11, 4)), np.array([1.0, 0.5, -0.3, 0.05])
    total = weighted(preds, weights)
    np.testing.assert_allclose(total, preds @ weights, rtol=1e-12)
    # each row's sum is the same computation whatever else is in the array
    for i in range(len(preds)):
        assert np.array_equal(weighted(preds[i : i + 1], weights)[0], total[i])


def test_softmax_rows_are_probabilities_and_temperature_flattens() -> None:
    raw = np.array([[2.0, 0.0, -1.0], [1000.0, 999.0, 0.0]])  # large scores must not overflow
    p = softmax(raw)
    np.testing.assert_allclose(p.sum(1), 1.0)
    assert np.all(np.isfinite(p))
    flat = softmax(raw, temperature=3.0)
    assert flat[0].max() < p[0].max() and flat[0].min() > p[0].min()


def test_training_uses_the_one_softmax() -> None:
    from engage.training import models

    assert models._softmax is softmax


def test_support_discount_shrinks_with_support_and_can_be_disabled() -> None:
    prop = np.array([[0.01, 0.1, 0.5, 1.0]])
    d = support_discount(prop, pessimism=2.0, score_sd=3.0, n_train=100)
    np.testing.assert_allclose(d, 2.0 * 3.0 / np.sqrt(100 * prop))
    assert np.all(np.diff(d[0]) < 0)
    assert not support_discount(prop, pessimism=0.0, score_sd=3.0, n_train=100).any()
    assert not support_discount(prop, pessimism=1.0, score_sd=3.0, n_train=0).any()
    assert np.isfinite(support_discount(np.zeros((1, 2)), pessimism=1, score_sd=1, n_train=5)).all()


def test_style_corrections_map_the_policy_outcome_order(policy) -> None:
    corr = policy.style_corrections
    assert corr.outcomes == list(reversed(policy.spec.outcome_names))  # as the fixture built them
    columns = corr.columns(policy.spec.outcome_names)
    assert columns == [3, 2, 1, 0]
    assert policy.predictor.correction_columns == columns


def test_style_corrections_for_rows_and_contributions_agree_with_predict(policy, tiny) -> None:
    corr, ctx = policy.style_corrections, tiny.context[:6]
    full = corr.predict(ctx)  # (n, outcomes, styles)
    styles = np.arange(6) % len(policy.spec.styles)
    np.testing.assert_array_equal(corr.for_rows(ctx, styles), full[np.arange(6), :, styles])
    np.testing.assert_allclose(corr.contributions(ctx).sum(-1), full, atol=1e-9)


def test_outcome_predictions_add_each_rows_own_style_correction(policy, tiny) -> None:
    ctx = tiny.context[:5]
    rows = FeatureBuilder.cross(ctx, policy.candidates.encoded)
    plain = policy.predictor.model_outcomes(rows)
    corrected = policy.predict_outcomes(rows)
    own = policy.style_correction(ctx)  # (n, outcomes, styles), outcome order
    styles = np.tile(policy.candidates.style_codes, len(ctx))
    profile = np.repeat(np.arange(len(ctx)), len(policy.candidates))
    np.testing.assert_allclose(corrected - plain, own[profile, :, styles], atol=1e-12)


def test_candidate_outcomes_equal_row_predictions_and_extra_rows_ride_along(policy, tiny) -> None:
    ctx = tiny.context[:4]
    k = len(policy.candidates)
    extra = policy.typical_actions[[0, 1, 2, 3]]
    preds, extra_preds = policy.predictor.candidates(ctx, policy.candidates, extra)
    assert preds.shape == (4, k, len(policy.spec.outcome_names))
    rows = FeatureBuilder.cross(ctx, policy.candidates.encoded)
    np.testing.assert_allclose(preds.reshape(4 * k, -1), policy.predict_outcomes(rows), atol=1e-12)
    alone = policy.predict_outcomes(np.hstack([ctx, extra]))
    np.testing.assert_allclose(extra_preds, alone, atol=1e-12)
    assert policy.predictor.candidates(ctx, policy.candidates)[1] is None


def test_without_corrections_predictions_are_the_models_alone(tiny) -> None:
    bare = tiny.variant(style_corrections=None)
    assert bare.style_correction(tiny.context) is None
    assert bare.predictor.correction_columns == []
    rows = FeatureBuilder.cross(tiny.context[:2], bare.candidates.encoded)
    np.testing.assert_array_equal(bare.predict_outcomes(rows), bare.predictor.model_outcomes(rows))


def test_score_candidates_weighs_the_predicted_outcomes(policy, tiny) -> None:
    preds, scores = policy.score_candidates(tiny.context[:3], {"conversions": 1.0})
    np.testing.assert_array_equal(scores, preds[..., 0])
    preds, scores = policy.score_candidates(tiny.context[:3])
    np.testing.assert_array_equal(scores, weighted(preds, policy.weights()))


def test_weights_replace_the_objective_whole_and_default_to_the_trained_one(tiny) -> None:
    policy = tiny.policy
    spec_weights = policy.spec.outcome_weights()
    assert policy.weights().tolist() == [spec_weights[o] for o in policy.spec.outcome_names]
    assert policy.weights({"engagement_rate": 2.0}).tolist() == [0.0, 2.0, 0.0, 0.0]
    trained_for = tiny.variant(objective={"conversions": 1.0})
    assert trained_for.weights().tolist() == [1.0, 0.0, 0.0, 0.0]


def test_propensities_are_probabilities_over_styles(policy, tiny) -> None:
    p = policy.propensities(tiny.context)
    assert p.shape == (len(tiny.context), len(policy.spec.styles))
    np.testing.assert_allclose(p.sum(1), 1.0)
    raw = np.asarray(policy.propensity_model.predict(tiny.context, raw_score=True))
    np.testing.assert_array_equal(p, softmax(raw, policy.propensity_temperature))


@pytest.mark.parametrize("pessimism", [0.0, 1.0])
def test_policy_support_discount_uses_its_fields(tiny, pessimism) -> None:
    policy = tiny.variant(pessimism=pessimism)
    prop = np.array([[0.2, 0.8]])
    expected = support_discount(
        prop, pessimism=pessimism, score_sd=policy.score_sd, n_train=policy.n_train
    )
    np.testing.assert_array_equal(policy.support_discount(prop), expected)


def test_predictor_build_takes_the_models_in_outcome_order(policy) -> None:
    order = list(reversed(policy.spec.outcome_names))
    built = OutcomePredictor.build(policy.outcome_models, order, 3, None)
    assert built.outcomes == tuple(order)
    assert built.boosters == tuple(policy.outcome_models[o] for o in order)
