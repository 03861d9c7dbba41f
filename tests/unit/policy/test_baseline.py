"""The searched policy's support, its per-profile fallback and the baseline policy."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engage.simulation.world import SimulatedWorld


@pytest.fixture(scope="module")
def context(trained):
    profiles = SimulatedWorld("easy").simulate(40, seed=21)[trained.spec.context_names]
    return trained.builder.encode_context(profiles)


def test_a_profile_gets_the_shared_grid_and_its_clusters_candidates(trained, context) -> None:
    assert trained.clusters is not None
    index, valid = trained.candidate_index(context)
    cluster = trained.clusters.assign(context)
    group = np.asarray(trained.candidates.group)
    for i in range(len(context)):
        # the shared grid of logged prototypes (-1) and its own cluster's searched actions
        assert set(group[index[i][valid[i]]]) == {-1, cluster[i]}


def test_every_answer_reports_the_similar_campaigns_near_its_action(trained, context) -> None:
    answers = trained.recommend_context(context[:5], explain=False)
    for a in answers:
        for r in a.recommendations:
            assert r.support.similar_campaigns is not None
            assert r.to_dict()["support"]["similar_campaigns"] == r.support.similar_campaigns


def test_thinly_supported_searched_actions_are_never_recommended(trained, context) -> None:
    strict = dataclasses.replace(trained, min_support_rows=1e9)  # no searched action qualifies
    chosen = strict.choose(context)
    assert not (np.asarray(strict.candidates.kind)[chosen] == "search").any()
    loose = trained.choose(context)
    assert (np.asarray(trained.candidates.kind)[loose] == "search").any()


def test_a_baseline_policy_puts_what_similar_marketers_typically_do_first(trained, context) -> None:
    baseline = dataclasses.replace(trained, mode="baseline")
    rows = baseline.baseline_rows(context)
    assert (rows >= 0).all() and (np.asarray(baseline.candidates.kind)[rows] == "typical").all()
    answers = baseline.recommend_context(context, top_k=3)
    for a, row in zip(answers, rows, strict=True):
        first = a.recommendations[0]
        assert first.candidate_index == row and first.basis == "baseline"
        assert a.policy.mode == "baseline" and "typically do" in a.policy.note
        if a.explanation is not None and a.explanation.score_difference < 0:
            # ranked first for what it is, not for its score: the words must say so
            assert "typically do" in a.explanation.summary
    # its other recommendations are still ranked by score
    for a in answers:
        rest = [r.score for r in a.recommendations[1:]]
        assert rest == sorted(rest, reverse=True)


def test_an_interval_never_leaves_the_outcomes_declared_range(trained, context) -> None:
    spec = trained.spec
    first = spec.outcomes[0]
    bounded = spec.model_copy(
        update={
            "outcomes": [first.model_copy(update={"min": -1.0, "max": 1.0}), *spec.outcomes[1:]]
        }
    )
    policy = dataclasses.replace(trained, spec=bounded)
    for a in policy.recommend_context(context[:5], explain=False):
        for r in a.recommendations:
            f = r.predicted[first.name]
            assert f.low >= -1.0 and f.high <= 1.0


def test_a_searched_policy_round_trips_through_its_artifact(trained, context, tmp_path) -> None:
    from engage.policy import FORMAT_VERSION
    from engage.policy.artifact import load_policy, read_format, save_policy

    for mode in ("personalized", "baseline", "logging"):
        policy = dataclasses.replace(trained, mode=mode)
        save_policy(policy, tmp_path / mode)
        assert read_format(tmp_path / mode) == FORMAT_VERSION
        again = load_policy(tmp_path / mode)
        np.testing.assert_array_equal(again.baseline, policy.baseline)
        np.testing.assert_array_equal(again.candidates.group, policy.candidates.group)
        assert again.choose(context).tolist() == policy.choose(context).tolist()
        assert [a.to_dict() for a in again.recommend_context(context[:4])] == [
            a.to_dict() for a in policy.recommend_context(context[:4])
        ]
