"""Estimates as a run records them: the estimators' values of a policy with the DR range, and
their flat metric names (``<prefix>.<name>``, ``_low``, ``_high``), shared by training's gate
and ``engage evaluate`` so both log the same names."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engage.ope.data import Estimate, LoggedData
from engage.ope.estimators import extrapolation_range, logged_where_matched

#: ``{policy: {estimator: (value, low, high)}}``, as training and ``engage evaluate`` log them
#: (metrics ``ope.<policy>.<estimator>[_low|_high]``).
Values = dict[str, dict[str, tuple[float, float, float]]]


def with_range(
    estimates: Mapping[str, Estimate],
    data: LoggedData,
    target_style: np.ndarray,
    actions: np.ndarray,
    logged_actions: np.ndarray,
) -> dict[str, Estimate]:
    """``estimates`` (of :func:`estimate_policy_value`) with ``range``, the DR value with an
    interval allowing for the model's error at the target's action
    (:func:`extrapolation_range`); ``actions`` and ``logged_actions`` are the encoded
    decisions of the target and of the log, one row per log row."""
    exact = logged_where_matched(data, target_style, actions, logged_actions)
    return {**estimates, "range": extrapolation_range(dict(estimates), exact)}


def as_triples(estimates: Mapping[str, Estimate]) -> dict[str, tuple[float, float, float]]:
    """``{estimator: (value, low, high)}``."""
    return {k: (e.value, e.low, e.high) for k, e in estimates.items()}


def estimate_metrics(name: str, estimate: Estimate) -> dict[str, float]:
    """``name``, ``name_low`` and ``name_high``."""
    return {name: estimate.value, f"{name}_low": estimate.low, f"{name}_high": estimate.high}


def value_metrics(
    values: Mapping[str, Mapping[str, tuple[float, float, float]]],
) -> dict[str, float]:
    """``ope.<policy>.<estimator>[_low|_high]`` of every value."""
    metrics: dict[str, float] = {}
    for policy, estimates in values.items():
        for estimator, (v, lo, hi) in estimates.items():
            metrics.update(estimate_metrics(f"ope.{policy}.{estimator}", Estimate(v, lo, hi)))
    return metrics
