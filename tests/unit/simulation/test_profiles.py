"""Business profiles: the context columns, their ranges, and the categorical draw."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.contract.spec import load_spec
from engage.simulation.profiles import INDUSTRY_SHARE, draw_categorical, sample_profiles
from engage.simulation.vocabulary import GOALS, INDUSTRIES


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    return sample_profiles(20_000, np.random.default_rng(0))


def test_draw_categorical_follows_the_row_probabilities() -> None:
    probs = np.tile([0.2, 0.5, 0.3], (40_000, 1))
    codes = draw_categorical(probs, np.random.default_rng(1))
    np.testing.assert_allclose(np.bincount(codes, minlength=3) / len(codes), probs[0], atol=0.01)


def test_draw_categorical_takes_one_uniform_per_row() -> None:
    rng, twin = np.random.default_rng(2), np.random.default_rng(2)
    draw_categorical(np.full((7, 4), 0.25), rng)
    twin.random(7)
    assert rng.random() == twin.random()


def test_a_certain_category_is_always_drawn() -> None:
    probs = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(draw_categorical(probs, np.random.default_rng(3)), [1, 2, 0])


def test_profiles_have_exactly_the_specs_context_columns(profiles: pd.DataFrame) -> None:
    assert sorted(profiles.columns) == sorted(load_spec().context_names)


def test_same_generator_state_gives_the_same_profiles() -> None:
    a = sample_profiles(300, np.random.default_rng(5))
    b = sample_profiles(300, np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_categories_come_from_the_vocabulary(profiles: pd.DataFrame) -> None:
    assert set(profiles["industry"]) == set(INDUSTRIES)
    assert set(profiles["goal"]) == set(GOALS)
    assert set(profiles["market"]) == {"b2b", "b2c"}
    shares = profiles["industry"].value_counts(normalize=True).reindex(INDUSTRIES)
    np.testing.assert_allclose(shares, INDUSTRY_SHARE, atol=0.015)


def test_numeric_columns_stay_in_their_ranges(profiles: pd.DataFrame) -> None:
    for col in ("innovation", "shareability", "audience_tech_savviness", "service_load"):
        assert profiles[col].between(0, 1).all(), col
    assert profiles["sales_cycle_days"].between(0, 365).all()
    assert profiles["team_hours"].between(1, 400).all()
    assert profiles["followers"].between(10, 2e7).all()
    assert (profiles["ad_budget"] >= 0).all()
    assert 0.25 < (profiles["ad_budget"] == 0).mean() < 0.45  # about a third spend nothing


def test_profiles_differ_by_industry_as_the_seeds_describe(profiles: pd.DataFrame) -> None:
    by = profiles.groupby("industry")
    b2b = by["market"].apply(lambda m: (m == "b2b").mean())
    assert b2b["professional_services"] > 0.75 and b2b["fashion_beauty"] < 0.15
    cycle = by["sales_cycle_days"].median()
    assert cycle["niche_consumer"] < 2 and cycle["professional_services"] > 20  # C1
    assert by["followers"].median()["news_media"] > 10 * by["followers"].median()["software"]
    share = by["shareability"].mean()
    assert share["fashion_beauty"] > 0.65
    # professional services draw Beta(1, 5) (mean 1/6): kept so that old seeds give old logs
    assert share["professional_services"] == pytest.approx(1 / 6, abs=0.02)
