"""The run's diagnostic figures, logged under ``plots/`` (drawn by :mod:`engage.reporting.plots`)."""

from __future__ import annotations

import mlflow
from matplotlib.figure import Figure

from engage.ope import Values
from engage.policy.policy import Policy
from engage.reporting import plots
from engage.training.nuisance import Nuisance
from engage.training.split import Split


def log_figures(
    split: Split,
    nuisance: Nuisance,
    policy: Policy,
    values: Values,
    oracle_value: float | None,
    min_propensity: float,
) -> None:
    """Propensity overlap (marking ``min_propensity``) and calibration, policy values,
    feature importance, outcome fit."""
    proba, style = nuisance.propensity.eval_proba, split.eval.style
    _log(
        plots.plot_propensity_overlap(proba, style, split.styles, clip=min_propensity),
        "propensity_overlap.png",
    )
    _log(plots.plot_calibration(style, proba, split.styles), "propensity_calibration.png")
    _log(plots.plot_policy_values(values, oracle=oracle_value), "policy_values.png")
    names = policy.builder.feature_names
    importances = {
        o: dict(zip(names, booster.feature_importance("gain").tolist(), strict=True))
        for o, booster in policy.outcome_models.items()
    }
    _log(plots.plot_feature_importance(importances), "feature_importance.png")
    outcomes = nuisance.outcomes
    _log(plots.plot_outcome_fit(outcomes.eval_observed, outcomes.eval_predicted), "outcome_fit.png")


def _log(fig: Figure, name: str) -> None:
    import matplotlib.pyplot as plt

    mlflow.log_figure(fig, f"plots/{name}")
    plt.close(fig)  # pyplot keeps every figure alive until closed
