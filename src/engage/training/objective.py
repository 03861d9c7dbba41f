"""The weighted objective of per-outcome arrays: what every step values rows by."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engage.policy.policy import weighted


def objective_values(
    outcomes: Mapping[str, np.ndarray], weights: Mapping[str, float]
) -> np.ndarray:
    """The weighted objective of per-outcome arrays (``weights`` are signed, from the spec)."""
    names = list(weights)
    return weighted(
        np.column_stack([outcomes[o] for o in names]), np.array([weights[o] for o in names])
    )
