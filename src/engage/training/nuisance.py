"""The nuisance models: logged-style propensity, tuned outcome models, per-style corrections.

Each function is one timed stage of ``train()``; none logs to MLflow itself (the parameters
and metrics it produced travel in its result), so each can run without a tracking run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engage import ope
from engage.policy.intervals import IntervalModel
from engage.policy.policy import StyleCorrections
from engage.reporting.metrics import explained_variance, r_squared, rmse
from engage.training.conformal import eval_coverage, fit_interval_model
from engage.training.models import (
    CORRECTION_ROUNDS,
    DEFAULT_PARAMS,
    FitLog,
    OutcomeModels,
    PropensityModel,
    fit_outcomes,
    fit_propensity,
    fit_style_corrections,
)
from engage.training.settings import LearningSettings
from engage.training.split import Split

# How hard the nuisance models work: constants of this module, not settings (the team changes
# them with a benchmark). Read when a function runs, so a test may patch them.
FOLDS = 5  # cross-fitting folds of the propensity and outcome models, so of the gate's policies
TUNING_ROWS = 20_000  # training rows Optuna tunes the outcome models on
STYLE_CORRECTION_ROUNDS = (
    CORRECTION_ROUNDS  # rounds of the per-style residual corrections (0: none)
)


@dataclass(frozen=True)
class Propensity:
    """The propensity model, its calibrated predictions on the evaluation side, diagnostics."""

    model: PropensityModel  # fitted on ``split.samples.propensity``; ``model.oof`` is on those rows
    eval_proba: np.ndarray  # (n_eval, n_styles)
    metrics: dict[str, float]
    params: dict[str, Any]


@dataclass(frozen=True)
class Outcomes:
    """The outcome models with their style corrections, and what evaluation needs of them."""

    models: OutcomeModels
    corrections: StyleCorrections | None
    oof_corrected: dict[
        str, np.ndarray
    ]  # out-of-fold predictions, corrected on the propensity rows
    halfwidth: dict[str, float]  # 90% absolute out-of-fold error per outcome
    eval_observed: dict[str, np.ndarray]  # outcomes of the metric rows (for the fit plot)
    eval_predicted: dict[str, np.ndarray]  # the models' predictions there (no corrections)
    metrics: dict[str, float]
    params: dict[str, Any]
    # per-recommendation intervals (training.conformal); None: the constant half-widths
    interval_model: IntervalModel | None = None


@dataclass(frozen=True)
class Nuisance:
    """Everything the policy and its evaluation take from the fitted models."""

    propensity: Propensity
    outcomes: Outcomes


def overlap_diagnostics(
    prop: np.ndarray, logged: np.ndarray, styles: list[str], threshold: float
) -> dict[str, float]:
    """Smallest propensities, effective sample size and unsupported share per style."""
    out: dict[str, float] = {
        "overlap.min_logged_propensity": float(prop[np.arange(len(logged)), logged].min()),
        "overlap.min_propensity": float(prop.min()),
    }
    for k, style in enumerate(styles):
        w = np.where(logged == k, 1.0 / np.maximum(prop[:, k], 1e-6), 0.0)
        out[f"overlap.ess.{style}"] = ope.effective_sample_size(w)
        out[f"overlap.unsupported_share.{style}"] = float((prop[:, k] < threshold).mean())
    return out


def fit_propensity_model(split: Split, settings: LearningSettings, fit_log: FitLog) -> Propensity:
    """Cross-fitted, calibrated P(style | profile) and the overlap it shows on held-out rows."""
    rows = split.samples.propensity  # far fewer rows than the outcome models need: capped
    train, ev = split.train, split.eval
    model = fit_propensity(
        train.context[rows],
        train.style[rows],
        len(split.styles),
        categorical=split.context_categorical,
        folds=FOLDS,
        seed=settings.seed,
        fit_log=fit_log,
    )
    proba = model.predict(ev.context)
    metrics = overlap_diagnostics(proba, ev.style, split.styles, settings.min_propensity)
    metrics["propensity.temperature"] = model.temperature
    metrics["propensity.eval_log_loss"] = float(
        -np.log(proba[np.arange(len(ev)), ev.style] + 1e-12).mean()
    )
    return Propensity(model, proba, metrics, {"rows_propensity": len(rows)})


def tune_outcome_models(
    split: Split, settings: LearningSettings, fit_log: FitLog
) -> dict[str, Any]:
    """LightGBM parameters of the outcome models: the defaults, updated by Optuna when
    ``settings.trials > 0`` (each trial a nested MLflow run of the active run)."""
    params = dict(DEFAULT_PARAMS)
    if settings.trials > 0:
        from engage.training.tuning import tune_outcome_params  # optuna: only when tuning

        params.update(
            tune_outcome_params(
                split.train.X,
                split.train.y,
                categorical=split.categorical,
                trials=settings.trials,
                rows=TUNING_ROWS,
                seed=settings.seed,
                fit_log=fit_log,
            )
        )
    return params


def fit_outcome_models(
    split: Split, params: dict[str, Any], settings: LearningSettings, fit_log: FitLog
) -> Outcomes:
    """Cross-fitted outcome models with ``params``, their per-style corrections and predictive
    metrics."""
    train, names = split.train, list(split.train.y)
    models = fit_outcomes(
        train.X,
        train.y,
        categorical=split.categorical,
        folds=FOLDS,
        seed=settings.seed,
        params=params,
        fit_log=fit_log,
    )
    residuals = {o: train.y[o] - models.oof[o] for o in names}
    # Per-style corrections of the shared model's style effects, fitted on its out-of-fold
    # residuals (see fit_style_corrections); they are part of every prediction after this.
    corrections = fit_corrections(split, residuals, settings, fit_log)
    observed, predicted, metrics = _predictive_metrics(split, models)
    halfwidth = {o: float(np.quantile(np.abs(residuals[o]), 0.9)) for o in names}
    intervals = fit_intervals(split, models, corrections, halfwidth, settings, fit_log, metrics)
    return Outcomes(
        models=models,
        corrections=corrections,
        oof_corrected=_corrected_oof(models, corrections, split),
        halfwidth=halfwidth,
        eval_observed=observed,
        eval_predicted=predicted,
        metrics=metrics,
        params={
            **{f"lgbm.{k}": v for k, v in params.items() if k != "verbose"},
            "rows_eval_metrics": len(split.samples.metrics),
        },
        interval_model=intervals,
    )


def fit_corrections(
    split: Split,
    residuals: dict[str, np.ndarray],
    settings: LearningSettings,
    fit_log: FitLog | None = None,
    rows: np.ndarray | None = None,
) -> StyleCorrections | None:
    """The per-style corrections of the outcome models, fitted on the training side's
    out-of-fold ``residuals`` (per outcome, one per training row); with ``rows``, on those
    training rows only."""
    train = split.train
    keep = slice(None) if rows is None else rows
    return fit_style_corrections(
        train.context[keep],
        train.style[keep],
        {o: r[keep] for o, r in residuals.items()},
        len(split.styles),
        categorical=split.context_categorical,
        seed=settings.seed,
        rounds=STYLE_CORRECTION_ROUNDS,
        fit_log=fit_log,
    )


def fit_intervals(
    split: Split,
    models: OutcomeModels,
    corrections: StyleCorrections | None,
    halfwidth: dict[str, float],
    settings: LearningSettings,
    fit_log: FitLog,
    metrics: dict[str, float],
) -> IntervalModel | None:
    """The per-recommendation interval model, fitted on the training rows' out-of-fold
    residuals (on the Dask path: the sampled training rows'), and its coverage on the
    evaluation rows, added to ``metrics`` as ``intervals.coverage.<outcome>``; None when the
    rows are too few to calibrate."""
    train = split.train
    intervals = fit_interval_model(
        train.X,
        train.y,
        models.oof,
        categorical=split.categorical,
        seed=settings.seed,
        fit_log=fit_log,
    )
    if intervals is not None:
        metrics.update(eval_coverage(intervals, split, models.boosters, corrections, halfwidth))
    return intervals


def _corrected_oof(
    models: OutcomeModels, corrections: StyleCorrections | None, split: Split
) -> dict[str, np.ndarray]:
    """Out-of-fold predictions plus each row's own-style correction, on the propensity rows
    (the rows the best constant's doubly robust term uses; the others keep the raw ones)."""
    rows = split.samples.propensity
    out = {o: models.oof[o].copy() for o in models.oof}
    if corrections is None:
        return out
    c = corrections.for_rows(split.train.context[rows], split.train.style[rows])
    for o in out:
        out[o][rows] += c[:, corrections.outcomes.index(o)]
    return out


def _predictive_metrics(
    split: Split, models: OutcomeModels
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, float]]:
    """``eval.<outcome>.rmse``, ``.r2`` and ``.explained_variance`` of the models alone on the
    evaluation metric rows (see :mod:`engage.reporting.metrics`)."""
    rows, ev = split.samples.metrics, split.eval
    observed = {o: ev.y[o][rows] for o in ev.y}
    predicted = {o: models.boosters[o].predict(ev.X[rows]) for o in ev.y}
    metrics: dict[str, float] = {}
    for o in ev.y:
        metrics[f"eval.{o}.rmse"] = rmse(observed[o], predicted[o])
        metrics[f"eval.{o}.r2"] = r_squared(observed[o], predicted[o])
        metrics[f"eval.{o}.explained_variance"] = explained_variance(observed[o], predicted[o])
    return observed, predicted, metrics
