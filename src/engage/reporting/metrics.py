"""Predictive metrics of the outcome models, named for what they compute.

``r_squared`` is the coefficient of determination, 1 − Σ(y − ŷ)² / Σ(y − ȳ)², the R² that
scikit-learn and statistics texts mean (a biased model is penalised for its bias).
``explained_variance`` is 1 − Var(y − ŷ) / Var(y): it ignores a constant bias, so it is never
below R². Both are logged (``eval.<outcome>.r2`` and ``eval.<outcome>.explained_variance``)
and the run's outcome-fit plot shows the same R². All three are scikit-learn's
(``sklearn.metrics``), with NaN where they are undefined.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import explained_variance_score, r2_score, root_mean_squared_error


def _pair(y: np.ndarray, yhat: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Both as float arrays, or None when a value is not finite (scikit-learn refuses NaN and
    infinity; the contract quarantines such outcome values, so training never has them)."""
    y, yhat = np.asarray(y, dtype=float), np.asarray(yhat, dtype=float)
    if not (np.isfinite(y).all() and np.isfinite(yhat).all()):
        return None
    return y, yhat


def r_squared(y: np.ndarray, yhat: np.ndarray) -> float:
    """Coefficient of determination (``sklearn.metrics.r2_score``); NaN when the observations
    are constant or too few, or a value is not finite."""
    pair = _pair(y, yhat)
    if pair is None or len(pair[0]) < 2 or float(np.sum((pair[0] - pair[0].mean()) ** 2)) <= 0:
        return float("nan")
    return float(r2_score(*pair))


def explained_variance(y: np.ndarray, yhat: np.ndarray) -> float:
    """1 − Var(residual) / Var(y) (``sklearn.metrics.explained_variance_score``); NaN when the
    observations are constant or too few, or a value is not finite."""
    pair = _pair(y, yhat)
    if pair is None or len(pair[0]) < 2 or float(pair[0].var()) <= 0:
        return float("nan")
    return float(explained_variance_score(*pair))


def rmse(y: np.ndarray, yhat: np.ndarray) -> float:
    """Root mean squared error (``sklearn.metrics.root_mean_squared_error``); NaN when there
    is no value or a value is not finite."""
    pair = _pair(y, yhat)
    if pair is None or len(pair[0]) == 0:
        return float("nan")
    return float(root_mean_squared_error(*pair))
