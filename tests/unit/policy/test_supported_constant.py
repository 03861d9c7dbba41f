"""A constant policy of scope "supported": the constant action where the profile's cluster
logged enough campaigns near it, the profile's baseline action elsewhere."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from engage.policy.artifact import ArtifactError, load_policy, save_policy
from engage.simulation.world import SimulatedWorld


@pytest.fixture(scope="module")
def context(trained):
    profiles = SimulatedWorld("easy").simulate(60, seed=31)[trained.spec.context_names]
    return trained.builder.encode_context(profiles)


@pytest.fixture(scope="module")
def split_constant(trained, context):
    """A supported constant policy whose action some of the profiles' clusters support and
    others do not (its support threshold set between the clusters' counts)."""
    cluster = trained.clusters.assign(context)
    support = np.asarray(trained.shared_support)[cluster]  # (profiles, shared candidates)
    # the shared candidate whose support differs most between the profiles' clusters
    action = int(trained.shared[np.argmax(support.max(0) - support.min(0))])
    counts = support[:, action]
    threshold = float((counts.min() + counts.max()) / 2)
    policy = dataclasses.replace(
        trained,
        mode="constant",
        constant_action=action,
        min_support_rows=threshold,
        constant_scope="supported",
    )
    style = policy.candidates.style_codes[action]
    supported = (counts >= threshold) & (
        policy.propensities(context)[:, style] >= policy.constant_min_propensity
    )
    assert supported.any() and not supported.all()
    return policy, action, supported


def test_the_training_default_is_the_supported_scope(trained) -> None:
    assert trained.constant_scope == "supported"
    from engage.training.gate.knobs import OPE_CLIP

    # the evaluation's propensity floor: where the gate's estimate weighs rows exactly
    assert trained.constant_min_propensity == OPE_CLIP


def test_the_constant_is_for_supported_profiles_and_the_baseline_for_the_others(
    split_constant, context
) -> None:
    policy, action, supported = split_constant
    rows = policy.constant_rows(context, action)
    baseline = policy.baseline_rows(context)
    np.testing.assert_array_equal(rows, np.where(supported, action, baseline))
    # every shared candidate's column of constant_targets is its constant_rows
    targets = policy.constant_targets(context)
    np.testing.assert_array_equal(targets[:, int(np.flatnonzero(policy.shared == action)[0])], rows)
    # a profile whose propensity of the action's style is below the floor gets its baseline
    unsure = dataclasses.replace(policy, constant_min_propensity=1.01)
    np.testing.assert_array_equal(unsure.constant_rows(context, action), baseline)
    # "everyone": the action for every profile
    everyone = dataclasses.replace(policy, constant_scope="everyone")
    assert (everyone.constant_rows(context, action) == action).all()


def test_answers_say_which_profiles_get_the_constant_and_why_the_others_do_not(
    split_constant, context
) -> None:
    policy, action, supported = split_constant
    baseline = policy.baseline_rows(context)
    answers = policy.recommend_context(context, top_k=3)
    checked = {True: 0, False: 0}
    for a, ok, base in zip(answers, supported, baseline, strict=True):
        first = a.recommendations[0]
        assert a.policy.mode == "constant"
        if ok and first.candidate_index == action:
            assert first.basis == "constant" and a.policy.fallback is None
            checked[True] += 1
        elif not ok and first.candidate_index == base:
            assert first.basis == "baseline" and a.policy.fallback == "outside_support"
            assert "typically do instead" in a.policy.note
            if a.explanation is not None and a.explanation.score_difference < 0:
                assert "typically do" in a.explanation.summary
            checked[False] += 1
        else:  # the pinned action's style is below the support floor for this profile
            assert first.basis == "personalized" and a.policy.fallback is not None
    assert checked[True] and checked[False]


def test_the_scope_round_trips_and_an_unknown_scope_is_refused(
    split_constant, context, tmp_path
) -> None:
    policy, action, _ = split_constant
    save_policy(policy, tmp_path / "supported")
    again = load_policy(tmp_path / "supported")
    assert again.constant_scope == "supported"
    assert again.constant_min_propensity == policy.constant_min_propensity
    np.testing.assert_array_equal(again.choose(context), policy.choose(context))

    fields_file = tmp_path / "supported" / "policy.json"
    fields = json.loads(fields_file.read_text())
    fields["constant_scope"] = "somewhere"
    fields_file.write_text(json.dumps(fields))
    with pytest.raises(ArtifactError, match="constant_scope is 'somewhere'"):
        load_policy(tmp_path / "supported")
