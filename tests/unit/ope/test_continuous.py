"""Kernel-smoothed IPS/DR of full actions on simulated logs whose densities are known: the
bandwidth rule, unbiasedness for the smoothed target, and 95% coverage over repeated logs."""

from __future__ import annotations

import numpy as np
import pytest

from engage.ope import (
    LoggedActions,
    LoggedData,
    kernel_policy_value,
    kernel_samples,
    kernel_scale,
)
from engage.ope.continuous import KERNEL_REFERENCE_ROWS
from engage.ope.kernels import box_density, draw_box, draw_mix, mix_density

CONC, HALF, LOW, HIGH = 30.0, 1.5, 1.0, 10.0
BETA = np.array([2.0, -1.0, 0.5])


def _mu(x, style, mix, num):
    """A smooth world: style, mix and cadence all matter, cadence with a peak."""
    return 1.0 + 0.8 * style + x + mix @ BETA - 0.05 * (num - (4 + 3 * x)) ** 2


def _centres(x):
    """Logging centres (what the last champion chose) and the target's nearby choice."""
    log_mix = np.column_stack([0.2 + 0.3 * x, 0.5 - 0.2 * x, 0.3 - 0.1 * x])
    tgt_mix = np.column_stack([0.3 + 0.3 * x, 0.45 - 0.2 * x, 0.25 - 0.1 * x])
    return log_mix, 5.0 + 2 * x, tgt_mix, 5.1 + 2 * x  # the kernel stays within the log's box


def _log(n, rng):
    x = rng.uniform(size=n)
    p1 = 0.3 + 0.4 * x
    style = (rng.uniform(size=n) < p1).astype(int)
    log_mix, log_num, _, _ = _centres(x)
    mix = np.array([draw_mix(rng, m, CONC, 1.0) for m in log_mix])
    num = np.array([draw_box(rng, np.array([c]), np.array([HALF]), LOW, HIGH) for c in log_num])
    dens = mix_density(mix, log_mix, CONC) * box_density(num, log_num[:, None], HALF, LOW, HIGH)
    y = _mu(x, style, mix, num[:, 0]) + rng.normal(scale=0.5, size=n)
    prop = np.where(style == 1, p1, 1 - p1)
    return x, style, prop, mix, num, dens, y


def _smoothed_truth(scale, n, rng):
    """The smoothed target's value, by Monte Carlo from the kernel itself."""
    x = rng.uniform(size=n)
    _, _, tm, tn = _centres(x)
    mix = np.array([draw_mix(rng, m, CONC / scale**2, 1.0) for m in tm])
    num = np.array([draw_box(rng, np.array([c]), np.array([HALF * scale]), LOW, HIGH) for c in tn])
    return float(_mu(x, 1, mix, num[:, 0]).mean())


def _estimate(rng, n, model_bias, n_boot=200, seed=0):
    x, style, prop, mix, num, dens, y = _log(n, rng)
    _, _, tm, tn = _centres(x)
    q_logged = _mu(x, style, mix, num[:, 0]) + model_bias
    data = LoggedData(reward=y, style=style, propensity=prop, q_logged=q_logged)
    actions = LoggedActions(
        mix=mix,
        numeric=num,
        density=dens,
        mix_concentration=np.full(n, CONC),
        half_width=np.full((n, 1), HALF),
        low=[LOW],
        high=[HIGH],
    )
    draws = 8
    km, kn = kernel_samples(actions, tm, tn[:, None], draws=draws, seed=seed)
    q_target = (_mu(np.repeat(x, draws), 1, km, kn[:, 0]) + model_bias).reshape(n, draws).mean(1)
    return kernel_policy_value(
        data, actions, np.ones(n, int), tm, tn[:, None], q_target, n_boot=n_boot, seed=seed
    )


def test_the_bandwidth_rule():
    assert kernel_scale(KERNEL_REFERENCE_ROWS, 5) == 1.0
    assert kernel_scale(10, 5) == 1.0  # never wider than the exploration
    assert kernel_scale(2 * KERNEL_REFERENCE_ROWS, 3) == pytest.approx(2 ** (-1 / 7))
    assert kernel_scale(10**6, 5) < kernel_scale(10**5, 5) < kernel_scale(10**4, 5)
    # the rate: ten times the rows narrows the kernel by 10^(-1/(d+4))
    assert kernel_scale(10**5, 5) / kernel_scale(10**4, 5) == pytest.approx(10 ** (-1 / 9))


def test_weights_are_one_where_the_target_is_the_logging_centre():
    rng = np.random.default_rng(0)
    n = 2000
    x, style, prop, mix, num, dens, y = _log(n, rng)
    log_mix, log_num, _, _ = _centres(x)
    from engage.ope import kernel_weights

    actions = LoggedActions(mix, num, dens, np.full(n, CONC), np.full((n, 1), HALF), [LOW], [HIGH])
    w = kernel_weights(actions, log_mix, log_num[:, None], scale=1.0)
    assert np.allclose(w, 1.0)


@pytest.mark.slow
def test_kernel_dr_covers_the_smoothed_value_in_at_least_90_percent_of_logs():
    n, reps = 2000, 100
    scale = kernel_scale(n, 3)
    truth = _smoothed_truth(scale, 200_000, np.random.default_rng(123))
    covers = {"kips": 0, "kdr": 0}
    errors = {"kips": [], "kdr": []}
    for r in range(reps):
        est = _estimate(np.random.default_rng(1000 + r), n, model_bias=0.4, seed=r)
        for k in covers:
            covers[k] += est[k].low <= truth <= est[k].high
            errors[k].append(est[k].value - truth)
    for k in covers:
        assert covers[k] / reps >= 0.9, (k, covers[k] / reps)
        # unbiased: the mean error is within 3 standard errors of 0
        e = np.array(errors[k])
        assert abs(e.mean()) <= 3 * e.std(ddof=1) / np.sqrt(reps) + 1e-3, (k, e.mean())


def test_rows_not_drawn_weigh_nothing_and_bad_densities_are_refused():
    from engage.ope import kernel_weights

    actions = LoggedActions(
        np.full((3, 2), 0.5),
        np.ones((3, 1)),
        [1.0, np.nan, 2.0],
        [30.0, np.nan, 30.0],
        np.array([[1.0], [np.nan], [1.0]]),
        [0.0],
        [5.0],
    )
    assert actions.explored.tolist() == [True, False, True]
    w = kernel_weights(actions, np.full((3, 2), 0.5), np.ones((3, 1)), scale=1.0)
    assert w[1] == 0 and w[0] > 0
    with pytest.raises(ValueError, match="1 of 3 rows have a density that is not positive"):
        LoggedActions(
            np.full((3, 2), 0.5),
            np.ones((3, 1)),
            [1.0, 0.0, 2.0],
            [30.0] * 3,
            np.ones((3, 1)),
            [0.0],
            [5.0],
        )
