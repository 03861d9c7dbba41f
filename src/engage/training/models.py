"""Cross-fitted LightGBM nuisance models: the logged-style propensity and one model per outcome.

Cross-fitting: the training split is cut into ``folds`` parts; each part is predicted by a
model fitted on the others (out-of-fold predictions, used by evaluation and calibration),
and a final model is refitted on the whole training split with the mean best iteration of
the folds (used by the policy). Early stopping inside each fold uses the held-out fold.
The fold models are kept with each row's fold: off-policy evaluation lets each training row be
chosen for by the models that did not see it (:mod:`.gate`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.model_selection import KFold

from engage.policy.policy import StyleCorrections
from engage.policy.scoring import softmax as _softmax  # the one softmax, shared with serving

DEFAULT_PARAMS: dict[str, Any] = {
    "learning_rate": 0.08,
    "num_leaves": 31,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "max_bin": 127,
    "verbose": -1,
}
MAX_ROUNDS = 500
EARLY_STOPPING = 30
SMALL_DATA = 50_000

#: Per-style residual corrections (:func:`fit_style_corrections`): deliberately tiny trees
#: (3 leaves, leaves backed by >= 200 rows of the style, 50 rounds at 0.05).
CORRECTION_PARAMS: dict[str, Any] = {
    "learning_rate": 0.05,
    "num_leaves": 3,
    "min_sum_hessian_in_leaf": 200.0,  # = rows of the tree's own style (hessian 1 there, 0 elsewhere)
    "min_data_in_leaf": 20,
    "lambda_l2": 10.0,
    "max_bin": 127,
    "verbose": -1,
}
CORRECTION_ROUNDS = 50
CORRECTION_MAX_ROWS = 100_000

#: Every raw LightGBM fit the pipeline makes is recorded here (for the speed benchmark).
FitRecord = dict[str, Any]


@dataclass
class FitLog:
    """Wall time and settings of every LightGBM fit, in order."""

    fits: list[FitRecord] = field(default_factory=list)

    def add(self, **record: Any) -> None:
        self.fits.append(record)

    @property
    def seconds(self) -> float:
        return float(sum(f["seconds"] for f in self.fits))


def train_booster(
    params: dict[str, Any],
    X: np.ndarray,
    y: np.ndarray,
    categorical: list[int],
    rounds: int,
    valid: tuple[np.ndarray, np.ndarray] | None,
    fit_log: FitLog | None,
    label: str,
) -> lgb.Booster:
    import time

    start = time.perf_counter()
    if "num_threads" not in params:
        # OpenMP threads cost more than they bring on small data (and badly so on a busy
        # machine): one thread below SMALL_DATA rows, all cores above.
        params = {**params, "num_threads": 1 if len(X) < SMALL_DATA else 0}
    train_set = lgb.Dataset(X, y, categorical_feature=categorical, free_raw_data=True)
    callbacks = []
    valid_sets = []
    if valid is not None:
        valid_sets = [
            lgb.Dataset(valid[0], valid[1], reference=train_set, categorical_feature=categorical)
        ]
        callbacks = [lgb.early_stopping(EARLY_STOPPING, verbose=False)]
    booster = lgb.train(
        params, train_set, num_boost_round=rounds, valid_sets=valid_sets, callbacks=callbacks
    )
    if fit_log is not None:
        fit_log.add(
            label=label,
            rows=len(X),
            valid_rows=0 if valid is None else len(valid[0]),
            features=X.shape[1],
            rounds=booster.current_iteration(),
            best_iteration=booster.best_iteration or booster.current_iteration(),
            early_stopping=valid is not None,
            params=dict(params),
            seconds=time.perf_counter() - start,
        )
    return booster


@dataclass
class CrossFit:
    """Out-of-fold predictions and the final model of one cross-fitted target."""

    oof: np.ndarray
    final: lgb.Booster
    best_iterations: list[int]
    fold_models: list[lgb.Booster] = field(default_factory=list)  # fitted without fold k
    fold: np.ndarray | None = None  # each row's fold


def cross_fit(
    X: np.ndarray,
    y: np.ndarray,
    *,
    params: dict[str, Any],
    categorical: list[int],
    folds: int,
    seed: int,
    predict: Callable[[lgb.Booster, np.ndarray], np.ndarray],
    fit_log: FitLog | None = None,
    label: str = "",
) -> CrossFit:
    """Cross-fit one LightGBM target (regression or multiclass, by ``params['objective']``)."""
    oof: np.ndarray | None = None
    best: list[int] = []
    models: list[lgb.Booster] = []
    fold = np.zeros(len(X), dtype=int)
    for k, (tr, va) in enumerate(KFold(folds, shuffle=True, random_state=seed).split(X)):
        booster = train_booster(
            {**params, "seed": seed + k},
            X[tr],
            y[tr],
            categorical,
            MAX_ROUNDS,
            (X[va], y[va]),
            fit_log,
            f"{label}/fold{k}",
        )
        best.append(booster.best_iteration or booster.current_iteration())
        models.append(booster)
        fold[va] = k
        pred = predict(booster, X[va])
        if oof is None:
            oof = np.zeros((len(X), *pred.shape[1:]))
        oof[va] = pred
    rounds = max(
        10, int(round(np.mean(best) * folds / max(folds - 1, 1)))
    )  # more data, more rounds
    final = train_booster(
        {**params, "seed": seed}, X, y, categorical, rounds, None, fit_log, f"{label}/final"
    )
    assert oof is not None
    return CrossFit(oof=oof, final=final, best_iterations=best, fold_models=models, fold=fold)


# ---------------------------------------------------------------------- propensity


@dataclass
class PropensityModel:
    """Multiclass LightGBM on the profile, temperature-calibrated on out-of-fold scores."""

    booster: lgb.Booster
    temperature: float
    oof: np.ndarray  # calibrated out-of-fold probabilities on the training split

    def predict(self, context: np.ndarray) -> np.ndarray:
        """Calibrated P(style | profile), shape (n, K)."""
        raw = np.asarray(self.booster.predict(context, raw_score=True)).reshape(len(context), -1)
        return _softmax(raw, self.temperature)


def fit_propensity(
    context: np.ndarray,
    style: np.ndarray,
    n_styles: int,
    *,
    categorical: list[int],
    folds: int,
    seed: int,
    params: dict[str, Any] | None = None,
    fit_log: FitLog | None = None,
) -> PropensityModel:
    """Fit the logged-style propensity model (cross-fitted, then temperature-calibrated)."""
    p = {
        **DEFAULT_PARAMS,
        "num_leaves": 15,
        "min_data_in_leaf": 60,
        **(params or {}),
        "objective": "multiclass",
        "num_class": n_styles,
    }

    def raw_predict(b: lgb.Booster, X: np.ndarray) -> np.ndarray:
        return np.asarray(b.predict(X, raw_score=True)).reshape(len(X), -1)

    cf = cross_fit(
        context,
        style.astype(int),
        params=p,
        categorical=categorical,
        folds=folds,
        seed=seed,
        predict=raw_predict,
        fit_log=fit_log,
        label="propensity",
    )
    idx = np.arange(len(style))

    def nll(t: float) -> float:
        return float(-np.log(_softmax(cf.oof, t)[idx, style] + 1e-12).mean())

    temperature = float(minimize_scalar(nll, bounds=(0.5, 3.0), method="bounded").x)
    return PropensityModel(cf.final, temperature, _softmax(cf.oof, temperature))


# ---------------------------------------------------------------------- outcomes


@dataclass
class OutcomeModels:
    """One cross-fitted LightGBM regressor per outcome."""

    boosters: dict[str, lgb.Booster]
    oof: dict[str, np.ndarray]
    best_iterations: dict[str, list[int]]
    # fold_models[k][o]: outcome o's model fitted without fold k; fold: each training row's
    # fold (the same for every outcome). Empty/None when the fits did not keep them.
    fold_models: list[dict[str, lgb.Booster]] = field(default_factory=list)
    fold: np.ndarray | None = None


def fit_outcomes(
    X: np.ndarray,
    outcomes: dict[str, np.ndarray],
    *,
    categorical: list[int],
    folds: int,
    seed: int,
    params: dict[str, Any] | None = None,
    fit_log: FitLog | None = None,
    on_done: Callable[[str], None] | None = None,
) -> OutcomeModels:
    """Cross-fit a LightGBM regressor for each outcome on profile + decision features."""
    p = {**DEFAULT_PARAMS, **(params or {}), "objective": "regression"}
    boosters, oof, best = {}, {}, {}
    fold_models: list[dict[str, lgb.Booster]] = [{} for _ in range(folds)]
    fold: np.ndarray | None = None
    for name, y in outcomes.items():
        cf = cross_fit(
            X,
            y,
            params=p,
            categorical=categorical,
            folds=folds,
            seed=seed,
            predict=lambda b, Xv: np.asarray(b.predict(Xv)),
            fit_log=fit_log,
            label=f"outcome/{name}",
        )
        boosters[name], oof[name], best[name] = cf.final, cf.oof, cf.best_iterations
        for k, model in enumerate(cf.fold_models):
            fold_models[k][name] = model
        fold = cf.fold  # one KFold of the same rows and seed: the same folds for every outcome
        if on_done:
            on_done(name)
    return OutcomeModels(boosters, oof, best, fold_models=fold_models, fold=fold)


# ---------------------------------------------------------------------- per-style corrections


def correction_objective(target: np.ndarray, mask: np.ndarray) -> Callable:
    """Squared error on (outcome, style) outputs, counting each row only for its logged style.

    ``target`` and ``mask`` are (n, outcomes * styles); class ``o * styles + k`` is outcome
    ``o``'s correction for style ``k``. Rows of other styles get zero gradient and hessian, so
    each output's trees are fitted on its own style's rows only.
    """

    def objective(preds: np.ndarray, _data: lgb.Dataset) -> tuple[np.ndarray, np.ndarray]:
        return (preds.reshape(target.shape) - target) * mask, mask

    return objective


def fit_style_corrections(
    context: np.ndarray,
    style: np.ndarray,
    residuals: dict[str, np.ndarray],
    n_styles: int,
    *,
    categorical: list[int],
    seed: int,
    rounds: int = CORRECTION_ROUNDS,
    max_rows: int = CORRECTION_MAX_ROWS,
    fit_log: FitLog | None = None,
) -> StyleCorrections | None:
    """Per outcome and style, a tiny boosted model of the outcome model's out-of-fold residual.

    The S-learner shares one model across styles, so a style x profile interaction reaches it
    only through splits on the style code, which boosting rarely spends on a small effect next
    to the profile baseline: predicted style effects are shrunk towards each other and biased
    where a style is rarely logged. Among the rows that logged style ``k`` the out-of-fold
    residual estimates that bias as a function of the profile (conditional on the profile, so
    no propensity weights are needed); a strongly regularised model of it, added to the
    outcome model's prediction for style ``k``, corrects the per-style effects. All
    (outcome, style) pairs are the classes of ONE LightGBM model (custom objective, see
    :func:`correction_objective`), so serving needs one predict call for all of them. Styles
    with fewer than ``2 * min_sum_hessian_in_leaf`` rows get no correction.
    """
    if rounds <= 0:
        return None
    import time

    rng = np.random.default_rng(seed)
    rows = np.arange(len(context))
    if len(rows) > max_rows:
        rows = np.sort(rng.choice(len(rows), max_rows, replace=False))
    X, st = context[rows], np.asarray(style)[rows]
    outcomes = list(residuals)
    counts = np.bincount(st, minlength=n_styles)
    ok = counts >= 2 * CORRECTION_PARAMS["min_sum_hessian_in_leaf"]
    mask_k = ((st[:, None] == np.arange(n_styles)[None, :]) & ok[None, :]).astype(float)  # (n, K)
    offsets = np.zeros((len(outcomes), n_styles))
    for o, name in enumerate(outcomes):
        r = residuals[name][rows]
        for k in np.flatnonzero(ok):
            offsets[o, k] = r[st == k].mean()
    target = np.hstack(
        [residuals[name][rows][:, None] - offsets[o][None, :] for o, name in enumerate(outcomes)]
    )
    mask = np.tile(mask_k, len(outcomes))
    params = {**CORRECTION_PARAMS, "num_class": target.shape[1], "seed": seed, "num_threads": 1}
    start = time.perf_counter()
    booster = lgb.train(
        {**params, "objective": correction_objective(target, mask)},
        lgb.Dataset(X, np.zeros(len(X)), categorical_feature=categorical, free_raw_data=True),
        num_boost_round=rounds,
    )
    if fit_log is not None:
        fit_log.add(
            label="correction/styles",
            rows=len(X),
            valid_rows=0,
            features=X.shape[1],
            rounds=rounds,
            best_iteration=rounds,
            early_stopping=False,
            params={**params, "objective": "custom:style_correction"},
            seconds=time.perf_counter() - start,
        )
    return StyleCorrections(
        booster=booster, offsets=offsets * ok[None, :], outcomes=outcomes, n_styles=n_styles
    )
