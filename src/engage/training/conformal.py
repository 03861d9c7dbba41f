"""Fit the per-recommendation interval model, and measure its coverage on held-out rows.

The interval model (:class:`engage.policy.intervals.IntervalModel`, normalised split
conformal) needs residuals of the outcome models on rows those models did not fit. The
training split has them for free: the outcome models are cross-fitted, so ``models.oof`` holds
every training row's prediction by a model fitted on the other folds.

The split of the training rows (seeded, random, the same for every outcome):

* **scale part** (``1 - calibration_fraction``, 70% by default): the LightGBM model of
  ``|y - ŷ_oof|`` given the encoded row is fitted here (a fifth of it held out for early
  stopping);
* **calibration part** (the other 30%): never seen by the scale model; its scores
  ``|y - ŷ_oof| / scale(x)`` give the conformal multiplier, the ``⌈(n + 1) · level⌉``-th
  smallest (the finite-sample conformal quantile).

Two approximations, both on the safe side or measured: the out-of-fold residuals come from
fold models fitted on ``(folds - 1) / folds`` of the rows, whose errors are a little larger
than the final model's (intervals slightly conservative); and the served prediction adds the
per-style corrections, fitted on those same residuals. :func:`measure_coverage` therefore
checks the intervals against the served predictions on the evaluation split, which no model
saw: ``intervals.coverage.<outcome>`` is the share of evaluation rows whose observed outcome
lies in its interval (at the logged action; ``benchmarks/intervals.py`` measures it at the
recommended actions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import lightgbm as lgb
import numpy as np

from engage.policy.intervals import IntervalModel
from engage.policy.scoring import OutcomePredictor, StyleCorrections
from engage.training.models import FitLog, train_booster
from engage.training.split import Split

INTERVAL_LEVEL = 0.9
CALIBRATION_FRACTION = 0.3
MIN_CALIBRATION_ROWS = 50  # fewer: no interval model (the constant half-widths stay)
FLOOR_SHARE = 0.05  # the smallest scale: this share of the mean absolute residual
SCALE_ROUNDS = 300
SCALE_PARAMS: dict[str, Any] = {
    "objective": "regression",  # of |residual|: the scale is the mean absolute error near x
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 5.0,
    "max_bin": 63,
    "verbose": -1,
    "num_threads": 1,
}


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ``⌈(n + 1) · level⌉``-th smallest of ``n`` calibration scores.

    A new exchangeable score is at most this with probability ≥ ``level``.

    Raises:
        ValueError: ``level`` outside (0, 1), or too few scores for it (fewer than
            ``level / (1 - level)``), where the quantile would be infinite.
    """
    scores = np.asarray(scores, dtype=float)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    n = len(scores)
    k = math.ceil((n + 1) * level)
    if k > n:
        raise ValueError(
            f"{n} calibration score(s) cannot give a {level:.0%} conformal quantile "
            f"(needs at least {math.ceil(level / (1 - level))})"
        )
    return float(np.partition(scores, k - 1)[k - 1])


def split_rows(n: int, calibration_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the scale part and of the calibration part of ``n`` rows (disjoint,
    seeded)."""
    if not 0.0 < calibration_fraction < 1.0:
        raise ValueError(f"calibration_fraction must be in (0, 1), got {calibration_fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_cal = int(round(n * calibration_fraction))
    return np.sort(order[n_cal:]), np.sort(order[:n_cal])


def fit_interval_model(
    X: np.ndarray,
    y: Mapping[str, np.ndarray],
    oof: Mapping[str, np.ndarray],
    *,
    categorical: list[int],
    seed: int,
    level: float = INTERVAL_LEVEL,
    calibration_fraction: float = CALIBRATION_FRACTION,
    fit_log: FitLog | None = None,
) -> IntervalModel | None:
    """The interval model of out-of-fold predictions ``oof`` of outcomes ``y`` (see the
    module docstring); None when the calibration part would have fewer than
    ``MIN_CALIBRATION_ROWS`` rows.

    Args:
        X: the encoded training rows (profile + logged action), (n, F).
        y: observed outcomes by name, each (n,).
        oof: out-of-fold predictions by name (the same names), each (n,).
        categorical: categorical columns of ``X``.
        seed: seeds the split and the fits.
        level: nominal coverage.
        calibration_fraction: share of rows kept for calibration.
        fit_log: records the fits.
    """
    fit_rows, cal_rows = split_rows(len(X), calibration_fraction, seed)
    if len(cal_rows) < MIN_CALIBRATION_ROWS:
        return None
    # early stopping on a slice of the scale part, never on the calibration part
    cut = max(1, len(fit_rows) // 5)
    stop, grow = fit_rows[:cut], fit_rows[cut:]
    names = list(y)
    boosters, multipliers, floors = [], [], []
    for i, name in enumerate(names):
        absres = np.abs(np.asarray(y[name], dtype=float) - np.asarray(oof[name], dtype=float))
        booster = train_booster(
            {**SCALE_PARAMS, "seed": seed + i},
            X[grow],
            absres[grow],
            categorical,
            SCALE_ROUNDS,
            (X[stop], absres[stop]),
            fit_log,
            f"interval/{name}",
        )
        floor = max(FLOOR_SHARE * float(absres[fit_rows].mean()), 1e-9)
        scale = np.maximum(booster.predict(X[cal_rows], num_threads=1), floor)
        boosters.append(booster)
        floors.append(floor)
        multipliers.append(conformal_quantile(absres[cal_rows] / scale, level))
    return IntervalModel(
        outcomes=tuple(names),
        boosters=tuple(boosters),
        multipliers=np.array(multipliers),
        floors=np.array(floors),
        level=level,
        calibration_rows=len(cal_rows),
    )


def measure_coverage(
    model: IntervalModel,
    X: np.ndarray,
    observed: Mapping[str, np.ndarray],
    predicted: np.ndarray,
    outcome_order: list[str],
    constant: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Coverage of the intervals on held-out rows.

    Args:
        model: the interval model.
        X: encoded held-out rows, (n, F).
        observed: their observed outcomes by name.
        predicted: the served predictions, (n, len(outcome_order)).
        outcome_order: the outcomes of ``predicted``'s columns.
        constant: the constant half-widths the model replaces, to measure side by side.

    Returns:
        ``intervals.level``; per outcome the model covers, ``intervals.coverage.<o>`` (share
        of rows with ``|y - ŷ| ≤ halfwidth``), ``intervals.mean_halfwidth.<o>``,
        ``intervals.halfwidth_cv.<o>`` (spread of the half-widths: sd / mean) and, with
        ``constant``, ``intervals.constant_coverage.<o>``.
    """
    widths = model.halfwidths(X)
    out = {"intervals.level": float(model.level), "intervals.rows": float(len(X))}
    if len(X) == 0:
        return out
    for i, name in enumerate(model.outcomes):
        if name not in outcome_order or name not in observed:
            continue
        err = np.abs(
            np.asarray(observed[name], dtype=float) - predicted[:, outcome_order.index(name)]
        )
        w = widths[:, i]
        out[f"intervals.coverage.{name}"] = float(np.mean(err <= w))
        out[f"intervals.mean_halfwidth.{name}"] = float(w.mean())
        out[f"intervals.halfwidth_cv.{name}"] = float(w.std() / w.mean()) if w.mean() > 0 else 0.0
        if constant is not None and name in constant:
            out[f"intervals.constant_coverage.{name}"] = float(np.mean(err <= constant[name]))
    return out


def eval_coverage(
    model: IntervalModel,
    split: Split,
    boosters: Mapping[str, lgb.Booster],
    corrections: StyleCorrections | None,
    constant: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """:func:`measure_coverage` on the evaluation split's metric rows, against the served
    predictions (outcome models plus style corrections, as the policy predicts)."""
    rows, ev = split.samples.metrics, split.eval
    order = [o for o in model.outcomes if o in boosters]
    predictor = OutcomePredictor.build(boosters, order, ev.context.shape[1], corrections)
    X = ev.X[rows]
    predicted = predictor.predict(X) if len(X) else np.empty((0, len(order)))
    observed = {o: ev.y[o][rows] for o in order}
    return measure_coverage(model, X, observed, predicted, order, constant)
