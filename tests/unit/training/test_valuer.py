"""The valuing models (fitted on evaluation rows, cross-fitted) and the gain over the logged
policy."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from engage import ope
from engage.training.valuer import VALUER_FOLDS, fit_valuer


class _Side(SimpleNamespace):
    """The part of a split's side the valuer reads."""

    def __len__(self) -> int:
        return len(self.X)


def test_each_row_is_valued_by_the_fold_model_that_did_not_see_it() -> None:
    rng = np.random.default_rng(0)
    n = 600
    X = rng.normal(size=(n, 3))
    data = _Side(X=X, y={"a": 2 * X[:, 0] + rng.normal(scale=0.5, size=n), "b": X[:, 1]})
    valuer = fit_valuer(
        data, {"a": 1.0, "b": 0.0}, {"a": 40, "b": 40}, categorical=[], n_context=2, seed=0
    )
    assert len(valuer.boosters) == VALUER_FOLDS and valuer.outcomes == [
        "a"
    ]  # weight-0 outcome skipped
    rows = np.arange(n)
    q = valuer.objective(rows, data.X[:, :2], data.X[:, 2:])
    for f in range(VALUER_FOLDS):
        mine = valuer.fold == f
        np.testing.assert_allclose(q[mine], valuer.boosters[f]["a"].predict(data.X[mine]))
    # out of fold: the fit is honest, far from interpolating the noise
    resid = data.y["a"] - q
    assert 0.3 < resid.std() < 1.0


def test_the_gain_over_the_logged_policy_is_the_paired_dr_difference() -> None:
    rng = np.random.default_rng(1)
    n = 400
    data = ope.LoggedData(
        reward=rng.normal(10, 1, n),
        style=rng.integers(0, 3, n),
        propensity=np.full(n, 1 / 3),
        q_logged=np.full(n, 10.0),
    )
    target = np.zeros(n, dtype=int)
    q = np.full(n, 10.5)
    gain = ope.gain_over_logged(data, target, q, n_boot=200, seed=0)
    dr = ope.estimate_policy_value(data, target, q, n_boot=200, seed=0)["dr"].value
    assert gain.value == pytest.approx(dr - data.reward.mean())
    assert gain.low < gain.value < gain.high
