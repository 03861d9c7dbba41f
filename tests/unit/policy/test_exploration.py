"""Exploration draws: exact probabilities, reproducible draws, greedy unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from engage.policy.exploration import Exploration, distribution, draw, draw_seed

SCORES = np.array([3.0, 2.5, 1.0, 0.2])


def test_greedy_is_the_first_choice_with_probability_one_whatever_the_seed():
    for seed in range(50):
        d = draw(SCORES, 2, Exploration("greedy"), seed)
        assert (d.index, d.probability) == (2, 1.0)


def test_epsilon_and_softmax_distributions():
    eps = distribution(SCORES, 0, Exploration("epsilon", epsilon=0.2))
    np.testing.assert_allclose(eps, [0.8 + 0.05, 0.05, 0.05, 0.05])
    soft = distribution(SCORES, 0, Exploration("softmax", temperature=0.5))
    expected = np.exp(SCORES / 0.5) / np.exp(SCORES / 0.5).sum()
    np.testing.assert_allclose(soft, expected)
    assert soft.sum() == pytest.approx(1.0)
    # one option: probability 1 for every method
    assert distribution([1.0], 0, Exploration("softmax")).tolist() == [1.0]


@pytest.mark.parametrize(
    "how", [Exploration("epsilon", epsilon=0.3), Exploration("softmax", temperature=0.7)]
)
def test_empirical_frequencies_match_the_reported_probabilities(how):
    n = 8_000
    counts = np.zeros(len(SCORES))
    reported: dict[int, set[float]] = {}
    for seed in range(n):
        d = draw(SCORES, 0, how, seed)
        counts[d.index] += 1
        reported.setdefault(d.index, set()).add(d.probability)
        assert d.probability == d.probabilities[d.index]
    p = distribution(SCORES, 0, how)
    for j, probs in reported.items():
        assert probs == {p[j]}  # the reported probability is the drawing distribution's
    sd = np.sqrt(p * (1 - p) / n)
    assert np.all(np.abs(counts / n - p) <= 4.5 * sd), (counts / n, p)


def test_draws_are_reproducible_from_profile_and_decision_id():
    profile = {"industry": "software", "followers": 1200.0}
    seed = draw_seed(profile, "d-1")
    assert seed == draw_seed(dict(reversed(list(profile.items()))), "d-1")  # key order irrelevant
    assert seed != draw_seed(profile, "d-2")
    assert seed != draw_seed({**profile, "followers": 1201.0}, "d-1")
    how = Exploration("softmax", temperature=2.0)
    assert draw(SCORES, 0, how, seed).index == draw(SCORES, 0, how, seed).index
    many = {draw(SCORES, 0, how, draw_seed(profile, f"d-{i}")).index for i in range(200)}
    assert many == {0, 1, 2, 3}


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"method": "thompson"}, "method"),
        ({"method": "epsilon", "epsilon": 1.5}, "epsilon"),
        ({"method": "softmax", "temperature": 0.0}, "temperature"),
        ({"method": "softmax", "temperature": float("nan")}, "temperature"),
    ],
)
def test_bad_parameters_are_refused_naming_them(kwargs, field):
    with pytest.raises(ValueError, match=field):
        Exploration(**kwargs)


def test_first_choice_must_be_an_option():
    with pytest.raises(ValueError, match="first choice"):
        distribution(SCORES, 4, Exploration("epsilon"))
