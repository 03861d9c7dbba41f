"""Predictive metrics of the outcome models, named for what they compute.

``r_squared`` is the coefficient of determination, 1 − Σ(y − ŷ)² / Σ(y − ȳ)², the R² that
scikit-learn and statistics texts mean (a biased model is penalised for its bias).
``explained_variance`` is 1 − Var(y − ŷ) / Var(y): it ignores a constant bias, so it is never
below R². Both are logged (``eval.<outcome>.r2`` and ``eval.<outcome>.explained_variance``)
and the run's outcome-fit plot shows the same R².
"""

from __future__ import annotations

import numpy as np


def r_squared(y: np.ndarray, yhat: np.ndarray) -> float:
    """Coefficient of determination; NaN when the observations are constant or too few."""
    y, yhat = np.asarray(y, dtype=float), np.asarray(yhat, dtype=float)
    if len(y) < 2:
        return float("nan")
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot <= 0:
        return float("nan")
    return 1.0 - float(np.sum((y - yhat) ** 2)) / ss_tot


def explained_variance(y: np.ndarray, yhat: np.ndarray) -> float:
    """1 − Var(residual) / Var(y); NaN when the observations are constant or too few."""
    y, yhat = np.asarray(y, dtype=float), np.asarray(yhat, dtype=float)
    if len(y) < 2 or float(y.var()) <= 0:
        return float("nan")
    return 1.0 - float((y - yhat).var()) / float(y.var())


def rmse(y: np.ndarray, yhat: np.ndarray) -> float:
    """Root mean squared error."""
    resid = np.asarray(y, dtype=float) - np.asarray(yhat, dtype=float)
    return float(np.sqrt(np.mean(resid**2)))
