"""Calibration of the propensity model: predicted against observed style frequencies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from engage.reporting.plots._inputs import as_codes, check_proba
from engage.reporting.plots._style import (
    REFERENCE_COLOR,
    RGB,
    label_outer,
    new_figure,
    no_data_figure,
    note,
    panels,
    style_colors,
)

_TITLE = "Propensity model calibration (reliability diagram, quantile bins)"
_Z95 = 1.96


@dataclass(frozen=True)
class _Reliability:
    """Per non-empty bin: mean predicted probability, observed share, 95% half-width."""

    mean_p: np.ndarray
    observed: np.ndarray
    half_width: np.ndarray


def plot_calibration(
    y_true: np.ndarray, proba: np.ndarray, styles: list[str], n_bins: int = 10
) -> Figure:
    """Reliability diagram of a multiclass propensity model, one panel per style.

    For style ``k``, ``proba[:, k]`` is cut into ``n_bins`` quantile bins; each bin is a point
    at (mean predicted probability, observed share of rows with ``y_true == k``) with a 95%
    normal-approximation interval. The dashed diagonal is perfect calibration. Each panel
    title gives the style's one-vs-rest Brier score, ``mean((p_k - 1[y == k])^2)``; the figure
    title gives the multiclass Brier score (sum over styles) on rows with all probabilities
    finite. Rows with a NaN probability are skipped per style.

    Args:
        y_true: (n,) integer style codes.
        proba: (n, K) predicted probabilities, columns in the order of ``styles``.
        styles: style names; fixes panel order and colours.
        n_bins: number of quantile bins.

    Returns:
        The figure; a "no data" figure when there are no rows or no styles.

    Raises:
        ValueError: ``proba`` does not have one row per label and one column per style.
    """
    codes = as_codes(y_true)
    if len(styles) == 0 or len(codes) == 0:
        return no_data_figure(_TITLE)
    p = check_proba(proba, codes, styles, "proba")
    colors = style_colors(styles)

    fig = new_figure()
    axes = panels(fig, len(styles))
    for k, (ax, style) in enumerate(zip(axes, styles, strict=True)):
        _draw_style_panel(ax, p[:, k], codes == k, style, colors[style], n_bins)
    label_outer(
        axes, "mean predicted P(style | profile)", "observed frequency of style", fontsize=9
    )
    title = _TITLE
    multi = _multiclass_brier(p, codes)
    if multi is not None:
        title += f" - multiclass Brier {multi:.3f}"
    fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig


def _quantile_bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index of each value in quantile bins (ties can merge bins; a constant gives one)."""
    edges = np.unique(np.quantile(p, np.linspace(0, 1, max(n_bins, 1) + 1)))
    if len(edges) <= 2:
        return np.zeros(len(p), dtype=np.int64)
    return np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, len(edges) - 2)


def _reliability(pk: np.ndarray, yk: np.ndarray, n_bins: int) -> _Reliability:
    """Bin the predictions ``pk`` of one style and compare them with its outcomes ``yk``."""
    b = _quantile_bins(pk, n_bins)
    nb = int(b.max()) + 1
    counts = np.bincount(b, minlength=nb)
    keep = counts > 0  # merged quantile edges can leave a bin index unused
    mean_p = np.bincount(b, weights=pk, minlength=nb)[keep] / counts[keep]
    observed = np.bincount(b, weights=yk, minlength=nb)[keep] / counts[keep]
    half = _Z95 * np.sqrt(np.clip(observed * (1 - observed), 0, None) / counts[keep])
    return _Reliability(mean_p, observed, half)


def _draw_style_panel(
    ax: Axes, col: np.ndarray, is_style: np.ndarray, style: str, color: RGB, n_bins: int
) -> None:
    """One style's reliability curve; ``col`` is its probability per row."""
    ok = np.isfinite(col)
    pk = col[ok]
    yk = is_style[ok].astype(float)
    if len(pk) == 0:
        ax.set_title(f"{style}\nBrier n/a", fontsize=10)
        note(ax, "no finite probabilities")
        return
    rel = _reliability(pk, yk, n_bins)
    # Zoom to the data: propensities of a style are often far below 1.
    top = float(min(1.0, max(rel.mean_p.max(), (rel.observed + rel.half_width).max()) * 1.1 + 0.02))
    ax.plot(
        [0, top],
        [0, top],
        linestyle="--",
        color=REFERENCE_COLOR,
        linewidth=1,
        label="perfect calibration",
    )
    # The lower error bar stops at 0: an observed share cannot be negative.
    ax.errorbar(
        rel.mean_p,
        rel.observed,
        yerr=[np.minimum(rel.half_width, rel.observed), rel.half_width],
        fmt="o-",
        color=color,
        markersize=5,
        capsize=2,
        linewidth=1.5,
        label="quantile bins (95% CI)",
    )
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.grid(True, alpha=0.3)
    brier = float(np.mean((pk - yk) ** 2))
    ax.set_title(
        f"{style}: Brier {brier:.3f}\nlogged in {int(yk.sum()):,} of {len(pk):,} rows", fontsize=10
    )
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    ax.tick_params(labelsize=8)


def _multiclass_brier(p: np.ndarray, codes: np.ndarray) -> float | None:
    """Mean over rows of the summed squared error to the one-hot label; None if no row is whole."""
    all_ok = np.isfinite(p).all(axis=1)
    if not all_ok.any():
        return None
    onehot = codes[all_ok, None] == np.arange(p.shape[1])[None, :]
    return float(np.mean(np.sum((p[all_ok] - onehot) ** 2, axis=1)))
