"""How marketers choose: the confounded logging policy behind a simulated log.

Marketers pick a style from their profile (niche sellers broadcast, software firms converse,
service businesses answer customers) and read it from the same quantities the outcomes depend
on: that is what confounds the log. Their habits are plausible but often not the best choice.
A floor keeps every style possible, so every (profile, style) pair has some support.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engage.simulation.effects import profile_drivers
from engage.simulation.profiles import draw_categorical
from engage.simulation.vocabulary import INDUSTRIES, STYLES, prototype_arrays


@dataclass(frozen=True)
class MarketerHabits:
    """How strongly marketers follow their habits.

    Attributes:
        temperature: scales the style logits; higher means more predictable choices.
        floor: share of choices made uniformly at random; the smallest propensity is
            ``floor / 5``.
        concentration: Dirichlet concentration of the posting mix around the style's
            prototype; higher means mixes stay closer to it.
    """

    temperature: float
    floor: float
    concentration: float


#: Habits per difficulty: ``easy`` has milder confounding (propensities down to 0.05) and
#: mixes that wander further from the prototype; ``hard`` and ``flat`` down to 0.02.
HABITS: dict[str, MarketerHabits] = {
    "easy": MarketerHabits(temperature=0.8, floor=0.25, concentration=8.0),
    "hard": MarketerHabits(temperature=1.6, floor=0.1, concentration=14.0),
    "flat": MarketerHabits(temperature=1.6, floor=0.1, concentration=14.0),
}


def style_logits(profiles: pd.DataFrame) -> np.ndarray:
    """Marketers' preference for each style before temperature and floor, shape (n, 5).

    Args:
        profiles: frame with the simulated spec's context columns.
    """
    d = profile_drivers(profiles)
    ind = profiles["industry"].to_numpy()
    is_ = {name: (ind == name).astype(float)[:, None] for name in INDUSTRIES}
    b2b = (profiles["market"].to_numpy() == "b2b").astype(float)[:, None]
    broadcast = 2.8 * d.niche_short + 2.5 * is_["news_media"] + 1.2 * d.goal_sales + 1.5 * d.traffic
    conversational = 2.4 * is_["software"] + 0.8 * b2b + 0.8 * d.tech
    customer_care = 2.4 * d.service + 1.2 * is_["consumer_services"] - 0.5
    thought_leadership = 1.8 * is_["professional_services"] + 0.8 * d.innovation * b2b - 0.6
    visual_brand = is_["fashion_beauty"] + is_["food_hospitality"]
    community = 2.2 * visual_brand + 1.0 * d.share - 0.6
    return np.hstack([broadcast, conversational, customer_care, thought_leadership, community])


def logging_propensities(profiles: pd.DataFrame, habits: MarketerHabits) -> np.ndarray:
    """Probability that a marketer picks each style for each profile.

    Args:
        profiles: frame with the simulated spec's context columns.
        habits: how strongly marketers follow their habits.

    Returns:
        Probabilities of shape (n, 5), rows summing to 1, none below ``habits.floor / 5``.
    """
    logits = habits.temperature * style_logits(profiles)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    return (1 - habits.floor) * p + habits.floor / len(STYLES)


def draw_styles(propensities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw the logged style codes, one per row of ``propensities``."""
    return draw_categorical(propensities, rng)


def logged_mix_and_cadence(
    profiles: pd.DataFrame,
    style: np.ndarray,
    rng: np.random.Generator,
    habits: MarketerHabits,
    fixed: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The posting mix and cadence marketers use with the styles they picked.

    Args:
        profiles: frame with the simulated spec's context columns.
        style: the logged style codes, shape (n,).
        rng: the generator; no draws are taken from it when ``fixed``.
        habits: how closely mixes follow the style's prototype.
        fixed: the world fixes mix and cadence per style (``style`` decisions).

    Returns:
        Mix shares of shape (n, 5) summing to 1 and cadences (posts per week) of shape (n,).
    """
    mixes, cadences = prototype_arrays()
    proto, cad = mixes[style], cadences[style]
    if fixed:
        return proto.copy(), cad.astype(float)
    tilt = proto.copy()
    tilt[:, 3] *= 0.5 + profiles["shareability"].to_numpy()  # visual brands post more visuals
    tilt[:, 0] *= 0.7 + 0.6 * (profiles["goal"].to_numpy() == "sales")  # sales goals push deals
    tilt /= tilt.sum(1, keepdims=True)
    mix = rng.gamma(habits.concentration * tilt + 0.05)
    mix /= mix.sum(1, keepdims=True)
    # Bigger teams post a little more often; around each habit the cadence is log-normal.
    team = profiles["team_hours"].to_numpy()
    cadence = np.exp(np.log(cad * (team / 20.0) ** 0.25) + 0.4 * rng.standard_normal(len(style)))
    return mix, np.clip(np.round(cadence, 1), 1, 60)
