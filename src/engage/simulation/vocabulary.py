"""The words the simulated world speaks: industries, styles, mix shares, goals and outcomes.

The order of every list is part of the world: styles are coded by their position in
:data:`STYLES`, mix shares by theirs in :data:`MIX`, and outcomes by theirs in :data:`OUTCOMES`.
These names live apart from :mod:`engage.simulation.world` so that the modules the world is
built from (profiles, effects, logging policy) can share them without importing the world.
"""

from __future__ import annotations

import numpy as np

INDUSTRIES = [
    "niche_consumer",
    "software",
    "news_media",
    "consumer_services",
    "professional_services",
    "fashion_beauty",
    "food_hospitality",
]
STYLES = ["broadcast", "conversational", "customer_care", "thought_leadership", "community"]
MIX = ["promotional", "educational", "conversational", "visual", "curated"]
MIX_COLUMNS = [f"mix_{m}" for m in MIX]
GOALS = ["sales", "awareness", "loyalty", "leads"]
OUTCOMES = ["conversions", "engagement_rate", "follower_growth", "retention_30d"]

#: The posting mix and cadence each style typically uses; in ``--decisions style`` mode the
#: world fixes exactly these.
STYLE_PROTOTYPES: dict[str, tuple[tuple[float, float, float, float, float], float]] = {
    "broadcast": ((0.55, 0.10, 0.05, 0.20, 0.10), 12.0),
    "conversational": ((0.10, 0.20, 0.40, 0.20, 0.10), 7.0),
    "customer_care": ((0.10, 0.25, 0.35, 0.15, 0.15), 8.0),
    "thought_leadership": ((0.08, 0.50, 0.12, 0.15, 0.15), 4.0),
    "community": ((0.10, 0.15, 0.25, 0.35, 0.15), 8.0),
}


def prototype_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The style prototypes as arrays indexed by style code.

    Returns:
        The mixes, shape (5, 5) with rows in :data:`STYLES` order and columns in :data:`MIX`
        order, and the cadences (posts per week), shape (5,).
    """
    mixes = np.array([STYLE_PROTOTYPES[s][0] for s in STYLES])
    cadences = np.array([STYLE_PROTOTYPES[s][1] for s in STYLES])
    return mixes, cadences
