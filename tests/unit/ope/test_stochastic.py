"""The value of a stochastic policy (the logging distribution a logging policy serves): a
mixture of deterministic policies, valued as such."""

from __future__ import annotations

import numpy as np
import pytest

from engage.ope import LoggedData, estimate_policy_value, gain_over_logged, stochastic_policy_value


def _log(n: int, k: int, seed: int) -> tuple[LoggedData, np.ndarray]:
    """A randomised log (styles uniform) whose true mean reward of style ``j`` for row ``i``
    is ``means[i, j]``; the outcome model is off by a constant."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(n, k)) + np.arange(k)
    style = rng.integers(0, k, n)
    reward = means[np.arange(n), style] + rng.normal(size=n)
    q_logged = means[np.arange(n), style] + 0.3
    return LoggedData(reward, style, np.full(n, 1 / k), q_logged), means


def test_a_point_mass_is_the_deterministic_policy() -> None:
    data, means = _log(500, 3, seed=1)
    target = np.random.default_rng(2).integers(0, 3, 500)
    q = means + 0.3
    one_hot = np.eye(3)[target]
    values, gain = stochastic_policy_value(data, one_hot, q, n_boot=50, seed=3)
    det = estimate_policy_value(data, target, q[np.arange(500), target], n_boot=50, seed=3)
    for name in ("dm", "ips", "dr"):
        assert values[name].value == pytest.approx(det[name].value)
    assert gain.value == pytest.approx(
        gain_over_logged(data, target, q[np.arange(500), target], n_boot=50, seed=3).value
    )


def test_dr_is_unbiased_for_the_mixture_with_a_biased_model() -> None:
    pi = np.array([0.5, 0.3, 0.2])
    errors = []
    for seed in range(40):
        data, means = _log(2000, 3, seed)
        truth = float((means @ pi).mean())
        probability = np.broadcast_to(pi, means.shape)
        values, _ = stochastic_policy_value(data, probability, means + 0.3, n_boot=10, seed=0)
        errors.append(values["dr"].value - truth)
    # the model's constant bias is corrected: the mean error is within noise of 0
    assert abs(np.mean(errors)) < 3 * np.std(errors) / np.sqrt(len(errors)) + 0.005


def test_shapes_are_checked() -> None:
    data, means = _log(10, 3, seed=0)
    with pytest.raises(ValueError, match=r"must both be \(n=10, K\)"):
        stochastic_policy_value(data, np.ones((10, 2)) / 2, means, n_boot=5)
