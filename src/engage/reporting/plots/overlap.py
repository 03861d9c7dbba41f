"""Overlap of the logging policy: how much support each style has across profiles."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from engage.reporting.plots._inputs import as_codes, check_proba
from engage.reporting.plots._style import (
    OTHER_COLOR,
    RGB,
    fmt_pct,
    label_outer,
    new_figure,
    no_data_figure,
    note,
    panels,
    style_colors,
)

_TITLE = "Propensity overlap: estimated P(style | profile), logged style vs the rest"
_FLOOR = 1e-3
_N_BINS = 30


@dataclass(frozen=True)
class _Scale:
    """The x axis every panel shares: log bins from ``lo`` to 1, and the threshold to mark."""

    lo: float
    bins: np.ndarray
    threshold: float | None


def plot_propensity_overlap(
    propensities: np.ndarray,
    logged_style: np.ndarray,
    styles: list[str],
    clip: float | None = None,
) -> Figure:
    """Overlap diagnostics of the logging policy, one panel per style.

    Panel ``k`` compares the distribution of the estimated ``P(style k | profile)`` among rows
    that logged style ``k`` (style colour) with rows that logged another style (grey), on a log
    axis from 1e-3 to 1 (smaller values are counted in the first bin). Each group is normalised
    to its own size, so a rare style is as visible as a common one. With ``clip`` (the support
    threshold) a dashed line marks it and the panel title gives the share of all rows whose
    propensity for style ``k`` falls below it, i.e. rows where ``k`` is unsupported.

    Args:
        propensities: (n, K) estimated propensities, columns in the order of ``styles``.
        logged_style: (n,) integer style codes of the logged actions.
        styles: style names; fixes panel order and colours.
        clip: support threshold to mark, or None.

    Returns:
        The figure; a "no data" figure when there are no rows or no styles.

    Raises:
        ValueError: ``propensities`` does not have one row per label and one column per style.
    """
    codes = as_codes(logged_style)
    if len(styles) == 0 or len(codes) == 0:
        return no_data_figure(_TITLE)
    p = check_proba(propensities, codes, styles, "propensities")
    scale = _scale(clip)
    colors = style_colors(styles)

    fig = new_figure()
    axes = panels(fig, len(styles), sharex=True)
    for k, (ax, style) in enumerate(zip(axes, styles, strict=True)):
        _draw_style_panel(ax, p[:, k], codes == k, style, colors[style], scale)
    label_outer(axes, "estimated P(style | profile), log scale", "share of group (%)")
    fig.suptitle(_TITLE, fontsize=13)
    fig.tight_layout()
    return fig


def _scale(clip: float | None) -> _Scale:
    """The shared axis; it reaches below 1e-3 only to keep a smaller threshold in view."""
    threshold = float(clip) if clip is not None and np.isfinite(clip) and clip > 0 else None
    lo = _FLOOR
    if threshold is not None and threshold < lo:
        lo = 10 ** math.floor(math.log10(threshold))
    return _Scale(lo, np.logspace(math.log10(lo), 0.0, _N_BINS + 1), threshold)


def _draw_style_panel(
    ax: Axes, col: np.ndarray, is_style: np.ndarray, style: str, color: RGB, scale: _Scale
) -> None:
    """One style's panel: ``col`` is its propensity per row, ``is_style`` marks rows logging it."""
    ok = np.isfinite(col)
    logged = is_style[ok]
    # Values under the axis floor are counted in the first bin rather than dropped.
    drawn = _draw_groups(ax, np.clip(col[ok], scale.lo, 1.0), logged, style, color, scale.bins)
    if not is_style.any():
        ax.text(
            0.03,
            0.95,
            f"no rows logged {style}",
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=8,
            color="firebrick",
        )

    title = style
    if scale.threshold is not None:
        ax.axvline(
            scale.threshold,
            color="black",
            linestyle="--",
            linewidth=1.2,
            label=f"support threshold {scale.threshold:g}",
        )
        if ok.any():
            below = float(np.mean(col[ok] < scale.threshold))
            title += f"\n{fmt_pct(below)} of rows below {scale.threshold:g}"
    ax.set_title(title, fontsize=10)
    ax.set_xscale("log")
    ax.set_xlim(scale.lo, 1.0)
    ax.grid(True, which="major", alpha=0.3)
    if drawn:
        ax.legend(fontsize=7, loc="upper left" if logged.any() else "center left", frameon=False)
    else:
        note(ax, "no finite propensities", clear_ticks=False)


def _draw_groups(
    ax: Axes, vals: np.ndarray, logged: np.ndarray, style: str, color: RGB, bins: np.ndarray
) -> bool:
    """Histograms of the other styles' rows and the style's own rows; False if both are empty."""
    groups = [
        (vals[~logged], OTHER_COLOR, "other styles"),
        (vals[logged], color, f"logged {style}"),
    ]
    for v, group_color, label in groups:
        if len(v) == 0:
            continue
        # Each group sums to 100% so a rarely logged style is as visible as a common one.
        weights = np.full(len(v), 100.0 / len(v))
        ax.hist(
            v,
            bins=bins,
            weights=weights,
            color=group_color,
            alpha=0.55,
            label=f"{label} (n={len(v):,})",
            histtype="stepfilled",
            edgecolor=group_color,
            linewidth=1.0,
        )
    return len(vals) > 0
