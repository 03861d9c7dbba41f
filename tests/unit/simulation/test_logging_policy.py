"""How marketers choose: propensities, their floor, and the logged mix and cadence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.simulation.logging_policy import (
    HABITS,
    draw_styles,
    logged_mix_and_cadence,
    logging_propensities,
    style_logits,
)
from engage.simulation.profiles import sample_profiles
from engage.simulation.vocabulary import STYLES, prototype_arrays
from engage.simulation.world import DIFFICULTIES


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    return sample_profiles(5000, np.random.default_rng(21))


def test_every_difficulty_has_habits() -> None:
    assert set(HABITS) == set(DIFFICULTIES)


@pytest.mark.parametrize("difficulty", DIFFICULTIES)
def test_propensities_are_distributions_above_the_floor(
    profiles: pd.DataFrame, difficulty: str
) -> None:
    habits = HABITS[difficulty]
    p = logging_propensities(profiles, habits)
    assert p.shape == (len(profiles), len(STYLES))
    np.testing.assert_allclose(p.sum(1), 1.0)
    assert p.min() >= habits.floor / len(STYLES) - 1e-12


def test_easy_marketers_are_less_predictable(profiles: pd.DataFrame) -> None:
    easy = logging_propensities(profiles, HABITS["easy"])
    hard = logging_propensities(profiles, HABITS["hard"])
    assert easy.max(1).mean() < hard.max(1).mean()


def test_niche_sellers_lean_to_broadcast_and_software_firms_to_conversation(
    profiles: pd.DataFrame,
) -> None:
    logits = style_logits(profiles)
    preferred = pd.Series(np.array(STYLES)[logits.argmax(1)], index=profiles.index)
    by_industry = preferred.groupby(profiles["industry"]).agg(lambda s: s.value_counts().idxmax())
    assert by_industry["niche_consumer"] == "broadcast"
    assert by_industry["software"] == "conversational"


def test_drawn_styles_follow_the_propensities(profiles: pd.DataFrame) -> None:
    p = logging_propensities(profiles, HABITS["hard"])
    style = draw_styles(p, np.random.default_rng(3))
    freq = np.bincount(style, minlength=len(STYLES)) / len(style)
    np.testing.assert_allclose(freq, p.mean(0), atol=0.02)


def test_fixed_decisions_use_the_prototypes_and_draw_nothing(profiles: pd.DataFrame) -> None:
    style = np.arange(len(profiles)) % len(STYLES)
    rng, twin = np.random.default_rng(4), np.random.default_rng(4)
    mix, cadence = logged_mix_and_cadence(profiles, style, rng, HABITS["hard"], fixed=True)
    mixes, cadences = prototype_arrays()
    np.testing.assert_array_equal(mix, mixes[style])
    np.testing.assert_array_equal(cadence, cadences[style])
    assert rng.random() == twin.random()


def test_free_mixes_are_shares_near_the_prototype(profiles: pd.DataFrame) -> None:
    style = np.zeros(len(profiles), dtype=int)  # broadcast: promotional-heavy prototype
    mix, cadence = logged_mix_and_cadence(
        profiles, style, np.random.default_rng(5), HABITS["hard"], fixed=False
    )
    assert (mix >= 0).all()
    np.testing.assert_allclose(mix.sum(1), 1.0)
    assert mix[:, 0].mean() > 0.4
    assert cadence.min() >= 1 and cadence.max() <= 60
    np.testing.assert_allclose(cadence, np.round(cadence, 1))


def test_sales_goals_push_deals(profiles: pd.DataFrame) -> None:
    style = np.full(len(profiles), STYLES.index("community"))
    mix, _ = logged_mix_and_cadence(
        profiles, style, np.random.default_rng(6), HABITS["hard"], fixed=False
    )
    sales = (profiles["goal"] == "sales").to_numpy()
    assert mix[sales, 0].mean() > mix[~sales, 0].mean() + 0.02
