"""The look every figure shares: size, colours, empty-figure notes, panel grids and labels.

Style ``i`` of a ``styles`` argument is always ``tab10[i]``, in every figure, so a style looks
the same across plots. The other colours here are greys and a dark slate, so they never read
as a style.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib

# Training runs headless (CI, servers): draw off-screen before pyplot picks an interactive backend.
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

#: Figure size in inches at ``DPI``: 1000x600 px.
FIGSIZE: tuple[float, float] = (10.0, 6.0)
DPI = 100

RGB = tuple[float, float, float]

STYLE_PALETTE: Sequence[RGB] = plt.get_cmap("tab10").colors
OTHER_COLOR = "#9a9a9a"
NEUTRAL_COLOR = "#3b4a5a"
REFERENCE_COLOR = "#555555"

#: Units of the simulated world's outcomes (see ``features/specs``); unknown outcomes get none.
OUTCOME_UNITS: dict[str, str] = {
    "conversions": "per 1k followers",
    "engagement_rate": "%",
    "follower_growth": "%",
    "retention_30d": "%",
}


def style_colors(styles: Sequence[str]) -> dict[str, RGB]:
    """The fixed colour of each style.

    Args:
        styles: style names, in the order that fixes their colours.

    Returns:
        ``tab10`` colours keyed by style, cycling after ten styles.
    """
    return {s: STYLE_PALETTE[i % len(STYLE_PALETTE)] for i, s in enumerate(styles)}


def unit_suffix(outcome: str) -> str:
    """`` (unit)`` for an outcome with a known unit, else an empty string."""
    unit = OUTCOME_UNITS.get(outcome)
    return "" if unit is None else f" ({unit})"


def fmt_pct(share: float) -> str:
    """A share in [0, 1] as a percentage with one decimal."""
    return f"{100 * share:.1f}%"


def new_figure() -> Figure:
    """An empty figure of the logged size."""
    return plt.figure(figsize=FIGSIZE, dpi=DPI)


def no_data_figure(title: str, note: str = "no data") -> Figure:
    """A figure with a title and a centred note, for inputs with nothing to draw."""
    fig = new_figure()
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        note,
        ha="center",
        va="center",
        fontsize=16,
        color=REFERENCE_COLOR,
        transform=ax.transAxes,
    )
    fig.suptitle(title, fontsize=14)
    return fig


def note(ax: Axes, text: str, clear_ticks: bool = True) -> None:
    """Write a centred note in an otherwise empty panel.

    ``clear_ticks=False`` keeps the ticks, for a panel whose x axis is shared with others.
    """
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        fontsize=11,
        color=REFERENCE_COLOR,
        transform=ax.transAxes,
    )
    if clear_ticks:
        ax.set_xticks([])
        ax.set_yticks([])


def grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    """Rows and columns of a small-multiple grid for ``n`` panels."""
    if n <= max_cols:
        return 1, n
    if n == 4:
        return 2, 2
    return math.ceil(n / max_cols), max_cols


def panels(fig: Figure, n: int, max_cols: int = 3, **subplot_kw: Any) -> list[Axes]:
    """``n`` panels in a grid (see :func:`grid`); unused grid cells are removed."""
    rows, cols = grid(n, max_cols)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False, **subplot_kw)).ravel()
    for ax in axes[n:]:
        ax.remove()
    return list(axes[:n])


def label_outer(axes: Sequence[Axes], xlabel: str, ylabel: str, **text_kw: Any) -> None:
    """Label the y axes of the left column and the x axis under the lowest panel of each column.

    Panels come from :func:`panels` with its default three columns. When the last row is short,
    the lowest panel of a column can sit above a removed cell; its tick labels are switched on
    because a shared x axis would otherwise hide them there.
    """
    _, cols = grid(len(axes))
    for i, ax in enumerate(axes):
        if i % cols == 0:
            ax.set_ylabel(ylabel, **text_kw)
        if i >= len(axes) - cols:
            ax.set_xlabel(xlabel, **text_kw)
            ax.tick_params(labelbottom=True)
