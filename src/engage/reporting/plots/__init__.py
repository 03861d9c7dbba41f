"""Diagnostic figures a training run logs to MLflow as artifacts.

Every function returns a :class:`matplotlib.figure.Figure` sized for 1000x600 px; the caller
logs it (``mlflow.log_figure(fig, "plots/<name>.png")``) and closes it. Figures never raise on
thin data: empty inputs give a figure with a centred "no data" note, NaNs are skipped, and a
style with no logged rows or a constant predictor still draws.

Colours: style ``i`` of the ``styles`` argument is always ``tab10[i]``, in every figure, so a
style looks the same across plots. Estimators and outcomes use their own fixed colours, drawn
from palettes that do not suggest a style.

Modules: ``overlap`` (propensity support), ``calibration`` (propensity reliability),
``values`` (off-policy estimates), ``importance`` (outcome-model gain), ``fit`` (outcome-model
predictions); ``_style`` holds the shared look and ``_inputs`` the shared input checks.
"""

from engage.reporting.plots._style import DPI, FIGSIZE, OUTCOME_UNITS, style_colors
from engage.reporting.plots.calibration import plot_calibration
from engage.reporting.plots.fit import plot_outcome_fit
from engage.reporting.plots.importance import plot_feature_importance
from engage.reporting.plots.overlap import plot_propensity_overlap
from engage.reporting.plots.values import plot_policy_values

__all__ = [
    "DPI",
    "FIGSIZE",
    "OUTCOME_UNITS",
    "plot_calibration",
    "plot_feature_importance",
    "plot_outcome_fit",
    "plot_policy_values",
    "plot_propensity_overlap",
    "style_colors",
]
