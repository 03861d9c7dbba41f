"""The candidate-floor helper (benchmarks/candidate_floor.py) and the benchmark's world names."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.candidate_floor as cf  # noqa: E402
import benchmarks.policy_quality as pq  # noqa: E402
from engage.simulation.families import EdgeWorld, make_world  # noqa: E402
from engage.simulation.world import Actions, SimulatedWorld  # noqa: E402


@pytest.fixture(scope="module", params=["classic", "edge"])
def world(request) -> SimulatedWorld:
    return make_world(request.param, "hard")


@pytest.fixture(scope="module")
def profiles(world: SimulatedWorld) -> pd.DataFrame:
    return world.sample_profiles(24, np.random.default_rng(12345))


@pytest.fixture(scope="module")
def oracle(world: SimulatedWorld, profiles: pd.DataFrame) -> tuple[cf.OracleValues, Actions]:
    from engage.simulation.search import search_best_actions

    style, mix, cad, value = search_best_actions(cf._value_fn(world, world.weights), profiles, 5)
    return cf.OracleValues(value, style), Actions(style, mix, cad)


def one_draw(world: SimulatedWorld, profiles: pd.DataFrame) -> Actions:
    """The logging policy's draw that ``logged_values(draws=1)`` scores (seed 777)."""
    rng = np.random.default_rng(777)
    prop = world.logging_propensities(profiles)
    style = (prop.cumsum(1) > rng.random(len(profiles))[:, None]).argmax(1)
    mix, cadence = world._logged_mix_and_cadence(profiles, style, rng)
    return Actions(style, mix, cadence)


def test_a_set_holding_each_optimum_has_floor_zero(world, profiles, oracle) -> None:
    values, best = oracle
    sets = [best.to_frame().iloc[[i]] for i in range(len(profiles))]
    out = cf.candidate_floor(world, profiles, sets, oracle=values)
    assert out["floor"] == pytest.approx(0.0, abs=1e-12)
    assert out["same_style_as_oracle"] == 1.0


def test_the_logged_action_alone_has_floor_one(world, profiles, oracle) -> None:
    values, _ = oracle
    logged = one_draw(world, profiles).to_frame()
    logged[cf.PROFILE] = np.arange(len(profiles))
    out = cf.candidate_floor(
        world, profiles, logged, oracle=values, logged=cf.logged_values(world, profiles, draws=1)
    )
    assert out["floor"] == pytest.approx(1.0, abs=1e-9)


def test_shared_set_per_profile_sets_and_a_callable_agree(world, profiles) -> None:
    shared = world.style_prototype_actions().to_frame()
    a = cf.best_in_set(world, profiles, shared)
    b = cf.best_in_set(world, profiles, [shared] * len(profiles))
    tagged = pd.concat([shared.assign(profile=i) for i in range(len(profiles))], ignore_index=True)
    c = cf.best_in_set(world, profiles, tagged.sample(frac=1.0, random_state=0))  # order-free
    d = cf.best_in_set(world, profiles, lambda p: shared, budget=7)  # several chunks
    for other in (b, c, d):
        np.testing.assert_allclose(other[0], a[0])
        np.testing.assert_array_equal(other[1], a[1])
    # adding candidates can only lower the floor; uneven per-profile sets are padded correctly
    bigger = [
        shared if i % 2 else pd.concat([shared, shared.iloc[:2]]) for i in range(len(profiles))
    ]
    np.testing.assert_allclose(cf.best_in_set(world, profiles, bigger)[0], a[0])
    assert set(cf.best_in_set(world, profiles, bigger)[2]) == {5, 7}


def test_bad_candidates_are_refused_with_the_reason(world, profiles) -> None:
    shared = world.style_prototype_actions().to_frame()
    with pytest.raises(ValueError, match=r"decision column\(s\) \['posts_per_week'\]"):
        cf.best_in_set(world, profiles, shared.drop(columns="posts_per_week"))
    with pytest.raises(ValueError, match="1 unknown style"):
        cf.best_in_set(world, profiles, shared.replace({"style": {"broadcast": "shouting"}}))
    with pytest.raises(ValueError, match="2 candidate row"):
        cf.best_in_set(world, profiles, shared.iloc[:3].assign(profile=[0, 99, -1]))
    with pytest.raises(ValueError, match="3 candidate sets for 24 profiles"):
        cf.best_in_set(world, profiles, [shared] * 3)
    with pytest.raises(ValueError, match="1 profile"):
        cf.best_in_set(world, profiles, [shared] * (len(profiles) - 1) + [shared.iloc[:0]])
    with pytest.raises(ValueError, match="empty"):
        cf.best_in_set(world, profiles, shared.iloc[:0])


def test_search_oracle_is_at_least_the_grid_oracle_in_the_classic_world() -> None:
    world = SimulatedWorld("hard")
    profiles = world.sample_profiles(8, np.random.default_rng(8))
    search = cf.search_oracle(world, profiles)
    grid = cf.grid_oracle(world, profiles)
    assert (search.value >= grid.value - 1e-9).all()


@pytest.mark.slow  # imports training's settings and fits the product's k-means candidates
def test_product_candidates_give_a_floor_between_zero_and_one() -> None:
    world = EdgeWorld("hard")
    profiles = world.sample_profiles(40, np.random.default_rng(1))
    cands = cf.product_candidates(world.simulate(3000, seed=0))
    assert list(cands.columns) == cf.DECISIONS and len(cands) > 50
    out = cf.candidate_floor(world, profiles, cands)
    assert 0.0 < out["floor"] < 1.0
    assert out["oracle"] > out["best_in_set"] > out["logged"]


def test_policy_quality_grid_covers_both_families() -> None:
    cfg, _ = pq.parse_config([])
    assert cfg.worlds == ["hard", "easy", "flat", "edge-hard", "edge-easy"]
    assert pq.parse_config(["--quick"])[0].worlds == ["hard", "flat", "edge-hard"]
    assert pq.parse_config(["--families", "edge"])[0].worlds == ["edge-hard", "edge-easy"]
    assert pq.parse_config(["--quick", "--families", "classic"])[0].worlds == ["hard", "flat"]
    world = pq.build_world("edge-easy", "style")
    assert isinstance(world, EdgeWorld) and world.decisions == "style"
    assert pq.oracle_grid(pq.build_world("edge-hard", "full")) is None  # continuous search
    assert pq.oracle_grid(pq.build_world("hard", "full")) is not None  # the classic lattice
