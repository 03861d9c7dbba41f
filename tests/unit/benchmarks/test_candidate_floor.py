"""The policy-quality benchmark's candidate floor (``best_reachable_values``) and its world names."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.policy_quality as pq  # noqa: E402
from engage.simulation.families import EdgeWorld, make_world  # noqa: E402
from engage.simulation.world import Actions, SimulatedWorld  # noqa: E402


@pytest.fixture(scope="module", params=["classic", "edge"])
def world(request) -> SimulatedWorld:
    return make_world(request.param, "hard")


@pytest.fixture(scope="module")
def profiles(world: SimulatedWorld):
    return world.sample_profiles(30, np.random.default_rng(12345))


@pytest.fixture(scope="module")
def grid(world: SimulatedWorld):
    """A small shared candidate set: every style at a few mixes and cadences."""
    return world.action_grid(mix_step=0.5, cadences=(2.0, 8.0)).to_frame()


def _values(world, profiles, grid) -> np.ndarray:
    """The true objective of every candidate for every profile, (n, k), one at a time."""
    out = np.empty((len(profiles), len(grid)))
    for j in range(len(grid)):
        one = Actions.from_frame(grid.iloc[[j] * len(profiles)].reset_index(drop=True))
        out[:, j] = world.expected_outcomes(profiles, one)["objective"].to_numpy()
    return out


def test_every_candidate_allowed_gives_the_best_of_the_set(world, profiles, grid) -> None:
    index = np.tile(np.arange(len(grid)), (len(profiles), 1))
    allowed = np.ones_like(index, dtype=bool)
    best = pq.best_reachable_values(world, profiles, grid, index, allowed)
    np.testing.assert_allclose(best, _values(world, profiles, grid).max(1))
    _, oracle = world.best_actions(profiles, Actions.from_frame(grid))  # the world's own argmax
    np.testing.assert_allclose(best, oracle)


def test_a_candidate_not_allowed_is_never_reached(world, profiles, grid) -> None:
    values = _values(world, profiles, grid)
    index = np.tile(np.arange(len(grid)), (len(profiles), 1))
    allowed = np.ones_like(index, dtype=bool)
    allowed[np.arange(len(profiles)), values.argmax(1)] = False  # each profile's best is masked
    best = pq.best_reachable_values(world, profiles, grid, index, allowed)
    second = np.sort(values, axis=1)[:, -2]
    np.testing.assert_allclose(best, second)
    assert (best < values.max(1)).any()


def test_per_profile_rows_chunks_and_empty_sets(world, profiles, grid) -> None:
    values = _values(world, profiles, grid)
    rng = np.random.default_rng(0)
    index = rng.integers(0, len(grid), size=(len(profiles), 5))  # each profile its own rows
    allowed = rng.random(index.shape) < 0.7
    allowed[0] = False  # a profile the policy can recommend nothing to
    expected = np.where(allowed, np.take_along_axis(values, index, 1), -np.inf).max(1)
    for budget in (10_000, 7):  # one chunk, then one profile or so at a time
        best = pq.best_reachable_values(world, profiles, grid, index, allowed, budget=budget)
        np.testing.assert_allclose(best, expected)
    assert best[0] == -np.inf


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
