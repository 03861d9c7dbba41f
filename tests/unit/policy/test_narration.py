"""The policy's sentences, one test per branch."""

from __future__ import annotations

import numpy as np
import pytest

from engage.policy.narration import (
    Narrator,
    _fmt,
    _label,
    context_value,
    policy_note,
    support_level,
)
from engage.policy.results import PolicyNote

A = {"style": "community", "mix_visual": 0.52, "posts_per_week": 8.3, "channel": "stories"}
B = {"style": "broadcast", "mix_visual": 0.2, "posts_per_week": 16.3, "channel": "feed"}


@pytest.fixture(scope="module")
def narrator(tiny) -> Narrator:
    return Narrator(tiny.spec)


def test_support_sentence_when_the_runner_up_is_less_certain(narrator) -> None:
    assert narrator.support_sentence(A, B, 0.25) == (
        "The log holds more campaigns like this for community than for broadcast, so its "
        "estimate is surer; the less certain broadcast estimate is discounted by 0.25."
    )


def test_support_sentence_when_the_choice_is_less_certain(narrator) -> None:
    assert narrator.support_sentence(A, B, -0.4) == (
        "Fewer businesses like this have tried community, so its estimate is discounted by "
        "0.40 more than broadcast's; it still comes out ahead."
    )


def test_style_sentence(narrator) -> None:
    b = {**B, "style": "thought_leadership"}
    assert narrator.factor_sentence("style", 0.5, A, b) == (
        "For a business like this, community itself is worth +0.50 against thought leadership."
    )


@pytest.mark.parametrize(("value", "verb"), [(0.34, "adds"), (-0.34, "costs")])
def test_mix_sentence(narrator, value, verb) -> None:
    assert narrator.factor_sentence("mix_visual", value, A, B) == (
        f"A visual share of 52% instead of 20% of posts {verb} 0.34 objective points."
    )


def test_numeric_decision_sentence(narrator) -> None:
    assert narrator.factor_sentence("posts_per_week", 0.12, A, B) == (
        "Cadence of 8.3 instead of 16.3 adds 0.12 objective points."
    )


def test_categorical_decision_sentence_drops_the_article_and_unit_note(narrator) -> None:
    assert narrator.factor_sentence("channel", -0.2, A, B) == (
        "Channel of stories instead of feed costs 0.20 objective points."
    )


@pytest.mark.parametrize(
    ("name", "profile_value", "value", "expected"),
    [
        (
            "followers",
            12500.0,
            0.3,
            "Following of 12,500 favours community over broadcast by 0.30 points.",
        ),
        (
            "innovation",
            0.25,
            -0.1,
            "Product innovation of 0.25 counts against community over broadcast by 0.10 points.",
        ),
        (
            "sales_cycle_days",
            3.0,
            0.05,
            "Sales cycle of 3.0 favours community over broadcast by 0.05 points.",
        ),
        (
            "industry",
            "software",
            0.2,
            "Industry of software favours community over broadcast by 0.20 points.",
        ),
    ],
)
def test_profile_feature_sentence(narrator, name, profile_value, value, expected) -> None:
    assert narrator.factor_sentence(name, value, A, B, profile_value) == expected


def test_label_without_a_description_uses_the_name(tiny) -> None:
    assert _label(tiny.spec, "not_a_column") == "Not a column"
    assert _label(tiny.spec, "followers") == "Following"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12500.0, "12,500"),
        (np.float64(-250.0), "-250"),
        (0.256, "0.26"),
        (3.14159, "3.1"),
        (7, "7"),
        ("x", "x"),
    ],
)
def test_numbers_are_written_as_a_person_would(value, text) -> None:
    assert _fmt(value) == text


@pytest.mark.parametrize(
    ("propensity", "word"),
    [
        (0.5, "good"),
        (0.15, "good"),
        (0.1, "limited"),
        (0.05, "limited"),
        (0.01, "poor"),
        (0.0, "poor"),
    ],
)
def test_support_level_words(propensity, word) -> None:
    assert support_level(propensity) == word


def test_policy_notes() -> None:
    assert policy_note("personalized") == PolicyNote(
        "personalized", "Recommendations are personalised to the profile."
    )
    constant = policy_note("constant")
    assert constant.mode == "constant" and "did not beat the best single action" in constant.note


def test_policy_note_follows_the_mode_field(tiny) -> None:
    assert tiny.policy.policy_note().mode == "personalized"
    assert tiny.variant(mode="constant").policy_note() == policy_note("constant")


def test_context_value_decodes_categories(tiny) -> None:
    assert context_value(tiny.spec, "market", 1.0) == "b2b"
    assert context_value(tiny.spec, "followers", np.float64(12.0)) == 12.0
    assert isinstance(context_value(tiny.spec, "followers", np.float64(12.0)), float)
