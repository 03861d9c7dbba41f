"""Off-policy estimators of deterministic target policies from logged campaigns, and their
bootstrap intervals: pure numpy, importing nothing else from engage (a contract checked by
import-linter). Training's shipping gate, ``engage evaluate`` and the benchmarks all use it.

Full actions (style x mix x numeric decisions) of logs with recorded densities:
:mod:`engage.ope.continuous`, with the densities of :mod:`engage.ope.kernels`.

What each estimator values: :mod:`engage.ope.estimators`; bands over many policies at once:
:mod:`engage.ope.bands`; estimates as a run logs them: :mod:`engage.ope.values`.
"""

from engage.ope.bands import (
    simultaneous_differences,
    simultaneous_gains,
    simultaneous_gains_and_values,
    simultaneous_values,
)
from engage.ope.continuous import (
    KERNEL_ESTIMATORS,
    LoggedActions,
    kernel_policy_value,
    kernel_samples,
    kernel_scale,
    kernel_weights,
)
from engage.ope.data import ESTIMATORS, Estimate, LoggedData
from engage.ope.estimators import (
    compare_policies,
    effective_sample_size,
    estimate_policy_value,
    extrapolation_range,
    gain_over_logged,
    logged_policy_value,
    logged_where_matched,
    stochastic_policy_value,
)
from engage.ope.values import Values, as_triples, estimate_metrics, value_metrics, with_range

__all__ = [
    "ESTIMATORS",
    "KERNEL_ESTIMATORS",
    "Estimate",
    "LoggedActions",
    "LoggedData",
    "Values",
    "as_triples",
    "compare_policies",
    "effective_sample_size",
    "estimate_metrics",
    "estimate_policy_value",
    "extrapolation_range",
    "gain_over_logged",
    "kernel_policy_value",
    "kernel_samples",
    "kernel_scale",
    "kernel_weights",
    "logged_policy_value",
    "logged_where_matched",
    "simultaneous_differences",
    "simultaneous_gains",
    "simultaneous_gains_and_values",
    "simultaneous_values",
    "stochastic_policy_value",
    "value_metrics",
    "with_range",
]
