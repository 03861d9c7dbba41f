"""Optuna tuning of the outcome models' LightGBM parameters; each trial is a nested MLflow run.

Trials run on a subsample of the training split (``rows``) with one train/validation cut, and
minimise the mean over outcomes of validation MSE divided by the outcome's variance (1 - R²).
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import mlflow
import numpy as np
import optuna

from engage.registry import owner_tags
from engage.training.models import DEFAULT_PARAMS, MAX_ROUNDS, FitLog, train_booster


def tune_outcome_params(
    X: np.ndarray,
    outcomes: dict[str, np.ndarray],
    *,
    categorical: list[int],
    trials: int,
    rows: int,
    seed: int,
    fit_log: FitLog | None = None,
) -> dict[str, Any]:
    """Best LightGBM parameters found in ``trials`` Optuna trials (TPE, seeded)."""
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(X))[: min(rows, len(X))]
    cut = int(len(idx) * 0.75)
    tr, va = idx[:cut], idx[cut:]

    def objective(trial: optuna.Trial) -> float:
        params = {
            **DEFAULT_PARAMS,
            "objective": "regression",
            "num_leaves": trial.suggest_int("num_leaves", 7, 63, log=True),
            "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 20, 300, log=True),
            "learning_rate": trial.suggest_float("learning_rate", 0.03, 0.2, log=True),
            "feature_fraction": trial.suggest_float("feature_fraction", 0.6, 1.0),
            "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 30.0, log=True),
        }
        losses = {}
        with mlflow.start_run(run_name=f"trial-{trial.number}", nested=True, tags=owner_tags()):
            for name, y in outcomes.items():
                booster: lgb.Booster = train_booster(
                    {**params, "seed": seed},
                    X[tr],
                    y[tr],
                    categorical,
                    MAX_ROUNDS,
                    (X[va], y[va]),
                    fit_log,
                    f"tuning/{trial.number}/{name}",
                )
                pred = booster.predict(X[va], num_iteration=booster.best_iteration)
                losses[name] = float(np.mean((y[va] - pred) ** 2) / max(np.var(y[va]), 1e-12))
            loss = float(np.mean(list(losses.values())))
            mlflow.log_params({k: v for k, v in trial.params.items()})
            mlflow.log_metrics(
                {"tuning.loss": loss, **{f"tuning.{k}.loss": v for k, v in losses.items()}}
            )
        return loss

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.enqueue_trial(
        {
            k: DEFAULT_PARAMS[k]
            for k in (
                "num_leaves",
                "min_data_in_leaf",
                "learning_rate",
                "feature_fraction",
                "lambda_l2",
            )
        }
    )
    study.optimize(objective, n_trials=trials)
    mlflow.log_metric("tuning.best_loss", study.best_value)
    return dict(study.best_params)
