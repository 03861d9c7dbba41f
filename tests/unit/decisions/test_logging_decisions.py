"""Decisions a logging policy served: recorded with the drawn style's probability, method
``logging`` and no density, and exported as a log whose propensity is that probability."""

from __future__ import annotations

import pytest

from engage.contract.spec import load_spec
from engage.contract.validation import validate_file
from engage.decisions.capture import draw_logging, record
from engage.policy.exploration import GREEDY
from tests.unit.decisions.test_decision_store import MIX, PROFILE, SPEC, export_with_outcomes


class _Rec:
    """A listed option as the policy answers it (the attributes serving reads)."""

    def __init__(self, style: str, propensity: float) -> None:
        self.style, self.model_score = style, 1.0
        self.posting_mix, self.decisions = MIX, {"posts_per_week": 5.0}
        self.support = type("Support", (), {"propensity": propensity})()


def _served(i: int):
    options = [_Rec(s, q) for s, q in zip(SPEC.styles, (0.3, 0.2, 0.2, 0.15, 0.15), strict=True)]
    served = draw_logging(options, PROFILE, f"decision-{i}", 2)
    return record(
        decision_id=f"decision-{i}",
        spec=SPEC,
        model={"name": "m", "version": "1", "run_id": "r" * 32, "uri": "models:/m@champion"},
        profile=PROFILE,
        served=served,
        how=GREEDY,
        objective={"conversions": 1.0},
    )


def test_a_logging_decision_is_recorded_with_its_probability_and_no_density() -> None:
    decision = _served(0)
    assert decision.method == "logging" and decision.exploration == {}
    assert decision.density is None and decision.continuous == {}
    expected = dict(zip(SPEC.styles, (0.3, 0.2, 0.2, 0.15, 0.15), strict=True))
    assert decision.probability == pytest.approx(expected[decision.style])
    assert [a["probability"] for a in decision.alternatives] == pytest.approx(
        list(expected.values())
    )


def test_logging_decisions_export_with_their_probability_as_propensity(tmp_path) -> None:
    recs = [_served(i) for i in range(150)]
    out = export_with_outcomes(recs, tmp_path)
    spec = load_spec(out.spec)
    report = validate_file(out.log, spec)
    report.raise_if_fatal()
    frame = report.clean
    assert len(frame) == 150
    by_id = {r.decision_id: r for r in recs}
    assert spec.logged_propensity(frame) == pytest.approx(
        [by_id[i].probability for i in frame[spec.id]]
    )
