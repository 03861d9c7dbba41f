"""Outcome models that value a policy without having chosen it.

The policy picks, for each profile, the action its outcome models predict best; valued with
the same models, that choice looks better than it is (the models' errors are, by selection,
in its favour: a winner's curse), and the doubly robust correction only repairs the error at
the *logged* action, not at the chosen one. So off-policy evaluation uses separate outcome
models, fitted on the held-out evaluation rows that the choosing models never saw, and
cross-fitted among those rows: the value of row ``i`` comes from the fold model that did not
see row ``i`` either. Their errors are independent of the chooser's, so the direct-method and
doubly robust terms are no longer biased in the policy's favour.

The number of boosting rounds is the choosing models' (chosen by cross-validation on the
training rows), so no evaluation outcome tunes its own model.

One more set of models, fitted on every evaluation row, values the *training* rows that the
gate also uses (:mod:`.gate`): those rows were never seen by it either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
from sklearn.model_selection import KFold

from engage.policy.scoring import weighted
from engage.training.models import DEFAULT_PARAMS, FitLog, train_booster
from engage.training.split import Side

VALUER_FOLDS = 2


@dataclass(frozen=True)
class Valuer:
    """Cross-fitted outcome models of the evaluation rows.

    Attributes:
        fold: each evaluation row's fold.
        boosters: ``boosters[f][o]``: outcome ``o``'s model fitted without fold ``f``.
        outcomes: outcome order of ``weights``.
        weights: the objective's signed weights.
        n_context: context columns at the front of an encoded row.
    """

    fold: np.ndarray
    boosters: list[dict[str, lgb.Booster]]
    outcomes: list[str]
    weights: np.ndarray
    n_context: int
    # outcome o's model fitted on every evaluation row: values rows outside the evaluation side
    whole: dict[str, lgb.Booster] | None = None

    def objective(self, rows: np.ndarray, context: np.ndarray, decisions: np.ndarray) -> np.ndarray:
        """Predicted objective of evaluation rows ``rows`` (positions in the evaluation
        side) with profiles ``context`` and actions ``decisions``, each by the fold model that
        did not see the row, (n,)."""
        X = np.hstack([context, decisions])
        out = np.zeros(len(rows))
        folds = self.fold[rows]
        for f, models in enumerate(self.boosters):
            mine = np.flatnonzero(folds == f)
            if len(mine) == 0:
                continue
            preds = np.column_stack([models[o].predict(X[mine]) for o in self.outcomes])
            out[mine] = weighted(preds, self.weights)
        return out

    def objective_outside(self, context: np.ndarray, decisions: np.ndarray) -> np.ndarray:
        """Predicted objective of rows *outside* the evaluation side (profiles ``context``,
        actions ``decisions``) by the models fitted on every evaluation row, (n,)."""
        if self.whole is None:
            raise ValueError("this valuer has no models of the whole evaluation side")
        X = np.hstack([context, decisions])
        preds = np.column_stack([self.whole[o].predict(X) for o in self.outcomes])
        return weighted(preds, self.weights)


def fit_valuer(
    side: Side,
    weights: Mapping[str, float],
    rounds: Mapping[str, int],
    *,
    categorical: list[int],
    n_context: int,
    seed: int,
    params: Mapping[str, object] | None = None,
    fit_log: FitLog | None = None,
    whole: bool = False,
) -> Valuer:
    """Fit the valuing models on the evaluation side (see the module docstring).

    Args:
        side: the evaluation rows.
        weights: the objective's signed weights by outcome.
        rounds: boosting rounds per outcome (the choosing models').
        categorical: categorical columns of the encoded rows.
        n_context: context columns at the front of an encoded row.
        seed: fold assignment and fits.
        params: LightGBM parameters (the outcome models').
        fit_log: records each fit.
        whole: also fit each outcome on every evaluation row (:meth:`Valuer.objective_outside`).
    """
    outcomes = [o for o in weights if weights[o] != 0] or list(weights)
    n = len(side)
    fold = np.zeros(n, dtype=int)
    splits = list(KFold(VALUER_FOLDS, shuffle=True, random_state=seed).split(np.arange(n)))
    for f, (_, held) in enumerate(splits):
        fold[held] = f
    p = {**DEFAULT_PARAMS, **(params or {}), "objective": "regression"}
    # smaller data than the choosing models had: leaves must still average enough rows
    p["min_data_in_leaf"] = int(max(20, min(int(p.get("min_data_in_leaf", 40)), n // 50)))
    boosters: list[dict[str, lgb.Booster]] = []
    for f, (fit_rows, _) in enumerate(splits):
        boosters.append(
            {
                o: train_booster(
                    {**p, "seed": seed + 101 + f},
                    side.X[fit_rows],
                    side.y[o][fit_rows],
                    categorical,
                    max(10, int(rounds.get(o, 100))),
                    None,
                    fit_log,
                    f"valuer/{o}/fold{f}",
                )
                for o in outcomes
            }
        )
    every = None
    if whole:
        every = {
            o: train_booster(
                {**p, "seed": seed + 100},
                side.X,
                side.y[o],
                categorical,
                max(10, int(rounds.get(o, 100))),
                None,
                fit_log,
                f"valuer/{o}/whole",
            )
            for o in outcomes
        }
    return Valuer(
        fold=fold,
        boosters=boosters,
        outcomes=outcomes,
        weights=np.array([weights[o] for o in outcomes], dtype=float),
        n_context=n_context,
        whole=every,
    )
