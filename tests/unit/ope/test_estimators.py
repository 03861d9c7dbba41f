"""Off-policy estimators checked against a small contextual bandit with exactly known values."""

from __future__ import annotations

import numpy as np
import pytest

from engage.ope import (
    ESTIMATORS,
    Estimate,
    LoggedData,
    compare_policies,
    effective_sample_size,
    estimate_policy_value,
    extrapolation_range,
    gain_over_logged,
    logged_policy_value,
    logged_where_matched,
    simultaneous_differences,
    simultaneous_gains,
    simultaneous_gains_and_values,
    simultaneous_values,
)

# 3 contexts, 3 arms (styles). Everything below is exact.
P_X = np.array([0.5, 0.3, 0.2])
MU = np.array(
    [
        [1.0, 2.0, 0.5],
        [0.0, -1.0, 1.5],
        [2.0, 1.0, 3.0],
    ]
)
LOGGING = np.array(
    [
        [0.6, 0.3, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.2, 0.7],
    ]
)
SIGMA = 1.0
PI = np.array([1, 2, 0])  # deterministic target policy: context -> arm
TRUE_VALUE = float(P_X @ MU[np.arange(3), PI])  # 0.5*2 + 0.3*1.5 + 0.2*2 = 1.85
# A model that over-predicts arm 0 by +1 everywhere (a style-level bias).
BIAS = np.array([1.0, 0.0, 0.0])
MU_WRONG = MU + BIAS
DM_BIAS = float(P_X @ BIAS[PI])  # only context 2 picks arm 0 -> 0.2

N_REPS = 200
N_ROWS = 2_000


def simulate(rng: np.random.Generator, n: int, q_hat: np.ndarray = MU, policy: np.ndarray = PI):
    """Draw a log of n rows; return (data, target_style, q_target, contexts)."""
    x = rng.choice(3, size=n, p=P_X)
    cdf = np.cumsum(LOGGING[x], axis=1)
    a = np.minimum((rng.random(n)[:, None] > cdf).sum(axis=1), 2)
    y = MU[x, a] + rng.normal(0.0, SIGMA, size=n)
    data = LoggedData(reward=y, style=a, propensity=LOGGING[x, a], q_logged=q_hat[x, a])
    t = policy[x]
    return data, t, q_hat[x, t], x


def with_model(data: LoggedData, x: np.ndarray, q_hat: np.ndarray, policy: np.ndarray = PI):
    """The same log re-scored with another outcome model."""
    other = LoggedData(data.reward, data.style, data.propensity, q_hat[x, data.style])
    t = policy[x]
    return other, t, q_hat[x, t]


@pytest.fixture(scope="module")
def replications() -> dict[str, dict[str, np.ndarray]]:
    """N_REPS independent logs: estimates under the true model and under the biased one."""
    rng = np.random.default_rng(20240611)
    out: dict[str, dict[str, list]] = {
        "right": {f: [] for f in ("value", "low", "high")},
        "wrong": {f: [] for f in ("value", "low", "high")},
        "frac_arm0": {"value": []},
    }
    for rep in range(N_REPS):
        data, t, q_t, x = simulate(rng, N_ROWS)
        right = estimate_policy_value(data, t, q_t, n_boot=200, seed=rep)
        wrong = estimate_policy_value(*with_model(data, x, MU_WRONG), n_boot=2, seed=rep)
        for key, est in (("right", right), ("wrong", wrong)):
            out[key]["value"].append([est[k].value for k in ESTIMATORS])
            out[key]["low"].append([est[k].low for k in ESTIMATORS])
            out[key]["high"].append([est[k].high for k in ESTIMATORS])
        out["frac_arm0"]["value"].append(np.mean(t == 0))
    return {k: {f: np.asarray(v) for f, v in d.items()} for k, d in out.items()}


def _col(name: str) -> int:
    return ESTIMATORS.index(name)


def _assert_unbiased(values: np.ndarray, target: float) -> None:
    mean = values.mean()
    sem = values.std(ddof=1) / np.sqrt(values.size)
    assert abs(mean - target) < 4 * sem, (mean, target, sem)


# ------------------------------------------------------------------------------ exactness


def test_dm_with_true_model_is_exact_given_the_drawn_contexts():
    data, t, q_t, x = simulate(np.random.default_rng(1), 5_000)
    est = estimate_policy_value(data, t, q_t, n_boot=10)
    freq = np.bincount(x, minlength=3) / x.size
    expected = float(freq @ MU[np.arange(3), PI])
    assert est["dm"].value == pytest.approx(expected, abs=1e-12)


def test_ips_snips_dr_are_unbiased(replications):
    values = replications["right"]["value"]
    for name in ("ips", "snips", "dr"):
        _assert_unbiased(values[:, _col(name)], TRUE_VALUE)
    # DR with the true model has less variance than IPS.
    assert values[:, _col("dr")].std() < values[:, _col("ips")].std()


def test_biased_model_shifts_dm_predictably_but_not_dr(replications):
    right = replications["right"]["value"]
    wrong = replications["wrong"]["value"]
    frac = replications["frac_arm0"]["value"]
    # Per replication the DM shift is exactly the share of rows where the policy picks arm 0.
    np.testing.assert_allclose(wrong[:, _col("dm")] - right[:, _col("dm")], frac, atol=1e-12)
    _assert_unbiased(wrong[:, _col("dm")], TRUE_VALUE + DM_BIAS)
    assert abs(wrong[:, _col("dm")].mean() - TRUE_VALUE) > 0.75 * DM_BIAS
    # The DR correction removes the style-level bias.
    _assert_unbiased(wrong[:, _col("dr")], TRUE_VALUE)
    # IPS and SNIPS do not use the model at all.
    np.testing.assert_array_equal(wrong[:, _col("ips")], right[:, _col("ips")])
    np.testing.assert_array_equal(wrong[:, _col("snips")], right[:, _col("snips")])


def test_dr_bootstrap_interval_covers_about_95_percent(replications):
    low = replications["right"]["low"][:, _col("dr")]
    high = replications["right"]["high"][:, _col("dr")]
    assert np.all(low <= high)
    coverage = np.mean((low <= TRUE_VALUE) & (high >= TRUE_VALUE))
    assert 0.85 <= coverage <= 0.99, coverage


def test_intervals_bracket_the_point_value(replications):
    r = replications["right"]
    assert np.all(r["low"] <= r["value"] + 1e-12)
    assert np.all(r["value"] <= r["high"] + 1e-12)


# ------------------------------------------------------------------------------ properties


def test_snips_is_invariant_to_rescaling_propensities_ips_is_not():
    data, t, q_t, _ = simulate(np.random.default_rng(2), 3_000)
    scaled = LoggedData(data.reward, data.style, data.propensity * 0.5, data.q_logged)
    base = estimate_policy_value(data, t, q_t, n_boot=50, seed=3)
    other = estimate_policy_value(scaled, t, q_t, n_boot=50, seed=3)
    for field in ("value", "low", "high"):
        assert getattr(other["snips"], field) == pytest.approx(
            getattr(base["snips"], field), rel=1e-12
        )
    assert other["ips"].value == pytest.approx(2.0 * base["ips"].value, rel=1e-12)
    assert other["ips"].value != pytest.approx(base["ips"].value, rel=0.1)
    assert other["dm"] == base["dm"]


def test_same_seed_same_result_and_point_value_independent_of_n_boot():
    data, t, q_t, _ = simulate(np.random.default_rng(4), 1_000)
    a = estimate_policy_value(data, t, q_t, n_boot=30, seed=7)
    b = estimate_policy_value(data, t, q_t, n_boot=30, seed=7)
    c = estimate_policy_value(data, t, q_t, n_boot=5, seed=8)
    assert a == b
    assert a["dr"].low != c["dr"].low
    for name in ESTIMATORS:
        assert a[name].value == c[name].value


def test_clip_caps_weights():
    data, t, q_t, _ = simulate(np.random.default_rng(5), 2_000)
    match = data.style == t
    one = estimate_policy_value(data, t, q_t, n_boot=5, clip=1.0)
    assert one["ips"].value == pytest.approx(np.mean(match * data.reward), rel=1e-12)
    assert one["snips"].value == pytest.approx(data.reward[match].mean(), rel=1e-12)
    loose = estimate_policy_value(data, t, q_t, n_boot=5, clip=1e6)
    plain = estimate_policy_value(data, t, q_t, n_boot=5)
    assert loose == plain
    assert one["dm"] == plain["dm"]
    with pytest.raises(ValueError, match="clip"):
        estimate_policy_value(data, t, q_t, n_boot=5, clip=0.5)


def test_snips_is_nan_when_no_row_matches():
    data, t, q_t, _ = simulate(np.random.default_rng(6), 500)
    never = np.full(data.n, 7)  # a style that was never logged
    est = estimate_policy_value(data, never, q_t, n_boot=20)
    assert np.isnan(est["snips"].value) and np.isnan(est["snips"].low)
    assert est["ips"] == Estimate(0.0, 0.0, 0.0)
    assert est["dr"].value == pytest.approx(est["dm"].value, abs=1e-12)


def test_estimate_as_dict():
    est = Estimate(1.0, 0.5, 1.5)
    assert est.as_dict() == {"value": 1.0, "low": 0.5, "high": 1.5}


def test_logged_policy_value_is_mean_reward():
    data, *_ = simulate(np.random.default_rng(7), 4_000)
    est = logged_policy_value(data, n_boot=100)
    assert est.value == pytest.approx(data.reward.mean(), abs=1e-12)
    assert est.low < est.value < est.high
    # the interval width is about 2 * 1.96 standard errors of the mean
    se = data.reward.std(ddof=1) / np.sqrt(data.n)
    assert 0.7 * 3.92 * se < est.high - est.low < 1.3 * 3.92 * se


# ------------------------------------------------------------------------------ comparisons


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_compare_policy_with_itself_is_exactly_zero(estimator):
    data, t, q_t, _ = simulate(np.random.default_rng(8), 2_000)
    diff = compare_policies(data, (t, q_t), (t.copy(), q_t.copy()), estimator=estimator, n_boot=50)
    assert diff == Estimate(0.0, 0.0, 0.0)


def test_paired_difference_is_narrower_than_unpaired():
    # b differs from PI only in context 2 (arm 2 instead of arm 0).
    pi_b = np.array([1, 2, 2])
    data, t_a, q_a, x = simulate(np.random.default_rng(9), 20_000)
    t_b, q_b = pi_b[x], MU[x, pi_b[x]]
    est_a = estimate_policy_value(data, t_a, q_a, n_boot=200, seed=1)["dr"]
    est_b = estimate_policy_value(data, t_b, q_b, n_boot=200, seed=2)["dr"]
    paired = compare_policies(data, (t_a, q_a), (t_b, q_b), n_boot=200, seed=3)
    assert paired.value == pytest.approx(est_a.value - est_b.value, abs=1e-12)
    unpaired_width = np.hypot(est_a.high - est_a.low, est_b.high - est_b.low)
    assert paired.high - paired.low < 0.75 * unpaired_width
    assert paired.low <= paired.value <= paired.high


def test_compare_uses_the_same_resamples_as_estimate():
    data, t, q_t, _ = simulate(np.random.default_rng(10), 1_500)
    null = (np.full(data.n, 9), np.zeros(data.n))  # never matches, predicts 0: value 0
    est = estimate_policy_value(data, t, q_t, n_boot=40, seed=11)
    for name in ("dm", "ips", "dr"):
        diff = compare_policies(data, (t, q_t), null, estimator=name, n_boot=40, seed=11)
        assert diff.value == pytest.approx(est[name].value, abs=1e-12)
        assert diff.low == pytest.approx(est[name].low, abs=1e-12)
        assert diff.high == pytest.approx(est[name].high, abs=1e-12)


def test_compare_rejects_unknown_estimator():
    data, t, q_t, _ = simulate(np.random.default_rng(11), 100)
    with pytest.raises(ValueError, match="estimator"):
        compare_policies(data, (t, q_t), (t, q_t), estimator="magic")


# ------------------------------------------------------------------------------ validation


def _fields(n: int = 10) -> dict[str, np.ndarray]:
    return {
        "reward": np.linspace(0.0, 1.0, n),
        "style": np.arange(n) % 3,
        "propensity": np.full(n, 0.5),
        "q_logged": np.zeros(n),
    }


@pytest.mark.parametrize(
    ("field", "values", "pattern"),
    [
        ("propensity", np.r_[0.0, 0.0, np.full(8, 0.5)], r"LoggedData\.propensity: 2 of 10"),
        ("propensity", np.r_[1.5, np.full(9, 0.5)], r"LoggedData\.propensity: 1 of 10.*\(0, 1\]"),
        ("propensity", np.r_[np.nan, np.full(9, 0.5)], r"LoggedData\.propensity: 1 of 10.*finite"),
        ("reward", np.r_[np.nan, np.zeros(9)], r"LoggedData\.reward: 1 of 10.*finite"),
        ("q_logged", np.r_[np.inf, -np.inf, np.zeros(8)], r"LoggedData\.q_logged: 2 of 10"),
        ("style", np.r_[0.5, np.zeros(9)], r"LoggedData\.style: 1 of 10.*integer"),
        ("style", np.r_[-1, -2, np.zeros(8, dtype=int)], r"LoggedData\.style: 2 of 10.*negative"),
        ("style", np.array(["a"] * 10), r"LoggedData\.style.*integer"),
        ("q_logged", np.zeros(9), r"LoggedData\.q_logged has 9 entries.*reward has 10"),
        ("reward", np.zeros((10, 1)), r"LoggedData\.reward must be 1-D"),
    ],
)
def test_logged_data_validation_names_field_and_count(field, values, pattern):
    kwargs = _fields()
    kwargs[field] = values
    with pytest.raises(ValueError, match=pattern):
        LoggedData(**kwargs)


def test_logged_data_rejects_empty_and_copies_inputs():
    with pytest.raises(ValueError, match="no rows"):
        LoggedData(**_fields(0))
    kwargs = _fields()
    data = LoggedData(**kwargs)
    kwargs["reward"][0] = 99.0
    assert data.reward[0] == 0.0
    assert data.style.dtype == np.int64 and data.reward.dtype == np.float64
    with pytest.raises(ValueError):
        data.reward[0] = 1.0  # read-only


def test_target_validation():
    data = LoggedData(**_fields())
    with pytest.raises(ValueError, match="target_style has 9 entries"):
        estimate_policy_value(data, np.zeros(9, dtype=int), np.zeros(10))
    with pytest.raises(ValueError, match=r"q_target: 1 of 10"):
        estimate_policy_value(data, np.zeros(10, dtype=int), np.r_[np.nan, np.zeros(9)])
    with pytest.raises(ValueError, match=r"target_style: 3 of 10.*negative"):
        estimate_policy_value(data, np.r_[-1, -1, -1, np.zeros(7, dtype=int)], np.zeros(10))
    with pytest.raises(ValueError, match=r"b\.q_target has 8 entries"):
        compare_policies(data, (np.zeros(10), np.zeros(10)), (np.zeros(10), np.zeros(8)))
    with pytest.raises(ValueError, match="n_boot"):
        estimate_policy_value(data, np.zeros(10, dtype=int), np.zeros(10), n_boot=0)


# ------------------------------------------------------------------------------ ESS


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ([1, 1, 1, 1], 4.0),
        ([1, 0, 0, 0], 1.0),
        ([3, 3], 2.0),
        ([1, 2], 9 / 5),
        ([], 0.0),
        ([0, 0, 0], 0.0),
    ],
)
def test_effective_sample_size(weights, expected):
    assert effective_sample_size(np.asarray(weights, dtype=float)) == pytest.approx(expected)


def test_effective_sample_size_rejects_nan():
    with pytest.raises(ValueError, match="1 of 2"):
        effective_sample_size(np.array([1.0, np.nan]))


def test_the_range_is_dr_where_the_action_is_logged_and_spans_dm_where_it_is_not():
    estimates = {"dr": Estimate(10.0, 9.5, 10.5), "dm": Estimate(9.4, 9.2, 9.6)}
    assert extrapolation_range(estimates, exact=True) == estimates["dr"]
    # the DM reads lower: the range keeps the DR value and reaches down to the DM's interval
    assert extrapolation_range(estimates, exact=False) == Estimate(10.0, 9.2, 10.5)
    higher = {"dr": Estimate(10.0, 9.5, 10.5), "dm": Estimate(10.8, 10.6, 11.0)}
    assert extrapolation_range(higher, exact=False) == Estimate(10.0, 9.5, 11.0)
    inside = {"dr": Estimate(10.0, 9.5, 10.5), "dm": Estimate(10.1, 9.9, 10.3)}
    assert extrapolation_range(inside, exact=False) == inside["dr"]


def test_an_action_is_logged_where_matched_only_if_every_matched_row_took_it():
    data = LoggedData(
        reward=np.zeros(3),
        style=np.array([0, 1, 0]),
        propensity=np.full(3, 0.5),
        q_logged=np.zeros(3),
    )
    logged = np.array([[0.2, 3.0], [0.5, 1.0], [0.4, 2.0]])
    target_style = np.array([0, 0, 0])  # matched on rows 0 and 2
    same = logged.copy()
    same[1] = [9.0, 9.0]  # an unmatched row's action does not count
    assert logged_where_matched(data, target_style, same, logged)
    other = same.copy()
    other[2, 1] = 2.5  # another cadence on a matched row
    assert not logged_where_matched(data, target_style, other, logged)


# ------------------------------------------------------------------------------ choosing among many

ALL_POLICIES = np.array(np.meshgrid(*[np.arange(3)] * 3, indexing="ij")).reshape(3, -1).T  # 27 x 3
LOGGED_VALUE = float(P_X @ (LOGGING * MU).sum(axis=1))


@pytest.mark.slow
def test_simultaneous_gains_hold_for_all_policies_at_once_where_single_intervals_do_not():
    """27 policies valued on the same rows, with the style-biased model: their single 95%
    intervals all contain the true gains together far less often than 95%; the band's do."""
    true_gain = np.array([P_X @ MU[np.arange(3), pi] - LOGGED_VALUE for pi in ALL_POLICIES])
    rng = np.random.default_rng(7)
    band_covered, singles_covered, reps = 0, 0, 60
    for rep in range(reps):
        data, _, _, x = simulate(rng, 600)
        data = LoggedData(data.reward, data.style, data.propensity, MU_WRONG[x, data.style])
        styles = ALL_POLICIES[:, x].T  # (n, 27)
        q = MU_WRONG[x[:, None], styles]
        band, crit = simultaneous_gains(data, styles, q, n_boot=200, seed=rep)
        assert 1.96 < crit < 4.0  # above one policy's; about Bonferroni's for 27 (3.1) at most
        inside = [b.low <= g <= b.high for b, g in zip(band, true_gain, strict=True)]
        band_covered += all(inside)
        singles = [
            gain_over_logged(data, styles[:, k], q[:, k], n_boot=100, seed=rep) for k in range(27)
        ]
        singles_covered += all(
            e.low <= g <= e.high for e, g in zip(singles, true_gain, strict=True)
        )
    assert band_covered / reps >= 0.85  # 94 of 100 when this test was written
    assert singles_covered / reps < 0.75  # 54 of 100


def test_simultaneous_gains_of_one_policy_is_the_paired_gain():
    data, t, q_t, _ = simulate(np.random.default_rng(12), 3_000)
    (one,), crit = simultaneous_gains(data, t[:, None], q_t[:, None], n_boot=400, seed=3)
    single = gain_over_logged(data, t, q_t, n_boot=400, seed=3)
    assert one.value == pytest.approx(single.value, abs=1e-12)
    assert 1.6 < crit < 2.4
    assert one.low == pytest.approx(single.low, abs=0.25 * (single.high - single.low))
    assert one.high == pytest.approx(single.high, abs=0.25 * (single.high - single.low))


def test_a_policy_that_is_the_logged_one_has_no_spread_and_does_not_set_the_band():
    n = 500
    rng = np.random.default_rng(13)
    y = rng.normal(size=n)
    data = LoggedData(reward=y, style=np.zeros(n, int), propensity=np.ones(n), q_logged=np.zeros(n))
    styles = np.column_stack([np.zeros(n, int), np.ones(n, int)])
    q = np.column_stack([np.zeros(n), np.full(n, 0.5)])
    (same, other), crit = simultaneous_gains(data, styles, q, n_boot=100, seed=0)
    assert same == Estimate(0.0, 0.0, 0.0)
    assert 1.5 < crit < 2.5 and other.low < other.value < other.high


def test_simultaneous_gains_validate_shapes_and_values():
    data, t, q_t, _ = simulate(np.random.default_rng(14), 50)
    with pytest.raises(ValueError, match=r"\(n, g\) with n = 50"):
        simultaneous_gains(data, t, q_t)
    with pytest.raises(ValueError, match=r"\(50, 2\) and \(50, 1\)"):
        simultaneous_gains(data, np.column_stack([t, t]), q_t[:, None])
    bad = q_t[:, None].copy()
    bad[[3, 7]] = np.nan
    with pytest.raises(ValueError, match="q_targets: 2 entries are not finite"):
        simultaneous_gains(data, t[:, None], bad)


def test_simultaneous_differences_are_the_gains_less_the_reference_s_with_their_own_band():
    """Column j: value(policy j) - value(reference) on the same rows; the reference itself
    among the columns reads exactly 0 and does not widen the band."""
    rng = np.random.default_rng(15)
    data, t, q_t, x = simulate(rng, 2_000)
    styles = ALL_POLICIES[:6, x].T  # (n, 6)
    q = MU[x[:, None], styles]
    with_ref = np.column_stack([styles, t]), np.column_stack([q, q_t])
    diffs, crit = simultaneous_differences(data, (t, q_t), *with_ref, n_boot=200, seed=4)
    gains, _ = simultaneous_gains(data, *with_ref, n_boot=200, seed=4)
    ref_gain = gain_over_logged(data, t, q_t, n_boot=50, seed=4).value
    for d, g in zip(diffs, gains, strict=True):
        assert d.value == pytest.approx(g.value - ref_gain, abs=1e-12)
    assert diffs[-1] == Estimate(0.0, 0.0, 0.0)
    assert 1.96 < crit < 3.5
    assert all(d.low < d.value < d.high for d in diffs[:-1])
    # the paired band is narrower than the two gains' intervals put together
    assert diffs[0].high - diffs[0].low < (gains[0].high - gains[0].low) + (
        gains[-1].high - gains[-1].low
    )


def test_simultaneous_differences_name_the_reference_that_does_not_fit():
    data, t, q_t, _ = simulate(np.random.default_rng(16), 40)
    with pytest.raises(ValueError, match="reference.target_style"):
        simultaneous_differences(data, (t[:30], q_t), t[:, None], q_t[:, None])


def test_simultaneous_gains_at_a_higher_level_are_wider_and_the_level_is_checked():
    data, t, q_t, _ = simulate(np.random.default_rng(14), 2_000)
    styles, q = np.column_stack([t, (t + 1) % 3]), np.column_stack([q_t, q_t + 0.1])
    at95, c95 = simultaneous_gains(data, styles, q, n_boot=200, seed=0)
    at99, c99 = simultaneous_gains(data, styles, q, n_boot=200, seed=0, level=0.99)
    assert c99 > c95
    assert all(b.low < a.low for a, b in zip(at95, at99, strict=True))
    with pytest.raises(ValueError, match="level"):
        simultaneous_gains(data, styles, q, n_boot=50, level=1.0)


def test_gains_and_values_in_one_pass_are_the_two_bands():
    data, t, q_t, _ = simulate(np.random.default_rng(15), 2_000)
    styles, q = np.column_stack([t, (t + 1) % 3]), np.column_stack([q_t, q_t + 0.1])
    gains, values, crit = simultaneous_gains_and_values(data, styles, q, n_boot=100, seed=4)
    assert (gains, crit) == simultaneous_gains(data, styles, q, n_boot=100, seed=4)
    assert values == simultaneous_values(data, styles, q, n_boot=100, seed=4)[0]
