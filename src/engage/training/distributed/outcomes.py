"""Cross-fitted outcome models on every training row of the cluster, with ``lightgbm.dask``.

The same recipe as :func:`engage.training.models.fit_outcomes`: per outcome, one model per
fold fitted on the other folds with early stopping on the held-out fold, then a final model
on the whole training side with the folds' mean best iteration scaled up by
``folds / (folds - 1)``; the same LightGBM parameters (``DEFAULT_PARAMS`` updated by tuning).
The folds are the hashed ``_fold`` column (see :mod:`.split`). Out-of-fold predictions are
made only for the sampled training rows, locally, by the model of each row's fold: they are
what the style corrections, the interval half-widths and the best constant's DR term use.

Early stopping: LightGBM's distributed training evaluates a validation set on each worker's
own rows, so workers would stop at different rounds and break the network (a worker that
stopped leaves the other waiting on a closed socket). Each fold's model is therefore fitted
for ``MAX_ROUNDS`` and its best iteration found afterwards, locally, with the same rule
(stop after ``EARLY_STOPPING`` rounds without a better held-out L2) on the sampled held-out
rows of the fold (at most :data:`STOPPING_ROWS`).
"""

from __future__ import annotations

import time
from typing import Any

import lightgbm as lgb
import numpy as np

from engage.training.distributed.split import FOLD, SampledSide, SampledSplit
from engage.training.models import DEFAULT_PARAMS, EARLY_STOPPING, MAX_ROUNDS, FitLog, OutcomeModels

STOPPING_ROWS = 20_000


def stopping_iteration(
    booster: lgb.Booster, X: np.ndarray, y: np.ndarray, patience: int = EARLY_STOPPING
) -> int:
    """The iteration LightGBM's early stopping would keep: the best held-out L2 so far when
    ``patience`` rounds in a row have not beaten it (or at the last round).

    One ``pred_leaf`` call gives every row's leaf in every tree; the trees' leaf values (the
    first tree's include the starting average) summed cumulatively are the prediction after
    each round."""
    rounds = booster.current_iteration()
    if len(X) == 0 or rounds == 0:
        return max(rounds, 1)
    leaves = np.asarray(booster.predict(X, pred_leaf=True), dtype=np.int64).reshape(len(X), -1)
    values = _leaf_values(booster)
    staged = np.cumsum(
        np.column_stack([values[t][leaves[:, t]] for t in range(leaves.shape[1])]), axis=1
    )
    losses = np.mean((staged - np.asarray(y, dtype=float)[:, None]) ** 2, axis=0)
    best, best_loss = 0, np.inf
    for i, loss in enumerate(losses):
        if loss < best_loss:
            best, best_loss = i + 1, loss
        elif i + 1 - best >= patience:
            break
    return max(best, 1)


def _leaf_values(booster: lgb.Booster) -> list[np.ndarray]:
    """Each tree's leaf values, indexed by leaf index."""
    out = []
    for tree in booster.dump_model()["tree_info"]:
        found: dict[int, float] = {}
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            if "leaf_value" in node and "split_index" not in node:
                found[int(node.get("leaf_index", 0))] = float(node["leaf_value"])
            else:
                stack += [node["left_child"], node["right_child"]]
        values = np.zeros(max(found) + 1)
        for leaf, value in found.items():
            values[leaf] = value
        out.append(values)
    return out


def _regressor(client: Any, params: dict[str, Any], rounds: int, seed: int) -> Any:
    from lightgbm.dask import DaskLGBMRegressor

    # LightGBM's own parameter names (min_data_in_leaf, lambda_l2, ...) win over the sklearn
    # aliases' defaults, so the booster gets exactly the single-machine parameters.
    return DaskLGBMRegressor(client=client, n_estimators=rounds, **{**params, "seed": seed})


def _record(
    fit_log: FitLog,
    label: str,
    model: Any,
    rows: int,
    params: dict[str, Any],
    start: float,
    best: int,
) -> None:
    booster = model.booster_
    fit_log.add(
        label=label,
        rows=rows,
        valid_rows=0,
        features=booster.num_feature(),
        rounds=booster.current_iteration(),
        best_iteration=best,
        early_stopping=not label.endswith("/final"),
        params={**params, "dask": True},
        seconds=time.perf_counter() - start,
    )


def fit_outcomes_dask(
    client: Any,
    features: Any,
    split: SampledSplit,
    outcome_names: list[str],
    *,
    params: dict[str, Any],
    folds: int,
    seed: int,
    fit_log: FitLog,
) -> OutcomeModels:
    """Cross-fit one ``DaskLGBMRegressor`` per outcome on ``features`` (a persisted Dask frame
    of the whole training side: ``x0..``, the outcomes, ``_fold``); the boosters are plain
    :class:`lightgbm.Booster` objects, the out-of-fold predictions those of ``split.train``'s
    sampled rows."""
    p = {**DEFAULT_PARAMS, **params, "objective": "regression"}
    xcols = [c for c in features.columns if c.startswith("x") and c[1:].isdigit()]
    train = split.train
    assert isinstance(train, SampledSide)
    categorical = split.categorical
    parts = []
    rng = np.random.default_rng(seed)
    stopping_rows = []
    for k in range(folds):
        parts.append(features[features[FOLD] != k])
        held = np.flatnonzero(train.fold == k)
        if len(held) > STOPPING_ROWS:
            held = np.sort(rng.choice(held, STOPPING_ROWS, replace=False))
        stopping_rows.append(held)
    n_rows = len(train)
    boosters: dict[str, lgb.Booster] = {}
    oof: dict[str, np.ndarray] = {}
    best: dict[str, list[int]] = {}
    # each fold's model cut at its stopping iteration: what chooses for the sampled rows of
    # that fold when the shipping gate judges training rows (engage.training.gate)
    fold_models: list[dict[str, lgb.Booster]] = [{} for _ in range(folds)]
    for name in outcome_names:
        oof[name] = np.zeros(len(train.log))
        best[name] = []
        for k, fit_rows in enumerate(parts):
            start = time.perf_counter()
            model = _regressor(client, p, MAX_ROUNDS, seed + k)
            model.fit(
                fit_rows[xcols].to_dask_array(lengths=True),
                fit_rows[name].to_dask_array(lengths=True),
                categorical_feature=categorical,
            )
            mine = train.fold == k
            judge = stopping_rows[k]
            iteration = stopping_iteration(model.booster_, train.X[judge], train.y[name][judge])
            best[name].append(iteration)
            fold_models[k][name] = lgb.Booster(
                model_str=model.booster_.model_to_string(num_iteration=iteration)
            )
            if mine.any():
                oof[name][mine] = model.booster_.predict(train.X[mine], num_iteration=iteration)
            _record(fit_log, f"outcome/{name}/fold{k}", model, n_rows, p, start, iteration)
        rounds = max(10, int(round(np.mean(best[name]) * folds / max(folds - 1, 1))))
        start = time.perf_counter()
        model = _regressor(client, p, rounds, seed)
        model.fit(
            features[xcols].to_dask_array(lengths=True),
            features[name].to_dask_array(lengths=True),
            categorical_feature=categorical,
        )
        boosters[name] = model.booster_
        _record(fit_log, f"outcome/{name}/final", model, n_rows, p, start, rounds)
    return OutcomeModels(
        boosters, oof, best, fold_models=fold_models, fold=np.asarray(train.fold, dtype=int)
    )
