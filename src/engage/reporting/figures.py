"""The report's figures, drawn by :mod:`engage.reporting.plots` and embedded as PNG.

The report draws them itself rather than reading the run's logged files, so it needs no
MLflow and shows exactly the plots the run logs (same functions, same inputs); policies are
relabelled in the marketer's words.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from matplotlib.figure import Figure

from engage.ope import Values
from engage.reporting import plots
from engage.reporting.record import FigureData

#: The report's names of the evaluation's policies, in the order they are drawn.
POLICY_NAMES = {
    "learned": "personalised policy",
    "best_constant": "best single plan",
    "logging": "logging distribution",
    "logged": "what marketers did",
}


def png_base64(fig: Figure) -> str:
    """The figure as base64 PNG text (for a ``data:`` URI); the figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=plots.DPI)
    plt.close(fig)  # pyplot keeps every figure alive until closed
    return base64.b64encode(buf.getvalue()).decode("ascii")


def values_figure(values: Values, shipped: str, oracle: float | None = None) -> str:
    """The policy-value figure, with the shipped policy marked, as base64 PNG.

    ``oracle`` is the optimal policy's true value (simulated logs only).
    """
    relabelled = {
        POLICY_NAMES[key] + (" (shipped)" if key == shipped else ""): values[key]
        for key in POLICY_NAMES
        if key in values
    }
    return png_base64(plots.plot_policy_values(relabelled, oracle=oracle))


def overlap_figure(proba: np.ndarray, logged: np.ndarray, styles: list[str], floor: float) -> str:
    """The propensity-overlap figure as base64 PNG."""
    return png_base64(plots.plot_propensity_overlap(proba, logged, styles, clip=floor))


def report_figures(data: FigureData) -> dict[str, str]:
    """The policy-value and overlap figures as base64 PNG, by name (``values``, ``overlap``)."""
    return {
        "values": values_figure(data.values, data.shipped, data.oracle_value),
        "overlap": overlap_figure(data.eval_proba, data.eval_styles, list(data.styles), data.floor),
    }
