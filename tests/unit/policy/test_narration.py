"""The policy's sentences, one test per branch, in the spec's units, labels and nouns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engage.contract.spec import load_spec
from engage.policy.narration import (
    Gap,
    Narrator,
    ScoreUnit,
    _fmt,
    _label,
    context_value,
    plural,
    policy_note,
    support,
    support_level,
)
from engage.policy.results import PolicyNote, Support

A = {"style": "community", "mix_visual": 0.52, "posts_per_week": 8.3, "channel": "stories"}
B = {"style": "broadcast", "mix_visual": 0.2, "posts_per_week": 16.3, "channel": "feed"}
FACEBOOK = Path(__file__).resolve().parents[3] / "examples" / "facebook_metrics.yaml"
PHOTO = {"Type": "Photo", "Category": "2", "Paid": "1"}
STATUS = {"Type": "Status", "Category": "1", "Paid": "0"}
POINTS = ScoreUnit("points", "points: 1 × conversions")


@pytest.fixture(scope="module")
def narrator(tiny) -> Narrator:
    return Narrator(tiny.spec)


@pytest.fixture(scope="module")
def facebook() -> Narrator:
    return Narrator(load_spec(FACEBOOK))


def test_support_sentence_when_the_runner_up_is_less_certain(narrator) -> None:
    assert narrator.support_sentence(A, B, 0.25) == (
        "The log holds more campaigns like this with community than with broadcast, so the "
        "community estimate is surer; the less certain broadcast estimate is discounted by "
        "0.25 points more."
    )


def test_support_sentence_when_the_choice_is_less_certain(narrator) -> None:
    """It states the discount and claims nothing about who comes out ahead."""
    assert narrator.support_sentence(A, B, -0.4) == (
        "The log holds fewer campaigns like this with community than with broadcast, so the "
        "community estimate is discounted by 0.40 points more."
    )


def test_a_log_of_one_brands_posts_reads_posts_and_brand(facebook) -> None:
    support_text = facebook.support_sentence(PHOTO, STATUS, 3.0)
    style_text = facebook.factor_sentence("Type", 2.5, PHOTO, STATUS)
    assert support_text.startswith("The log holds more posts like this with Photo than with Status")
    assert style_text == "For this brand, Photo itself is worth +2.50 points against Status."
    for text in (support_text, style_text):
        assert "business" not in text and "campaign" not in text


def test_style_sentence(narrator) -> None:
    b = {**B, "style": "thought_leadership"}
    assert narrator.factor_sentence("style", 0.5, A, b) == (
        "For this business, community itself is worth +0.50 points against thought leadership."
    )


@pytest.mark.parametrize(("value", "verb"), [(0.34, "adds"), (-0.34, "costs")])
def test_mix_sentence(narrator, value, verb) -> None:
    assert narrator.factor_sentence("mix_visual", value, A, B) == (
        f"A visual share of 52% instead of 20% of posts {verb} 0.34 points."
    )


def test_numeric_decision_sentence_states_the_unit_once(narrator) -> None:
    assert narrator.factor_sentence("posts_per_week", 0.12, A, B) == (
        "Cadence: 8.3 instead of 16.3 posts per week adds 0.12 points."
    )


def test_categorical_decision_sentence_drops_the_article_and_unit_note(narrator) -> None:
    assert narrator.factor_sentence("channel", -0.2, A, B) == (
        "Channel: stories instead of main feed costs 0.20 points."
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        (
            "channel",
            0.3,
            "Channel: main feed in both is worth 0.30 points more alongside community than "
            "alongside broadcast.",
        ),
        (
            "mix_visual",
            -0.1,
            "A visual share of 20% in both is worth 0.10 points less alongside community than "
            "alongside broadcast.",
        ),
        (
            "posts_per_week",
            0.2,
            "Cadence: 16.3 posts per week in both is worth 0.20 points more alongside community "
            "than alongside broadcast.",
        ),
    ],
)
def test_a_decision_both_share_can_still_weigh_through_the_style(
    narrator, name, value, expected
) -> None:
    """TreeSHAP gives a shared value a share when the trees split on it with the style."""
    a = {**A, name: B[name]}
    assert narrator.factor_sentence(name, value, a, B) == expected


def test_categorical_codes_read_as_their_labels(facebook) -> None:
    assert facebook.factor_sentence("Category", -3.0, PHOTO, STATUS) == (
        "Category: product (direct advertisement) instead of action (special offers and "
        "contests) costs 3.00 points."
    )
    assert facebook.factor_sentence("Paid", 4.0, PHOTO, STATUS) == (
        "Promotion: paid instead of organic adds 4.00 points."
    )


@pytest.mark.parametrize(
    ("name", "profile_value", "value", "expected"),
    [
        (
            "followers",
            12500.0,
            0.3,
            "Following (12,500 followers) favours community over broadcast by 0.30 points.",
        ),
        (
            "innovation",
            0.25,
            -0.1,
            "Product innovation (0.25 on a 0-1 scale) favours broadcast over community by "
            "0.10 points.",
        ),
        (
            "sales_cycle_days",
            3.0,
            0.05,
            "Sales cycle (3 days) favours community over broadcast by 0.05 points.",
        ),
        (
            "industry",
            "niche_consumer",
            0.2,
            "Industry (niche consumer) favours community over broadcast by 0.20 points.",
        ),
    ],
)
def test_profile_feature_sentence(narrator, name, profile_value, value, expected) -> None:
    assert narrator.factor_sentence(name, value, A, B, profile_value) == expected


def test_sentences_speak_in_the_objectives_unit(narrator) -> None:
    unit = "conversions per 1,000 followers"
    assert narrator.factor_sentence("mix_visual", 0.34, A, B, points=unit).endswith(
        "adds 0.34 conversions per 1,000 followers."
    )


def test_score_unit_is_the_outcomes_unit_when_the_objective_is_that_outcome(narrator) -> None:
    outcomes = ["conversions", "engagement_rate", "follower_growth", "retention_30d"]
    alone = narrator.score_unit(outcomes, np.array([1.0, 0.0, 0.0, 0.0]))
    assert alone == ScoreUnit("conversions per 1,000 followers", "conversions per 1,000 followers")
    mixed = narrator.score_unit(outcomes, np.array([1.0, 0.5, 0.0, -0.05]))
    assert mixed == ScoreUnit(
        "points",
        "points: 1 × conversions per 1,000 followers + 0.5 × % engagement rate "
        "- 0.05 × % of new followers retained after 30 days",
    )


def test_an_outcome_without_a_unit_is_named(facebook) -> None:
    spec = facebook.spec.model_copy(
        update={"outcomes": [o.model_copy(update={"unit": ""}) for o in facebook.spec.outcomes]}
    )
    unit = Narrator(spec).score_unit(["Total Interactions"], np.array([2.0]))
    assert unit == ScoreUnit("points", "points: 2 × Total Interactions")


def _gap(difference: float, pinned: bool = False, unit: ScoreUnit = POINTS) -> Gap:
    return Gap(
        difference, (("conversions", 10.75, 9.4), ("engagement_rate", 3.2, 4.86)), unit, pinned
    )


def test_summary_states_the_gap_in_the_outcomes_units(narrator) -> None:
    assert narrator.summary(A, B, _gap(0.944)) == (
        "For this business, community scores 0.94 points above broadcast (10.8 against 9.4 "
        "conversions per 1,000 followers, 3.2 against 4.9 % engagement rate)."
    )


def test_summary_of_two_actions_of_one_style(narrator) -> None:
    assert narrator.summary(A, {**B, "style": "community"}, _gap(0.5)).startswith(
        "For this business, this community action scores 0.50 points above the next community "
        "action ("
    )


def test_summary_of_a_near_tie_and_a_tie(narrator) -> None:
    assert narrator.summary(A, B, _gap(0.001)).startswith(
        "For this business, community is ahead of broadcast by less than 0.01 points: "
        "practically a tie ("
    )
    assert narrator.summary(A, B, _gap(0.0)).startswith(
        "For this business, community and broadcast score the same ("
    )
    assert " below broadcast " in narrator.summary(A, B, _gap(-0.5))


def test_summary_of_a_constant_action_that_scores_lower_says_why_it_is_first(narrator) -> None:
    text = narrator.summary(A, B, _gap(-3.04, pinned=True))
    assert text.startswith(
        "Community comes first because it is the shipped constant action, not because of its "
        "score: for this business the model scores it 3.04 points below broadcast ("
    )
    assert text.endswith(
        "but no personalised plan was confirmed better than what marketers did on held-out data."
    )
    assert " above " in narrator.summary(A, B, _gap(1.0, pinned=True))


@pytest.mark.parametrize(
    ("count", "rest", "dominates", "expected"),
    [
        (0, 0.0, "", ""),
        (1, 0.1, "", "1 smaller factor together add 0.10 points."),
        (12, -0.35, "", "12 smaller factors together cost 0.35 points."),
        (
            16,
            0.63,
            "any factor listed",
            "16 smaller factors together add 0.63 points: more than any factor listed; the "
            "difference comes from many small effects rather than a few.",
        ),
    ],
)
def test_others_sentence(narrator, count, rest, dominates, expected) -> None:
    assert narrator.others_sentence(count, rest, dominates, "points") == expected


def test_action_in_a_few_words(narrator, facebook, policy) -> None:
    row = policy.candidates.frame.iloc[0].to_dict()
    text = narrator.action(row)
    assert text.startswith(narrator.style(row["style"]) + " (")
    assert "% " in text and "posts per week" in text and "Channel: " in text
    assert (
        facebook.action(PHOTO)
        == "Photo (Category: product (direct advertisement); Promotion: paid)"
    )
    assert (
        Narrator(
            facebook.spec.model_copy(
                update={"decision": facebook.spec.decision.model_copy(update={"extra": []})}
            )
        ).action(PHOTO)
        == "Photo"
    )


def test_label_without_a_description_uses_the_name(tiny) -> None:
    assert _label(tiny.spec, "not_a_column") == "Not a column"
    assert _label(tiny.spec, "followers") == "Following"


def test_value_of_a_column_the_spec_does_not_declare(narrator) -> None:
    assert narrator.value("not_a_column", 3.0) == "3"


@pytest.mark.parametrize(
    ("noun", "expected"),
    [
        ("campaign", "campaigns"),
        ("business", "businesses"),
        ("post", "posts"),
        ("company", "companies"),
        ("day", "days"),
    ],
)
def test_plurals(noun, expected) -> None:
    assert plural(noun) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (12500.0, "12,500"),
        (np.float64(-250.0), "-250"),
        (0.256, "0.26"),
        (3.14159, "3.1"),
        (3.0, "3"),
        (7, "7"),
        ("x", "x"),
    ],
)
def test_numbers_are_written_as_a_person_would(value, text) -> None:
    assert _fmt(value) == text


@pytest.mark.parametrize(
    ("propensity", "floor", "word"),
    [
        (0.5, 0.005, "good"),
        (0.15, 0.005, "good"),
        (0.1, 0.005, "limited"),
        (0.02, 0.005, "limited"),
        (0.005, 0.005, "limited"),
        (0.004, 0.005, "poor"),
        (0.0, 0.0, "limited"),
        (0.3, 0.4, "poor"),
        (0.4, 0.4, "good"),
    ],
)
def test_support_level_words(propensity, floor, word) -> None:
    assert support_level(propensity, floor) == word


@pytest.mark.parametrize("propensity", [0.0, 0.004, 0.005, 0.02, 0.1, 0.2, 0.9])
def test_poor_support_is_exactly_outside_the_support(propensity) -> None:
    s = support(propensity, 0.005)
    assert s == Support(propensity=propensity, level=s.level, within_support=propensity >= 0.005)
    assert (s.level == "poor") == (not s.within_support)


def test_policy_notes() -> None:
    assert policy_note("personalized") == PolicyNote(
        mode="personalized",
        note="Recommendations are personalised to the profile and ranked by their score.",
    )
    constant = policy_note("constant")
    assert constant.mode == "constant" and "better than what marketers did" in constant.note
    assert "whatever its score" in constant.note and constant.fallback is None
    named = policy_note("constant", "Status (Promotion: organic)")
    assert named.note.endswith("The constant action is Status (Promotion: organic).")


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("outside_constraints", "outside the constraints given"),
        ("outside_support", "too few brands like this chose Status"),
    ],
)
def test_policy_note_says_why_the_constant_action_is_not_first(reason, words) -> None:
    note = policy_note("constant", "Status", reason, subjects="brands", style="Status")
    assert note.fallback == reason and words in note.note
    assert "the first recommendation is the best-scoring" in note.note


def test_a_supported_constant_says_the_profile_gets_its_baseline_instead() -> None:
    note = policy_note(
        "constant", "Status", "outside_support", to_baseline=True, subjects="brands", style="Status"
    )
    assert note.fallback == "outside_support"
    assert "too few brands like this ran campaigns like it" in note.note
    assert note.note.endswith("what marketers of similar brands typically do instead.")


def test_policy_note_follows_the_mode_field(tiny) -> None:
    assert tiny.policy.policy_note().mode == "personalized"
    assert tiny.variant(mode="constant").policy_note() == policy_note("constant")


def test_context_value_decodes_categories(tiny) -> None:
    assert context_value(tiny.spec, "market", 1.0) == "b2b"
    assert context_value(tiny.spec, "followers", np.float64(12.0)) == 12.0
    assert isinstance(context_value(tiny.spec, "followers", np.float64(12.0)), float)
