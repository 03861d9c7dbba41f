"""The action search: it stays within the log's support, walks towards better actions, and
gives every cluster its typical action (the baseline)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.contract.spec import load_spec
from engage.policy.encoding import FeatureBuilder
from engage.simulation.world import SimulatedWorld
from engage.training.action_support import ActionSpace, Cell, support_count, support_radius
from engage.training.actions import SearchSettings, n_clusters, search_actions


@pytest.fixture(scope="module")
def setup():
    spec = load_spec()
    log = SimulatedWorld("hard").simulate(2000, seed=5)
    builder = FeatureBuilder(spec)
    context = builder.encode_context(log)
    n_ctx = len(builder.context_names)
    mix = spec.mix_columns
    visual = 1 + mix.index("mix_visual")  # position among the encoded decisions (style first)

    def score(rows: np.ndarray) -> np.ndarray:
        # a world where more visual posts always pay: the search should push the visual share
        return rows[:, n_ctx + visual]

    return spec, log, context, score


def test_cluster_count_grows_with_the_log_within_bounds() -> None:
    assert n_clusters(100, 0) == 4 and n_clusters(10**7, 0) == 40
    assert n_clusters(20_000, 0) == 28 and n_clusters(5_000, 7) == 7


@pytest.fixture(scope="module")
def found(setup):
    spec, log, context, score = setup
    settings = SearchSettings(clusters=4, rounds=3, profiles=8, pool=16, min_support_rows=5)
    return search_actions(spec, log, context, score, settings)


def test_searched_actions_stay_within_support_and_improve(setup, found) -> None:
    spec, log, context, score = setup
    c = found.candidates
    searched = np.asarray(c.kind) == "search"
    assert searched.any() and (np.asarray(c.support_rows)[searched] >= 5).all()
    # every searched action is a distribution over content types
    shares = c.frame[spec.mix_columns].to_numpy(float)
    np.testing.assert_allclose(shares.sum(1), 1.0, atol=1e-3)
    assert (shares >= -1e-9).all()
    # towards more visual posts than what marketers typically do, cluster by cluster
    typical = np.asarray(c.kind) == "typical"
    for g in np.unique(c.group):
        best = c.frame.loc[(c.group == g) & searched, "mix_visual"].max()
        usual = c.frame.loc[(c.group == g) & typical, "mix_visual"].max()
        assert best > usual
    # but never past what was tried: at most a support radius beyond the logged visual shares
    # (here far less than one refinement step of 0.1)
    assert c.frame["mix_visual"].max() <= log["mix_visual"].max() + 0.03


def test_without_refinement_the_candidates_are_logged_actions(setup) -> None:
    spec, log, context, score = setup
    settings = SearchSettings(clusters=4, rounds=0, profiles=8, pool=16)
    found = search_actions(spec, log, context, score, settings)
    searched = found.candidates.frame[np.asarray(found.candidates.kind) == "search"]
    logged = {tuple(np.round(r, 4)) for r in log[spec.decision_names[1:]].to_numpy(float)}
    assert all(
        tuple(np.round(r, 4)) in logged for r in searched[spec.decision_names[1:]].to_numpy(float)
    )


def test_each_cluster_has_a_typical_action_per_style_as_its_baseline(setup, found) -> None:
    spec, log, context, score = setup
    c = found.candidates
    assert found.baseline.shape == (4, len(spec.styles))
    for g in range(4):
        for k, style in enumerate(spec.styles):
            row = found.baseline[g, k]
            assert row >= 0 and c.kind[row] == "typical" and c.group[row] == g
            assert c.frame[spec.style.name].iloc[row] == style


def test_a_step_moves_mix_between_content_types_and_keeps_cadence_in_range(setup) -> None:
    spec, log, _, _ = setup
    space = ActionSpace(spec, log)
    action = log[spec.decision_names].iloc[0].to_dict()
    steps = space.steps(action)
    assert steps
    for s in steps:
        total = sum(float(s[c]) for c in spec.mix_columns)
        assert total == pytest.approx(1.0, abs=1e-3)
        for name in space.numeric:
            assert log[name].min() - 1e-9 <= float(s[name]) <= log[name].max() + 1e-9
    assert pd.DataFrame(steps).drop_duplicates().shape[0] == len(steps)


def test_support_radius_and_counts_are_the_brute_force_ones(setup) -> None:
    # the KD-tree neighbour search gives exactly the dense pairwise answer
    spec, log, _, _ = setup
    space = ActionSpace(spec, log)
    rows = np.flatnonzero(log[spec.style.name].astype(str).to_numpy() == spec.styles[0])[:300]
    vec, cats = space.vectors(log)[rows], space.categories(log)[rows]
    d = np.sqrt(((vec[:, None, :] - vec[None, :, :]) ** 2).sum(-1))
    d[cats[:, None] != cats[None, :]] = np.inf
    np.fill_diagonal(d, np.inf)
    kth = np.sort(d, axis=1)[:, 4]
    radius = support_radius(vec, cats, 5)
    assert radius == float(np.median(kth[np.isfinite(kth)]))
    cell = Cell(0, spec.styles[0], vec, cats, radius, np.zeros((1, 1)), {}, [], [])
    actions = log.iloc[:200][spec.decision_names].to_dict("records")
    v, c = space.vectors(log.iloc[:200]), space.categories(log.iloc[:200])
    dist = np.sqrt(((v[:, None, :] - vec[None, :, :]) ** 2).sum(-1))
    expected = ((dist <= radius + 1e-9) & (c[:, None] == cats[None, :])).sum(1)
    np.testing.assert_array_equal(support_count(cell, actions, space), expected)
