"""Estimates as a run records them: the DR range and the flat metric names training and
``engage evaluate`` share."""

from __future__ import annotations

import numpy as np

from engage import ope


def _data() -> ope.LoggedData:
    rng = np.random.default_rng(0)
    n = 200
    return ope.LoggedData(
        reward=rng.normal(size=n),
        style=rng.integers(0, 3, n),
        propensity=np.full(n, 1 / 3),
        q_logged=rng.normal(size=n),
    )


def test_the_range_is_the_dr_interval_where_the_action_is_the_logged_one() -> None:
    data = _data()
    style, q = data.style.copy(), data.q_logged + 0.1
    logged = np.column_stack([data.style, np.arange(data.n)])
    est = ope.estimate_policy_value(data, style, q, n_boot=30)
    exact = ope.with_range(est, data, style, logged.copy(), logged)
    assert list(exact) == [*ope.ESTIMATORS, "range"] and exact["range"] == est["dr"]
    moved = ope.with_range(est, data, style, logged + 1.0, logged)
    assert moved["range"] == ope.extrapolation_range(est, exact=False)
    assert "range" not in est  # the estimates are left as they were


def test_values_flatten_to_the_metric_names_a_run_logs() -> None:
    values: ope.Values = {
        "shipped": ope.as_triples({"dr": ope.Estimate(1.0, 0.5, 1.5)}),
        "logged": {"observed": (0.2, 0.1, 0.3)},
    }
    assert ope.value_metrics(values) == {
        "ope.shipped.dr": 1.0,
        "ope.shipped.dr_low": 0.5,
        "ope.shipped.dr_high": 1.5,
        "ope.logged.observed": 0.2,
        "ope.logged.observed_low": 0.1,
        "ope.logged.observed_high": 0.3,
    }
    assert ope.estimate_metrics("gate.gain", ope.Estimate(1, 0, 2)) == {
        "gate.gain": 1,
        "gate.gain_low": 0,
        "gate.gain_high": 2,
    }
