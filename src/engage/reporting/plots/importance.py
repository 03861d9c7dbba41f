"""Which features each outcome model splits on, as shares of its total gain."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from engage.reporting.plots._style import (
    NEUTRAL_COLOR,
    REFERENCE_COLOR,
    grid,
    new_figure,
    no_data_figure,
    note,
    panels,
    unit_suffix,
)

_TITLE = "Feature importance by outcome model (share of total gain)"
_MAX_OUTCOMES = 4  # a 2x2 grid; more panels would make the feature names unreadable
_MIN_SLOTS = 6


def plot_feature_importance(importances: dict[str, dict[str, float]], top: int = 20) -> Figure:
    """Top features by total gain, one horizontal-bar panel per outcome model.

    Bars show each feature's share of that model's total gain (%) over all features, so the
    bars of a panel sum to less than 100% when features fall outside the top; the panel title
    says how much the shown features cover. At most four outcomes are drawn (2x2 grid); the
    figure title says when some were left out. A model with no positive gain (e.g. a constant
    predictor) gets a note instead of bars.

    Args:
        importances: ``importances[outcome][feature] = total gain``.
        top: number of features per panel.

    Returns:
        The figure; a "no data" figure when there are no outcomes.
    """
    outcomes = list(importances or {})
    if not outcomes:
        return no_data_figure(_TITLE)
    shown = outcomes[:_MAX_OUTCOMES]
    title = _TITLE
    if len(outcomes) > _MAX_OUTCOMES:
        title += f" - first {_MAX_OUTCOMES} of {len(outcomes)} outcomes"
    top = max(int(top), 1)
    gains = {outcome: _positive_gains(importances[outcome]) for outcome in shown}

    n_bars = max(min(top, len(g)) for g in gains.values())
    rows, _ = grid(len(shown), max_cols=2)
    fontsize = 9 if rows == 1 or n_bars <= 10 else (8 if n_bars <= 14 else 7)
    # Every panel gets the same number of bar slots, so bars are equally thick and top-aligned.
    slots = max(n_bars, _MIN_SLOTS)

    fig = new_figure()
    axes = panels(fig, len(shown), max_cols=2)
    for ax, outcome in zip(axes, shown, strict=True):
        _draw_outcome_panel(ax, outcome, gains[outcome], top, fontsize, slots)
    fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig


def _positive_gains(gains: dict[str, float] | None) -> dict[str, float]:
    """The finite, positive gains; a feature never split on has gain 0 and is left out."""
    return {
        str(f): float(g)
        for f, g in (gains or {}).items()
        if g is not None and np.isfinite(float(g)) and float(g) > 0
    }


def _draw_outcome_panel(
    ax: Axes, outcome: str, gains: dict[str, float], top: int, fontsize: float, slots: int
) -> None:
    """The ``top`` features of one model, largest on top, labelled with their share of gain."""
    if not gains:
        ax.set_title(outcome, fontsize=10)
        note(ax, "no positive gain\n(constant model?)")
        return
    total = sum(gains.values())
    ranked = sorted(gains.items(), key=lambda kv: kv[1], reverse=True)[:top][::-1]
    names = [f for f, _ in ranked]
    shares = np.array([g for _, g in ranked]) / total * 100
    ax.barh(np.arange(len(names)), shares, color=NEUTRAL_COLOR, height=0.75)
    ax.set_yticks(np.arange(len(names)), names, fontsize=fontsize)
    ax.set_ylim(len(names) - slots - 0.4, len(names) - 0.4)
    ax.set_xlim(0, shares.max() * 1.18)  # room for the value printed after the longest bar
    for y, s in enumerate(shares):
        ax.text(
            s,
            y,
            f" {s:.1f}",
            va="center",
            ha="left",
            fontsize=fontsize - 0.5,
            color=REFERENCE_COLOR,
        )
    ax.set_title(
        f"{outcome}{unit_suffix(outcome)}\n"
        f"top {len(names)} of {len(gains)} features = {shares.sum():.1f}% of gain",
        fontsize=10,
    )
    ax.set_xlabel("share of total gain (%)", fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    ax.tick_params(axis="x", labelsize=8)
