"""Metrics are named for what they compute: ``r2`` is the coefficient of determination."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import explained_variance_score, r2_score

from engage.reporting.metrics import explained_variance, r_squared, rmse


def test_r_squared_is_the_coefficient_of_determination():
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    yhat = 0.5 * y + 0.3  # biased: explained variance ignores the bias, R² does not
    assert r_squared(y, yhat) == pytest.approx(r2_score(y, yhat))
    assert explained_variance(y, yhat) == pytest.approx(explained_variance_score(y, yhat))
    assert r_squared(y, yhat) < explained_variance(y, yhat)


def test_undefined_cases_are_nan_and_rmse():
    assert np.isnan(r_squared(np.array([1.0]), np.array([1.0])))
    assert np.isnan(explained_variance(np.full(4, 2.0), np.arange(4.0)))
    assert rmse(np.array([0.0, 0.0]), np.array([3.0, 4.0])) == pytest.approx(np.sqrt(12.5))


def _hand_r_squared(y, yhat):  # the hand-written formulas scikit-learn replaced
    if len(y) < 2:
        return float("nan")
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot <= 0:
        return float("nan")
    return 1.0 - float(np.sum((y - yhat) ** 2)) / ss_tot


def _hand_explained_variance(y, yhat):
    if len(y) < 2 or float(y.var()) <= 0:
        return float("nan")
    return 1.0 - float((y - yhat).var()) / float(y.var())


def _hand_rmse(y, yhat):
    return float(np.sqrt(np.mean((y - yhat) ** 2)))


_CASES = [
    (np.array([0.0, 1.0]), np.array([1.0, 0.0])),
    (np.array([3.0, -0.5, 2.0, 7.0]), np.array([2.5, 0.0, 2.0, 8.0])),
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])),  # perfect fit
    (np.array([1.0, 2.0, 3.0]), np.array([30.0, -20.0, 10.0])),  # far below zero
    (np.array([0.0, 0.0, 1.0, 1.0, 1.0]), np.array([0.1, 0.4, 0.35, 0.8, 0.9])),  # binary
    (np.full(4, 2.0), np.arange(4.0)),  # constant observations
    (np.array([1.5]), np.array([1.0])),  # one row
    (np.array([0.1, 0.1, 0.1]), np.array([0.2, 0.0, 0.1])),
]


@pytest.mark.parametrize("seed", range(5))
def test_scikit_learn_gives_the_hand_written_values(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 2000))
    y = rng.normal(size=n) * rng.uniform(0.01, 100)
    yhat = y * rng.uniform(-1, 2) + rng.normal(size=n) + rng.normal()
    for a, b in [*_CASES, (y, yhat)]:
        for ours, hand in [
            (r_squared, _hand_r_squared),
            (explained_variance, _hand_explained_variance),
            (rmse, _hand_rmse),
        ]:
            assert ours(a, b) == pytest.approx(hand(a, b), rel=1e-12, abs=1e-12, nan_ok=True)


def test_non_finite_or_empty_values_give_nan_not_an_error():
    for bad in (np.array([1.0, np.nan, 3.0]), np.array([1.0, np.inf, 3.0])):
        good = np.array([1.0, 2.0, 4.0])
        for f in (r_squared, explained_variance, rmse):
            assert np.isnan(f(bad, good)) and np.isnan(f(good, bad))
    assert np.isnan(rmse(np.array([]), np.array([])))
