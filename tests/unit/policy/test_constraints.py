"""Constraints and the support floor: what a profile may be recommended."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.policy.constraints import ConstraintError, Constraints, allowed_actions

STYLES = ["broadcast", "conversational", "customer_care", "thought_leadership", "community"]
MIXES = ["mix_promotional", "mix_educational", "mix_conversational", "mix_visual", "mix_curated"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "style": ["broadcast", "community", "community", "conversational"],
            "mix_promotional": [0.5, 0.1, 0.3, 0.2],
            "posts_per_week": [3.0, 8.0, 12.0, 8.000000001],
            "channel": ["feed", "stories", "feed", "stories"],
        }
    )


@pytest.fixture(scope="module")
def spec(tiny):
    return tiny.spec


@pytest.mark.parametrize(
    ("constraints", "expected"),
    [
        (Constraints(), [True, True, True, True]),
        (Constraints(styles=["community"]), [False, True, True, False]),
        (Constraints(styles=[]), [False, False, False, False]),
        (Constraints(numeric_max={"posts_per_week": 8}), [True, True, False, True]),
        (Constraints(numeric_min={"posts_per_week": 8}), [False, True, True, True]),
        (Constraints(categorical={"channel": ["feed"]}), [True, False, True, False]),
        (Constraints(mix_max={"mix_promotional": 0.2}), [False, True, False, True]),
        (
            Constraints(styles=["community", "broadcast"], numeric_max={"posts_per_week": 10}),
            [True, True, False, False],
        ),
    ],
)
def test_mask_applies_each_kind_of_constraint(spec, constraints, expected) -> None:
    assert constraints.mask(_frame(), spec).tolist() == expected


def test_describe_names_only_the_constraints_set() -> None:
    assert Constraints().describe() == "none"
    text = Constraints(styles=["community"], numeric_max={"posts_per_week": 2}).describe()
    assert text == "styles=['community'], numeric_max={'posts_per_week': 2}"
    assert Constraints(styles=[]).describe() == "styles=[]"


def test_support_floor_keeps_supported_styles_only(tiny) -> None:
    policy, ctx = tiny.policy, tiny.context
    prop = policy.propensities(ctx)
    style_prop = prop[:, policy.candidates.style_codes]
    ranking = policy.rank(ctx)
    has_support = (style_prop >= policy.min_propensity).any(1)
    assert has_support.all()  # the fixture's floor leaves every profile some style
    np.testing.assert_array_equal(ranking.allowed, style_prop >= policy.min_propensity)
    assert (style_prop < policy.min_propensity).any()  # and the floor does bite
    for answer, p in zip(policy.recommend(tiny.profiles), prop, strict=True):
        for rec in answer.recommendations:
            assert rec.support.within_support
            assert rec.support.propensity == p[policy.spec.styles.index(rec.style)]


def test_without_support_the_best_supported_style_is_the_fallback(tiny) -> None:
    policy = tiny.variant(min_propensity=0.99)  # no style reaches it
    prop = policy.propensities(tiny.context)
    for answer, p in zip(policy.recommend(tiny.profiles, top_k=5), prop, strict=True):
        best = policy.spec.styles[int(p.argmax())]
        assert {rec.style for rec in answer.recommendations} == {best}
        assert not any(rec.support.within_support for rec in answer.recommendations)


def test_fallback_respects_the_constraints(tiny) -> None:
    policy = tiny.variant(min_propensity=0.99)
    prop = policy.propensities(tiny.context)
    allowed = ["broadcast", "community"]
    answers = policy.recommend(tiny.profiles, constraints=Constraints(styles=allowed))
    codes = [policy.spec.styles.index(s) for s in allowed]
    for answer, p in zip(answers, prop, strict=True):
        best = allowed[int(np.argmax(p[codes]))]
        assert answer.recommendations[0].style == best


def test_allowed_actions_falls_back_per_profile(spec) -> None:
    prop = np.array([[0.6, 0.3, 0.1], [0.02, 0.03, 0.95], [0.01, 0.01, 0.98]])
    frame = pd.DataFrame({"style": ["a", "b", "c", "c"]})
    codes = np.array([0, 1, 2, 2])
    no_c = Constraints(styles=["a", "b"])
    mask = allowed_actions(prop, frame, codes, spec, constraints=no_c, min_propensity=0.05)
    # profile 0: a and b supported; 1 and 2: neither, so the better supported of a and b
    assert mask.tolist() == [
        [True, True, False, False],
        [False, True, False, False],
        [True, True, False, False],  # a tie: both kept
    ]


def test_unsatisfiable_constraints_raise_a_clear_error(policy, tiny) -> None:
    impossible = Constraints(styles=["community"], numeric_max={"posts_per_week": 0.5})
    with pytest.raises(ConstraintError) as err:
        policy.recommend(tiny.profiles.head(2), constraints=impossible)
    message = str(err.value)
    assert message.startswith("no candidate action satisfies the constraints")
    assert "styles=['community']" in message and "'posts_per_week': 0.5" in message
    with pytest.raises(ConstraintError):
        policy.choose(tiny.context[:2], constraints=impossible)


def test_an_empty_candidate_set_is_a_constraint_error(spec) -> None:
    frame = pd.DataFrame({"style": pd.Series([], dtype=str)})
    with pytest.raises(ConstraintError, match="candidate set is empty"):
        allowed_actions(
            np.ones((1, 1)),
            frame,
            np.array([], dtype=int),
            spec,
            constraints=None,
            min_propensity=0.0,
        )


@st.composite
def constraints(draw: st.DrawFn) -> Constraints:
    out = Constraints()
    if draw(st.booleans()):
        out.styles = draw(st.lists(st.sampled_from(STYLES), unique=True, max_size=5))
    if draw(st.booleans()):
        out.numeric_max["posts_per_week"] = draw(st.floats(0.0, 40.0))
    if draw(st.booleans()):
        out.numeric_min["posts_per_week"] = draw(st.floats(0.0, 40.0))
    if draw(st.booleans()):
        out.categorical["channel"] = draw(
            st.lists(st.sampled_from(["feed", "stories"]), unique=True, max_size=2)
        )
    if draw(st.booleans()):
        out.mix_max[draw(st.sampled_from(MIXES))] = draw(st.floats(0.0, 0.7))
    return out


def _satisfies(rec, c: Constraints) -> bool:
    tol = 1e-9
    return (
        (c.styles is None or rec.style in c.styles)
        and all(rec.decisions[n] <= hi + tol for n, hi in c.numeric_max.items())
        and all(rec.decisions[n] >= lo - tol for n, lo in c.numeric_min.items())
        and all(rec.decisions[n] in allowed for n, allowed in c.categorical.items())
        and all(rec.posting_mix[n.removeprefix("mix_")] <= hi + tol for n, hi in c.mix_max.items())
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(c=constraints(), rows=st.lists(st.integers(0, 39), min_size=1, max_size=4))
def test_every_recommendation_satisfies_random_constraints_or_the_error_is_clear(
    tiny, c, rows
) -> None:
    policy = tiny.policy
    mask = c.mask(policy.candidates.frame, policy.spec)
    try:
        answers = policy.recommend(tiny.profiles.iloc[rows], top_k=4, constraints=c)
    except ConstraintError as exc:
        assert not mask.any()
        assert "no candidate action satisfies the constraints" in str(exc)
        return
    assert mask.any()
    assert len(answers) == len(rows)
    for answer in answers:
        assert answer.recommendations  # never an empty answer
        for rec in answer.recommendations:
            assert mask[rec.candidate_index]
            assert _satisfies(rec, c)
