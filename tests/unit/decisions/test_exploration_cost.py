"""The exploration cost :func:`engage.decisions.capture.explore` records: styles valued by what
the policy ranks by, so a thinly supported style's raw prediction is not counted as a gain."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from engage.decisions.capture import explore
from engage.policy.exploration import Exploration


@dataclass
class Rec:
    style: str
    model_score: float
    predicted_objective: float
    posting_mix: dict[str, float] = field(default_factory=dict)
    decisions: dict[str, Any] = field(default_factory=dict)


def test_the_style_cost_is_in_the_policys_ranking_score_not_the_raw_prediction():
    # the second style's raw prediction beats the first's, but the log barely supports it
    # (its support discount puts it below): exploring it gives up 2 by the policy's own
    # valuation; by the raw prediction it would be counted as a gain of 1
    recs = [Rec("a", 5.0, 5.0), Rec("b", 3.0, 6.0)]
    how = Exploration("epsilon", 0.5)
    served = explore(recs, how, {"x": 1}, "d1", 1)
    assert served.cost == pytest.approx(0.25 * 2.0)


def test_the_style_budget_binds_on_that_cost():
    recs = [Rec("a", 5.0, 5.0), Rec("b", 3.0, 6.0)]
    how = Exploration("epsilon", 0.5, budget=0.1)
    served = explore(recs, how, {"x": 1}, "d1", 1)
    assert served.cost == pytest.approx(0.1)
    assert sum(o["probability"] for o in served.options) == pytest.approx(1.0)
    assert served.options[1]["probability"] == pytest.approx(0.05)
