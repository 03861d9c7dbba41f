"""Off-policy estimates of each policy's value, side by side per estimator."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from engage.reporting.plots._style import new_figure, no_data_figure

_TITLE = "Policy value by off-policy estimator (95% intervals)"
_TRUE = "true"  # a policy's true value (known in simulation), drawn as a line, not a marker
_BAND = 0.7  # vertical space one policy's markers spread over

Estimate = tuple[float, float, float]  # (value, low, high)

#: Fixed colour and marker per off-policy estimator (Dark2, so they never read as a style).
_ESTIMATOR_ORDER = ("dm", "ips", "snips", "dr", "range")
_ESTIMATOR_LOOK: dict[str, tuple[str, str]] = {
    "dm": ("#1b9e77", "o"),
    "ips": ("#d95f02", "s"),
    "snips": ("#7570b3", "D"),
    "dr": ("#e7298a", "^"),
    "range": ("#666666", "|"),  # the DR value, its interval allowing for extrapolation
}
_EXTRA_ESTIMATOR_COLORS = ("#66a61e", "#e6ab02", "#a6761d", "#666666")
_EXTRA_ESTIMATOR_MARKERS = ("v", "P", "X", "h")
_ESTIMATOR_LABELS = {"dm": "DM", "ips": "IPS", "snips": "SNIPS", "dr": "DR", "range": "DR range"}


def plot_policy_values(
    values: dict[str, dict[str, Estimate]],
    oracle: float | None = None,
) -> Figure:
    """Estimated value of each policy under each off-policy estimator, with 95% intervals.

    Policies are rows (first key on top); within a row each estimator is a marker with its
    interval as a horizontal error bar, in a fixed colour (DM, IPS, SNIPS, DR first, others
    after). A policy's ``"true"`` entry (known in simulation) is a short solid black vertical
    line across that policy's row; ``oracle`` (the optimal policy's true value) is a dotted
    vertical line across the whole plot. Missing or NaN estimates are skipped.

    Args:
        values: ``values[policy][estimator] = (value, low, high)``.
        oracle: true value of the optimal policy, or None.

    Returns:
        The figure; a "no data" figure when no policy has a finite estimate.
    """
    cleaned = _clean(values)
    has_oracle = oracle is not None and np.isfinite(oracle)
    if not cleaned:
        return no_data_figure(_TITLE)
    estimators = _estimators(cleaned)

    fig = new_figure()
    ax = fig.add_subplot()
    _draw_estimates(ax, cleaned, estimators)
    if has_oracle:
        ax.axvline(
            float(oracle),
            color="firebrick",
            linestyle=":",
            linewidth=2,
            label=f"oracle (optimal policy) = {float(oracle):.3g}",
        )
    _format_axes(ax, list(cleaned))
    _add_legend(ax, estimators)
    fig.tight_layout()
    return fig


def _finite_triple(t: Sequence[float] | None) -> Estimate | None:
    """(value, low, high) with a finite value; non-finite bounds become the value."""
    if t is None:
        return None
    try:
        v, lo, hi = (float(x) for x in t)
    except (TypeError, ValueError):
        return None
    if not np.isfinite(v):
        return None
    lo = lo if np.isfinite(lo) else v
    hi = hi if np.isfinite(hi) else v
    return v, min(lo, v), max(hi, v)


def _clean(values: dict[str, dict[str, Estimate]] | None) -> dict[str, dict[str, Estimate]]:
    """The drawable estimates; policies left with none are dropped."""
    cleaned: dict[str, dict[str, Estimate]] = {}
    for policy, estimates in (values or {}).items():
        row = {}
        for estimator, raw in (estimates or {}).items():
            triple = _finite_triple(raw)
            if triple is not None:
                row[estimator] = triple
        if row:
            cleaned[str(policy)] = row
    return cleaned


def _estimators(cleaned: dict[str, dict[str, Estimate]]) -> list[str]:
    """Estimators drawn as markers: the known four in fixed order, then others as first seen."""
    seen = dict.fromkeys(e for row in cleaned.values() for e in row if e != _TRUE)
    known = [e for e in _ESTIMATOR_ORDER if e in seen]
    return known + [e for e in seen if e not in _ESTIMATOR_LOOK]


def _looks(estimators: list[str]) -> dict[str, tuple[str, str]]:
    """Colour and marker per estimator; unknown ones cycle through a spare palette."""
    looks = {e: _ESTIMATOR_LOOK[e] for e in estimators if e in _ESTIMATOR_LOOK}
    extras = [e for e in estimators if e not in _ESTIMATOR_LOOK]
    for i, e in enumerate(extras):
        j = i % len(_EXTRA_ESTIMATOR_COLORS)
        looks[e] = (_EXTRA_ESTIMATOR_COLORS[j], _EXTRA_ESTIMATOR_MARKERS[j])
    return looks


def _draw_estimates(
    ax: Axes, cleaned: dict[str, dict[str, Estimate]], estimators: list[str]
) -> None:
    """Markers with error bars per estimate, and each policy's true value as a short line."""
    looks = _looks(estimators)
    n_est = len(estimators)
    offsets = np.linspace(-_BAND / 2, _BAND / 2, n_est) if n_est > 1 else np.zeros(1)
    labelled: set[str] = set()  # one legend entry per estimator, not one per policy
    for i, row in enumerate(cleaned.values()):
        y0 = len(cleaned) - 1 - i  # first policy on top
        for j, est in enumerate(estimators):
            if est not in row:
                continue
            v, lo, hi = row[est]
            color, marker = looks[est]
            label = None if est in labelled else _ESTIMATOR_LABELS.get(est, est)
            ax.errorbar(
                v,
                y0 - offsets[j],
                xerr=[[v - lo], [hi - v]],
                fmt=marker,
                color=color,
                markersize=7,
                capsize=3,
                elinewidth=1.6,
                label=label,
            )
            labelled.add(est)
        if _TRUE in row:
            label = None if _TRUE in labelled else "true value (simulation)"
            ax.vlines(
                row[_TRUE][0], y0 - 0.45, y0 + 0.45, colors="black", linewidth=2.2, label=label
            )
            labelled.add(_TRUE)


def _format_axes(ax: Axes, policies: list[str]) -> None:
    """Policy names as row labels (first on top) with thin separators between rows."""
    n = len(policies)
    for i in range(n - 1):
        ax.axhline(i + 0.5, color="#dddddd", linewidth=0.8)
    ax.set_yticks(range(n - 1, -1, -1), [p.replace("_", " ") for p in policies], fontsize=11)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlabel("policy value (weighted outcome score per campaign)", fontsize=11)
    ax.set_ylabel("policy")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(_TITLE, fontsize=13)


def _add_legend(ax: Axes, estimators: list[str]) -> None:
    """A legend outside the plot: estimators in drawing order, then the reference lines."""
    handles, labels = ax.get_legend_handles_labels()
    order = [_ESTIMATOR_LABELS.get(e, e) for e in estimators]
    rank = {lab: (order.index(lab) if lab in order else len(order)) for lab in labels}
    pairs = sorted(zip(handles, labels, strict=True), key=lambda hl: rank[hl[1]])
    ax.legend(
        [h for h, _ in pairs],
        [lab for _, lab in pairs],
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
        fontsize=9,
        frameon=False,
        title="estimator",
        title_fontsize=9,
    )
