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
