"""Fit of the outcome models: predicted against observed, with R²."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from engage.reporting.metrics import r_squared
from engage.reporting.plots._style import (
    NEUTRAL_COLOR,
    new_figure,
    no_data_figure,
    note,
    panels,
    unit_suffix,
)

_TITLE = "Outcome models: predicted vs observed"
_MAX_SCATTER_POINTS = 5000


def plot_outcome_fit(y_true: dict[str, np.ndarray], y_pred: dict[str, np.ndarray]) -> Figure:
    """Predicted vs observed, one panel per outcome, with R² in each panel title.

    Outcomes present in both dicts are drawn in the order of ``y_true``. R² is computed on all
    rows where both values are finite; the scatter shows at most 5,000 of them (a fixed random
    sample) with transparency. The dashed diagonal is a perfect fit. R² is "n/a" when the
    observations are constant.

    Args:
        y_true: ``y_true[outcome]`` observed values, shape (n,).
        y_pred: ``y_pred[outcome]`` predictions, same shape.

    Returns:
        The figure; a "no data" figure when no outcome is in both dicts.

    Raises:
        ValueError: an outcome's observations and predictions differ in length.
    """
    outcomes = [o for o in (y_true or {}) if o in (y_pred or {})]
    if not outcomes:
        return no_data_figure(_TITLE)
    # Checked before drawing, so a bad input does not leave a half-drawn figure open in pyplot.
    pairs = {o: _finite_pairs(o, y_true[o], y_pred[o]) for o in outcomes}
    # One generator for the whole figure: the samples are the same on every run.
    rng = np.random.default_rng(0)

    fig = new_figure()
    axes = panels(fig, len(outcomes))
    for ax, outcome in zip(axes, outcomes, strict=True):
        y, yhat = pairs[outcome]
        _draw_outcome_panel(ax, outcome, y, yhat, rng)
    fig.suptitle(_TITLE, fontsize=13)
    fig.tight_layout()
    return fig


def _finite_pairs(
    outcome: str, y_true: np.ndarray, y_pred: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Observed and predicted values, flattened, on the rows where both are finite."""
    y = np.asarray(y_true, dtype=float).ravel()
    yhat = np.asarray(y_pred, dtype=float).ravel()
    if y.shape != yhat.shape:
        raise ValueError(f"{outcome}: y_true has {len(y)} values but y_pred has {len(yhat)}")
    ok = np.isfinite(y) & np.isfinite(yhat)
    return y[ok], yhat[ok]


def _padded_range(y: np.ndarray, yhat: np.ndarray) -> tuple[float, float]:
    """One range for both axes, so the diagonal is a true 45° line; never zero-width."""
    lo = float(min(y.min(), yhat.min()))
    hi = float(max(y.max(), yhat.max()))
    pad = 0.04 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
    return lo - pad, hi + pad


def _draw_outcome_panel(
    ax: Axes, outcome: str, y: np.ndarray, yhat: np.ndarray, rng: np.random.Generator
) -> None:
    """Scatter of one outcome (observed on y, predicted on x) with the perfect-fit diagonal."""
    suffix = unit_suffix(outcome)
    ax.set_xlabel(f"predicted{suffix}", fontsize=9)
    ax.set_ylabel(f"observed{suffix}", fontsize=9)
    if len(y) == 0:
        ax.set_title(f"{outcome}\nR² n/a", fontsize=10)
        note(ax, "no finite pairs")
        return
    r2 = r_squared(y, yhat)
    r2_text = f"{r2:.3f}" if np.isfinite(r2) else "n/a"
    if len(y) > _MAX_SCATTER_POINTS:
        idx = rng.choice(len(y), _MAX_SCATTER_POINTS, replace=False)
    else:
        idx = np.arange(len(y))
    # Fainter points as they multiply, so dense regions still show their density.
    alpha = float(np.clip(300 / len(idx), 0.08, 0.6))
    ax.scatter(
        yhat[idx], y[idx], s=6, alpha=alpha, color=NEUTRAL_COLOR, edgecolors="none", rasterized=True
    )
    lo, hi = _padded_range(y, yhat)
    ax.plot(
        [lo, hi], [lo, hi], linestyle="--", color="firebrick", linewidth=1.2, label="perfect fit"
    )
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    ax.tick_params(labelsize=8)
    shown = "" if len(idx) == len(y) else f", {len(idx):,} shown"
    ax.set_title(f"{outcome}\nR² = {r2_text} (n = {len(y):,}{shown})", fontsize=10)
