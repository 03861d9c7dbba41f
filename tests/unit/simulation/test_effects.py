"""The outcome model: drivers, baseline, action effects and their broadcasting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.simulation import effects
from engage.simulation.effects import (
    action_effects,
    average_effects,
    baseline_outcomes,
    profile_drivers,
)
from engage.simulation.profiles import sample_profiles
from engage.simulation.vocabulary import STYLES, prototype_arrays


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    return sample_profiles(40, np.random.default_rng(11))


def random_actions(k: int, seed: int, shape: tuple[int, ...] | None = None):
    rng = np.random.default_rng(seed)
    shape = shape or (k,)
    style = rng.integers(0, len(STYLES), shape)
    mix = rng.dirichlet(np.ones(5), shape)
    cadence = rng.uniform(1, 30, shape).round(1)
    return style, mix, cadence


def test_drivers_are_columns_in_their_ranges(profiles: pd.DataFrame) -> None:
    d = profile_drivers(profiles)
    for name, value in vars(d).items():
        assert value.shape == (len(profiles), 1), name
    assert (d.fit >= 0.35).all() and (d.fit <= 1).all()  # C4: the channel always pays a little
    for value in (d.traffic, d.short, d.niche_short, d.long_b2b):
        assert ((value >= 0) & (value <= 1)).all()


def test_baseline_has_one_value_per_profile_and_outcome(profiles: pd.DataFrame) -> None:
    assert baseline_outcomes(profile_drivers(profiles)).shape == (len(profiles), 1, 4)


def test_effects_of_a_shared_batch_and_of_per_profile_actions_agree(
    profiles: pd.DataFrame,
) -> None:
    d = profile_drivers(profiles)
    style, mix, cadence = random_actions(6, seed=1)
    shared = action_effects(d, style, mix, cadence)
    assert shared.shape == (len(profiles), 6, 4)
    n = len(profiles)
    per_profile = action_effects(
        d, np.tile(style, (n, 1)), np.tile(mix, (n, 1, 1)), np.tile(cadence, (n, 1))
    )
    np.testing.assert_array_equal(per_profile, shared)


def test_each_profile_reads_only_its_own_row(profiles: pd.DataFrame) -> None:
    style, mix, cadence = random_actions(3, seed=2)
    whole = action_effects(profile_drivers(profiles), style, mix, cadence)
    one = action_effects(profile_drivers(profiles.iloc[[7]]), style, mix, cadence)
    np.testing.assert_allclose(one[0], whole[7], rtol=0, atol=1e-12)


def test_overloaded_team_loses_the_two_way_effect(profiles: pd.DataFrame) -> None:
    """C7: the same conversational posts pay less when the team cannot answer them."""
    mixes, _ = prototype_arrays()
    small_team = profiles.iloc[[0]].assign(team_hours=5.0)
    big_team = profiles.iloc[[0]].assign(team_hours=200.0)
    style, mix, cadence = np.array([1]), mixes[[1]], np.array([20.0])
    small = action_effects(profile_drivers(small_team), style, mix, cadence)
    big = action_effects(profile_drivers(big_team), style, mix, cadence)
    assert small[0, 0, 1] < big[0, 0, 1]  # engagement


def test_average_effects_of_a_batch_is_the_mean_over_the_reference(
    profiles: pd.DataFrame,
) -> None:
    d = profile_drivers(profiles)
    style, mix, cadence = random_actions(5, seed=3)
    avg = average_effects(d, style, mix, cadence)
    assert avg.shape == (1, 5, 4)
    np.testing.assert_allclose(avg[0], action_effects(d, style, mix, cadence).mean(0))


def test_average_effects_per_profile_is_chunked_without_changing_values(
    profiles: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = profile_drivers(profiles)
    style, mix, cadence = random_actions(0, seed=4, shape=(9, 3))
    whole = average_effects(d, style, mix, cadence)
    monkeypatch.setattr(effects, "_AVERAGE_CHUNK", 4)  # 27 actions -> 7 chunks
    chunked = average_effects(d, style, mix, cadence)
    assert chunked.shape == (9, 3, 4)
    np.testing.assert_array_equal(chunked, whole)
    direct = action_effects(d, style.reshape(-1), mix.reshape(-1, 5), cadence.reshape(-1))
    np.testing.assert_allclose(chunked.reshape(-1, 4), direct.mean(0))
