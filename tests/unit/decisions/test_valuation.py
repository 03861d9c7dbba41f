"""``engage evaluate`` values the action the policy recommends: its target style is the style
of the candidate row chosen for each profile (``Ranking.chosen``), not of the candidate whose
row number is the choice's position among the profile's own candidates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engage import ope
from engage.cli import evaluate
from engage.decisions.valuation import chosen_actions
from engage.policy.artifact import load_policy
from engage.simulation.world import SimulatedWorld

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "policy"


@pytest.fixture(scope="module")
def policy():
    return load_policy(FIXTURE)


def test_the_valued_style_is_the_recommended_one(policy, monkeypatch):
    log = SimulatedWorld("hard").simulate(300, seed=4)
    recommended = [
        a.recommendations[0].style for a in policy.recommend(log, top_k=1, explain=False)
    ]
    assert chosen_actions(policy, log)[policy.spec.style.name].tolist() == recommended
    seen = {}

    def spy(data, style, q, **kw):
        seen["style"] = np.asarray(style)
        return real(data, style, q, **kw)

    real = ope.estimate_policy_value
    monkeypatch.setattr(ope, "estimate_policy_value", spy)
    data = evaluate.logged_data(policy, log, policy.spec)
    evaluate.value_of(policy, log, data, n_boot=5)
    codes = {s: i for i, s in enumerate(policy.spec.styles)}
    assert seen["style"].tolist() == [codes[s] for s in recommended]
