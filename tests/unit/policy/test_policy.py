"""The Policy facade: its public names, its constructor fields and derived state."""

from __future__ import annotations

import dataclasses

import pytest

import engage.policy.policy as policy_module
from engage.policy.constraints import ConstraintError, Constraints
from engage.policy.narration import support_level
from engage.policy.scoring import StyleCorrections, weighted

FIELDS = [
    "spec",
    "outcome_models",
    "propensity_model",
    "candidates",
    "typical_actions",
    "propensity_temperature",
    "min_propensity",
    "pessimism",
    "n_train",
    "score_sd",
    "mode",
    "constant_action",
    "interval_halfwidth",
    "interval_level",
    "metadata",
    "style_corrections",
    "objective",
    "min_support_rows",
    "interval_model",
    "constant_scope",
    "constant_min_propensity",
    "clusters",
    "baseline",
    "shared_support",
]


def test_constructor_fields_are_the_artifacts() -> None:
    assert [f.name for f in dataclasses.fields(policy_module.Policy)] == FIELDS


def test_old_import_paths_still_work() -> None:
    assert policy_module.StyleCorrections is StyleCorrections
    assert policy_module.Constraints is Constraints
    assert policy_module.ConstraintError is ConstraintError
    assert policy_module.support_level is support_level
    assert policy_module.weighted is weighted


def test_replace_rebuilds_the_derived_state(tiny) -> None:
    fewer = dict(list(tiny.policy.outcome_models.items())[:2])
    policy = tiny.variant(outcome_models=fewer, style_corrections=None)
    assert policy.predictor.outcomes == tuple(fewer)
    assert policy.weights().shape == (2,)
    answer = policy.recommend(tiny.profiles.head(2))[0]
    assert list(answer.recommendations[0].predicted) == list(fewer)
    e = answer.explanation
    assert e.contributions_sum == pytest.approx(e.score_difference, abs=1e-9)


def test_mode_is_read_on_every_call(tiny) -> None:
    policy = tiny.variant()
    policy.mode = "constant"  # training sets the mode after building the policy
    assert policy.recommend(tiny.profiles.head(1))[0].policy.mode == "constant"
