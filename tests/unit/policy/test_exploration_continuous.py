"""Full-action exploration: the recorded density is the density of the distribution that drew
the action (closed form and by simulation), draws stay within the caller's constraints and
the declared ranges, are reproducible, and the budget holds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engage.ope.kernels import dirichlet_alpha, mix_contraction, mix_density
from engage.policy.exploration import (
    BUDGET_SCALES,
    MIX_CONCENTRATION,
    BudgetLedger,
    Region,
    continuous_costs,
    continuous_density,
    draw_continuous,
    fit_scale,
    movable,
    region,
    style_cost,
    thin,
)

CENTRE = np.array([0.5, 0.2, 0.15, 0.1, 0.05])
NUMERIC = np.array([7.5])
WHERE = Region(np.ones(5), np.array([1.0]), np.array([60.0]), np.array([2.0]))


def _beta_pdf(x: np.ndarray, a: float, b: float) -> np.ndarray:
    log_b = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    return np.exp((a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - log_b)


def test_the_recorded_density_is_the_closed_form_dirichlet_and_box_density():
    got = draw_continuous(CENTRE, NUMERIC, WHERE, 1.0, seed=11)
    alpha = dirichlet_alpha(CENTRE, MIX_CONCENTRATION)
    x = got.mix
    log_dir = (
        sum((a - 1) * math.log(v) for a, v in zip(alpha, x, strict=True))
        - sum(math.lgamma(a) for a in alpha)
        + math.lgamma(alpha.sum())
    )
    box = 1.0 / (9.5 - 5.5)  # uniform on [7.5 - 2, 7.5 + 2]
    assert got.density == pytest.approx(math.exp(log_dir) * box, rel=1e-9)
    assert abs(got.numeric[0] - 7.5) <= 2.0


def test_the_dirichlet_mode_is_the_policys_mix():
    # the density is highest at the centre: a small step in any direction lowers it
    at = mix_density(CENTRE, CENTRE, MIX_CONCENTRATION)[0]
    rng = np.random.default_rng(0)
    for _ in range(20):
        step = rng.normal(size=5) * 0.01
        step -= step.mean()
        assert mix_density(CENTRE + step, CENTRE, MIX_CONCENTRATION)[0] < at


def test_simulated_draws_match_the_density_two_shares_histogram():
    # with two shares the mix is one number: the histogram of many draws against the density
    centre = np.array([0.7, 0.3])
    where = Region(np.array([0.85, 1.0]), np.empty(0), np.empty(0), np.empty(0))
    draws = np.array(
        [draw_continuous(centre, np.empty(0), where, 1.0, seed=s).mix[0] for s in range(20_000)]
    )
    assert draws.max() <= 0.85 + 1e-12  # the cap holds for every draw
    edges = np.linspace(draws.min(), draws.max(), 31)
    hist, _ = np.histogram(draws, bins=edges, density=True)
    mids = (edges[:-1] + edges[1:]) / 2
    dens = mix_density(
        np.column_stack([mids, 1 - mids]),
        centre,
        MIX_CONCENTRATION,
        mix_contraction(centre, where.mix_caps),
    )
    big = dens > 0.5
    assert np.abs(hist[big] - dens[big]).max() / dens.max() < 0.08


def test_simulated_draws_match_the_density_five_shares():
    # a share's marginal is an affine Beta; and E[1 / f(X)] is the volume of the support
    caps = np.array([0.6, 1.0, 1.0, 1.0, 1.0])
    where = Region(caps, np.array([1.0]), np.array([60.0]), np.array([2.0]))
    s = mix_contraction(CENTRE, caps)
    assert 0 < s < 1
    draws = [draw_continuous(CENTRE, NUMERIC, where, 1.0, seed=k) for k in range(20_000)]
    mixes = np.array([d.mix for d in draws])
    assert (mixes[:, 0] <= 0.6 + 1e-12).all() and np.allclose(mixes.sum(1), 1)
    alpha = dirichlet_alpha(CENTRE, MIX_CONCENTRATION)
    d0 = CENTRE[0] + (mixes[:, 0] - CENTRE[0]) / s  # the un-contracted share: Beta(a0, sum - a0)
    hist, edges = np.histogram(d0, bins=25, density=True)
    mids = (edges[:-1] + edges[1:]) / 2
    beta = _beta_pdf(mids, alpha[0], alpha.sum() - alpha[0])
    assert np.abs(hist - beta).max() / beta.max() < 0.08
    # E[g(X) / f(X)] = 1 for any density g within the support: the recorded f integrates
    # the draw's own distribution (g: a tighter Dirichlet and box around the same centre)
    g = mix_density(mixes, CENTRE, 2 * MIX_CONCENTRATION, s) * np.array(
        [0.5 if abs(d.numeric[0] - 7.5) <= 1.0 else 0.0 for d in draws]
    )
    ratio = g / np.array([d.density for d in draws])
    assert ratio.mean() == pytest.approx(1.0, abs=4 * ratio.std() / np.sqrt(len(ratio)))
    # and each recorded density is the density function at the drawn point
    d = draws[7]
    assert d.density == pytest.approx(
        continuous_density(d.mix, d.numeric, CENTRE, NUMERIC, where, d.contraction, d.half_width)
    )


def test_numeric_draws_stay_in_the_declared_range_and_the_callers_bounds():
    where = region([1.0] * 5, [(1.0, 60.0)], [(None, 8.0)], [np.array([3.0, 5.0, 7.5, 10.0, 14.0])])
    assert where.high[0] == 8.0 and where.low[0] == 1.0
    assert where.bandwidth[0] == pytest.approx(0.25 * 11.0)
    for seed in range(500):
        got = draw_continuous(CENTRE, np.array([7.0]), where, 1.0, seed)
        assert 4.25 - 1e-9 <= got.numeric[0] <= 8.0
        assert got.density == pytest.approx(
            mix_density(got.mix, CENTRE, MIX_CONCENTRATION)[0] / (8.0 - 4.25)
        )


def test_a_mix_on_its_cap_or_a_pinned_number_is_not_explored():
    pinned = Region(
        np.array([0.5, 1, 1, 1, 1.0]), np.array([1.0]), np.array([60.0]), np.array([2.0])
    )
    assert not movable(CENTRE, NUMERIC, pinned)
    narrow = Region(np.ones(5), np.array([7.5]), np.array([7.5]), np.array([2.0]))
    assert not movable(CENTRE, NUMERIC, narrow)
    assert movable(CENTRE, NUMERIC, WHERE)


def test_draws_are_reproducible_from_the_seed():
    a = draw_continuous(CENTRE, NUMERIC, WHERE, 1.0, seed=5)
    b = draw_continuous(CENTRE, NUMERIC, WHERE, 1.0, seed=5)
    c = draw_continuous(CENTRE, NUMERIC, WHERE, 1.0, seed=6)
    assert np.array_equal(a.mix, b.mix) and a.density == b.density
    assert not np.array_equal(a.mix, c.mix)


def test_the_budget_picks_the_widest_scale_that_fits():
    def objective(mixes, nums):  # a peak at the centre: wider draws give up more
        return 10 - 50 * ((mixes - CENTRE) ** 2).sum(1) - 0.1 * (nums[:, 0] - 7.5) ** 2

    costs = continuous_costs(CENTRE, NUMERIC, WHERE, objective, seed=3)
    assert all(costs[a] >= costs[b] for a, b in zip(BUDGET_SCALES, BUDGET_SCALES[1:], strict=False))
    assert fit_scale(costs, math.inf) == 1.0
    middle = (costs[0.5] + costs[0.25]) / 2
    assert fit_scale(costs, middle) == 0.25
    assert fit_scale(costs, -1.0) == 0.0


def test_the_style_distribution_is_thinned_to_the_budget():
    p = np.array([0.8, 0.1, 0.1])
    objectives = np.array([5.0, 3.0, 1.0])
    cost = style_cost(p, objectives)
    assert cost == pytest.approx(0.6)
    q = thin(p, 0, cost, 0.15)
    assert q.sum() == pytest.approx(1) and style_cost(q, objectives) == pytest.approx(0.15)
    assert thin(p, 0, cost, 1.0) is p


def test_the_service_ledger_keeps_the_running_mean_within_budget():
    ledger = BudgetLedger(0.1)
    rng = np.random.default_rng(0)
    for _ in range(200):
        allowed = ledger.allowance()
        mean = ledger.charge(min(allowed, rng.uniform(0, 0.3)))
        assert mean <= 0.1 + 1e-12
    assert BudgetLedger(None).allowance() == math.inf


def test_a_predicted_gain_off_the_policys_choice_is_not_counted_as_one():
    # the model predicts every draw better than the centre (its extrapolation): the old
    # estimate, centre less the mean, came out negative and left the budget unspent
    def rising(mixes, nums):
        return 10 + 50 * ((mixes - CENTRE) ** 2).sum(1) + 0.1 * (nums[:, 0] - 7.5) ** 2

    assert all(c == 0.0 for c in continuous_costs(CENTRE, NUMERIC, WHERE, rising, 3).values())
    # a style the model predicts above the first gives up nothing, it earns nothing either
    assert style_cost(np.array([0.5, 0.5]), np.array([5.0, 9.0])) == 0.0
    assert style_cost(np.array([0.5, 0.25, 0.25]), np.array([5.0, 9.0, 3.0])) == 0.5


def test_a_draw_that_loses_here_and_gains_there_costs_what_it_loses():
    def mixed(mixes, nums):  # above the centre on one side of the cadence, below on the other
        return 10 + (nums[:, 0] - 7.5)

    costs = continuous_costs(CENTRE, NUMERIC, WHERE, mixed, 3)
    # uniform on [5.5, 9.5]: the mean loss below the centre is 1/2 the half-width's mean, 0.5
    assert 0.1 < costs[1.0] < 1.0
    assert costs[1.0] > costs[0.125] > 0


def test_the_widest_scales_cost_alone_equals_its_cost_among_all():
    def peak(mixes, nums):
        return 10 - 50 * ((mixes - CENTRE) ** 2).sum(1) - 0.1 * (nums[:, 0] - 7.5) ** 2

    every = continuous_costs(CENTRE, NUMERIC, WHERE, peak, 9)
    alone = continuous_costs(CENTRE, NUMERIC, WHERE, peak, 9, BUDGET_SCALES[:1])
    assert alone == {1.0: every[1.0]}


def test_costs_with_a_mix_alone_or_a_number_alone():
    no_number = Region(np.ones(5), np.empty(0), np.empty(0), np.empty(0))
    costs = continuous_costs(CENTRE, np.empty(0), no_number, lambda m, n: -m[:, 0], 1)
    assert set(costs) == set(BUDGET_SCALES) and all(c >= 0 for c in costs.values())
    no_mix = Region(np.empty(0), np.array([1.0]), np.array([60.0]), np.array([2.0]))
    costs = continuous_costs(np.empty(0), NUMERIC, no_mix, lambda m, n: -abs(n[:, 0] - 7.5), 1)
    assert costs[1.0] == pytest.approx(1.0, abs=0.6) and costs[1.0] > costs[0.125] > 0
