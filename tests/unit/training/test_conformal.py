"""Fitting the per-recommendation interval model: the conformal quantile's finite-sample
guarantee, coverage at the nominal level on exchangeable data, half-widths that follow the
noise, and the coverage metrics training logs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engage.training import conformal
from engage.training.conformal import (
    conformal_quantile,
    fit_interval_model,
    measure_coverage,
    split_rows,
)

LEVEL = 0.9


def heteroscedastic(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows x in [0, 1]^3, the true mean, and y whose noise sd grows from 0.2 to 3.2 with x0."""
    X = rng.random((n, 3))
    mean = 2.0 * X[:, 1] - X[:, 2]
    y = mean + (0.2 + 3.0 * X[:, 0]) * rng.standard_normal(n)
    return X, mean, y


def test_the_conformal_quantile_is_the_ceil_n_plus_one_level_th_smallest() -> None:
    scores = np.arange(1.0, 20.0)  # 19 scores: ceil(20 * 0.9) = 18th smallest
    assert conformal_quantile(scores[::-1], 0.9) == 18.0
    assert conformal_quantile(np.arange(1.0, 100.0), 0.5) == 50.0  # ceil(100 * 0.5) = 50


def test_the_conformal_quantile_refuses_too_few_scores_and_bad_levels() -> None:
    with pytest.raises(ValueError, match="8 calibration score"):
        conformal_quantile(np.ones(8), 0.9)
    for level in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="level"):
            conformal_quantile(np.ones(100), level)


def test_the_conformal_quantile_covers_at_least_the_level_on_average() -> None:
    """The finite-sample guarantee: over calibration sets, a new exchangeable score is at most
    the quantile with probability in [level, level + 1 / (n + 1)]."""
    rng = np.random.default_rng(0)
    n, trials = 49, 4000
    cal = rng.exponential(size=(trials, n))
    new = rng.exponential(size=trials)
    covered = [new[t] <= conformal_quantile(cal[t], LEVEL) for t in range(trials)]
    share = float(np.mean(covered))
    sd = np.sqrt(LEVEL * (1 - LEVEL) / trials)
    assert LEVEL - 3 * sd <= share <= LEVEL + 1 / (n + 1) + 3 * sd


def test_the_split_is_disjoint_complete_and_seeded() -> None:
    fit, cal = split_rows(1000, 0.3, seed=4)
    assert len(cal) == 300 and len(fit) == 700
    assert not set(fit) & set(cal)
    assert sorted([*fit, *cal]) == list(range(1000))
    again = split_rows(1000, 0.3, seed=4)
    np.testing.assert_array_equal(again[1], cal)
    with pytest.raises(ValueError, match="calibration_fraction"):
        split_rows(10, 1.0, seed=0)


def test_no_model_when_the_calibration_part_is_too_small() -> None:
    rng = np.random.default_rng(1)
    X, mean, y = heteroscedastic(100, rng)  # 30 calibration rows < MIN_CALIBRATION_ROWS
    assert fit_interval_model(X, {"y": y}, {"y": mean}, categorical=[], seed=0) is None


def test_half_widths_follow_the_noise_and_cover_where_a_constant_does_not() -> None:
    rng = np.random.default_rng(2)
    X, mean, y = heteroscedastic(3000, rng)
    model = fit_interval_model(X, {"y": y}, {"y": mean}, categorical=[], seed=0, level=LEVEL)
    assert model is not None
    assert model.outcomes == ("y",) and model.level == LEVEL and model.calibration_rows == 900
    Xt, mt, yt = heteroscedastic(6000, rng)
    w = model.halfwidths(Xt)[:, 0]
    quiet, loud = Xt[:, 0] < 0.2, Xt[:, 0] > 0.8
    assert w[loud].mean() > 3 * w[quiet].mean()  # noise sd 0.2-0.8 vs 2.6-3.2
    metrics = measure_coverage(
        model,
        Xt,
        {"y": yt},
        mt[:, None],
        ["y"],
        constant={"y": float(np.quantile(np.abs(y - mean), LEVEL))},
    )
    assert metrics["intervals.level"] == LEVEL
    assert metrics["intervals.coverage.y"] == pytest.approx(np.mean(np.abs(yt - mt) <= w))
    assert 0.87 <= metrics["intervals.coverage.y"] <= 0.95
    assert metrics["intervals.halfwidth_cv.y"] > 0.3
    # where the noise is loud, the model's intervals still cover; a constant width does not
    err = np.abs(yt - mt)
    assert np.mean(err[loud] <= w[loud]) > 0.8
    assert np.mean(err[loud] <= np.quantile(np.abs(y - mean), LEVEL)) < 0.8


def test_measure_coverage_skips_outcomes_it_cannot_measure() -> None:
    rng = np.random.default_rng(3)
    X, mean, y = heteroscedastic(400, rng)
    model = fit_interval_model(X, {"a": y, "b": y}, {"a": mean, "b": mean}, categorical=[], seed=1)
    assert model is not None
    got = measure_coverage(model, X[:50], {"a": y[:50]}, mean[:50, None], ["a"])
    assert "intervals.coverage.a" in got and "intervals.coverage.b" not in got
    assert got["intervals.rows"] == 50


@pytest.mark.slow
def test_coverage_is_at_least_nominal_over_seeds() -> None:
    """Exchangeable synthetic data, 20 seeds: the mean held-out coverage is at least the level
    (up to three standard errors of the mean)."""
    shares = []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        X, mean, y = heteroscedastic(1500, rng)
        oof = mean + 0.3 * rng.standard_normal(len(mean))  # an imperfect outcome model
        model = fit_interval_model(X, {"y": y}, {"y": oof}, categorical=[], seed=seed)
        assert model is not None
        Xt, mt, yt = heteroscedastic(2000, rng)
        pred = mt + 0.3 * rng.standard_normal(len(mt))
        shares.append(np.mean(np.abs(yt - pred) <= model.halfwidths(Xt)[:, 0]))
    se = np.std(shares) / np.sqrt(len(shares))
    assert np.mean(shares) >= LEVEL - 3 * se
    assert np.mean(shares) <= LEVEL + 0.03  # calibrated, not merely wide


@pytest.mark.slow
def test_training_fits_the_interval_model_and_logs_its_coverage() -> None:
    from engage.contract.spec import load_spec
    from engage.contract.validation import validate_log
    from engage.simulation.world import SimulatedWorld
    from engage.training.models import DEFAULT_PARAMS, FitLog
    from engage.training.nuisance import fit_outcome_models
    from engage.training.settings import TrainSettings
    from engage.training.split import make_split
    from tests.constants import training_constants

    spec = load_spec()
    settings = TrainSettings(data=Path("unused.parquet"), trials=0)
    log = validate_log(SimulatedWorld("hard").simulate(2000, seed=3), spec).clean
    split = make_split(log, spec, settings.seed)
    fit_log = FitLog()
    with training_constants(folds=2, style_correction_rounds=10):
        outcomes = fit_outcome_models(split, dict(DEFAULT_PARAMS), settings.learning, fit_log)
    model = outcomes.interval_model
    assert model is not None and model.level == conformal.INTERVAL_LEVEL
    assert set(model.outcomes) == set(spec.outcome_names)
    assert any(f["label"].startswith("interval/") for f in fit_log.fits)
    m = outcomes.metrics
    assert m["intervals.level"] == conformal.INTERVAL_LEVEL
    for o in spec.outcome_names:
        assert 0.8 <= m[f"intervals.coverage.{o}"] <= 1.0, o
    widths = model.halfwidths(split.eval.X[:200])
    assert widths.shape == (200, len(model.outcomes)) and (widths > 0).all()
    assert (widths.std(0) > 0).all()  # they vary with the row
