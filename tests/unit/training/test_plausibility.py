"""The promotion gate's range check: robust to a poisoned value, tolerant of heavy tails and
rare events, and never fooled by non-finite numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engage.training.plausibility import check_plausibility, plausible_bounds


def outcomes(rows: int = 4000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.lognormal(mean=1.0, sigma=1.0, size=rows)  # heavy-tailed, like conversions


def test_one_poisoned_value_does_not_widen_the_range() -> None:
    clean = outcomes()
    poisoned = clean.copy()
    poisoned[17] = 1e12
    assert plausible_bounds(poisoned, 1.0).high < 2 * plausible_bounds(clean, 1.0).high
    assert plausible_bounds(poisoned, 1.0).high < 1e3


def test_range_covers_the_data_and_widens_with_the_margin() -> None:
    clean = outcomes()
    narrow, wide = plausible_bounds(clean, 0.5), plausible_bounds(clean, 2.0)
    assert wide.low < narrow.low and wide.high > narrow.high
    # every value but the most extreme 0.1% lies inside; the mean of any subset does too
    inside = np.mean([v in narrow for v in clean])
    assert inside >= 0.998
    assert np.sort(clean)[-50:].mean() in narrow


def test_rare_event_is_judged_on_its_full_range() -> None:
    rare = np.zeros(10_000)
    rare[:3] = 40.0  # 0.03% of rows: inside the trimmed ends, yet real
    bounds = plausible_bounds(rare, 1.0)
    assert 40.0 in bounds and 0.5 in bounds


def test_constant_outcome_allows_float_noise_only() -> None:
    bounds = plausible_bounds(np.full(500, 3.0), 1.0)
    assert 3.0 + 1e-9 in bounds
    assert 3.1 not in bounds


def test_infinite_margin_turns_the_range_check_off_but_not_the_finiteness_check() -> None:
    observed = outcomes()
    ok = check_plausibility({"DR": 1e15}, {}, observed, {}, margin=math.inf)
    assert ok.plausible
    bad = check_plausibility({"DR": math.nan}, {}, observed, {}, margin=math.inf)
    assert not bad.plausible and not bad.finite
    assert "non-finite" in bad.reason and "DR" in bad.reason
    assert bad.tags == {"plausibility": "non-finite", "plausibility_reason": bad.reason}


def test_value_outside_the_objective_range_is_refused_and_named() -> None:
    observed = outcomes()
    verdict = check_plausibility({"shipped policy's DR": 2.5e9}, {}, observed, {}, margin=1.0)
    assert verdict.finite and not verdict.plausible
    assert "shipped policy's DR" in verdict.reason and "2.5e+09" in verdict.reason
    assert verdict.tags["plausibility"] == "implausible"


def test_predictions_are_checked_per_outcome() -> None:
    observed = {"conversions": outcomes(seed=1), "retention": outcomes(seed=2)}
    objective = observed["conversions"] + observed["retention"]
    sane = {o: v[:100].reshape(10, 10) for o, v in observed.items()}
    assert check_plausibility({"DR": 5.0}, sane, objective, observed, 1.0).plausible
    poisoned = {**sane, "retention": sane["retention"].copy()}
    poisoned["retention"][3, 4] = 1.84e9
    verdict = check_plausibility({"DR": 5.0}, poisoned, objective, observed, 1.0)
    assert not verdict.plausible
    assert "predicted retention reaches 1.84e+09 (1 of 100 predictions)" in verdict.reason
    poisoned["retention"][0, 0] = np.inf
    verdict = check_plausibility({"DR": 5.0}, poisoned, objective, observed, 1.0)
    assert not verdict.finite and "predicted retention (1 values)" in verdict.reason


@pytest.mark.parametrize("margin", [0.25, 1.0, 4.0])
def test_means_of_the_data_always_pass(margin: float) -> None:
    """A policy value is a mean of per-row objectives: any honest mean is plausible."""
    observed = outcomes(seed=3)
    rng = np.random.default_rng(4)
    means = {f"mean{i}": float(rng.choice(observed, 50).mean()) for i in range(20)}
    assert check_plausibility(means, {}, observed, {}, margin).plausible


def test_force_does_not_promote_a_model_the_gate_refused() -> None:

    from engage.training.promotion import judge_promotion
    from engage.training.settings import TrackingSettings

    settings = TrackingSettings(force=True)
    for values in ({"DR": math.inf}, {"DR": 1e12}):
        verdict = check_plausibility(values, {}, outcomes(), {}, margin=1.0)
        judgement = judge_promotion(
            None, None, lambda rows, v=values["DR"]: v, verdict, settings, n_boot=50, seed=0
        )  # no registry read
        assert not judgement.promote and not judgement.forced
        assert judgement.reason == f"refused by the plausibility gate: {verdict.reason}"
        assert judgement.tags["promotion_decision"] == "keep"
