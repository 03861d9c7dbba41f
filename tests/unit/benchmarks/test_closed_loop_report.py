"""The closed-loop benchmark's report reads its rows and judges them against the targets."""

from __future__ import annotations

import pytest

from benchmarks.closed_loop import TARGETS  # the targets the benchmark reports against
from benchmarks.support.loop_report import markdown, summary


def _rows():
    ope = {
        "truth": 1.0,
        "smoothed_truth": 0.9,
        "dr": [1.0, 0.8, 1.2],
        "dr.covers": True,
        "kdr": [0.5, 0.4, 0.6],
        "kdr.covers": False,
        "kdr.covers_smoothed": False,
        "kips": [0.9, 0.7, 1.1],
        "missing_densities": 3,
    }
    rows = []
    for r, (e, v) in enumerate([(0.6, 1.2), (0.5, 1.0), (0.53, 0.9)]):
        rows.append(
            {
                "contender": "vw",
                "world": "hard",
                "seed": 0,
                "round": r,
                "regret": v,
                **({"exploration_cost": 0.01} if r else {}),
            }
        )
        extra = (
            {"exploration_cost": 0.04, "exploration_cost_model": 0.02, "ope_on_round": ope}
            if r
            else {}
        )
        judged = {"candidate_regret": e - 0.1, "promoted": r == 2}
        rows.append(
            {
                "contender": "engage",
                "world": "hard",
                "seed": 0,
                "round": r,
                "regret": e,
                **extra,
                **judged,
            }
        )
    return rows


def test_summary_and_verdicts():
    res = {
        "rows": _rows(),
        "targets": TARGETS,
        "params": {"worlds": ["hard"], "seeds": [0], "rounds": 2, "rows": 100, "epsilon": 0.05},
        "machine": {"date": "d", "nproc": 2, "load_average_at_start": [1, 1, 1]},
        "command": "c",
        "reduced": "1 seed",
        "budget_regret_units": 0.05,
    }
    s = summary(res)["hard"]
    assert s["engage_regret"] == {0: 0.6, 1: 0.5, 2: 0.53}
    assert s["candidate_regret"] == pytest.approx({0: 0.5, 1: 0.4, 2: 0.43})
    assert s["promoted"] == {1: 0, 2: 1}
    assert s["coverage"]["dr.covers"] == 1.0 and s["coverage"]["kdr.covers"] == 0.0
    text = markdown(res)
    assert "**Reduced run**: 1 seed" in text
    assert "not measured (fewer than 8 rounds)" in text
    assert "largest rise +0.030 | not reached" in text  # 0.50 -> 0.53
    assert "worst ratio 0.59 | not reached" in text  # round 2: 0.53 / 0.9
    assert "| hard | 0 | 1 | 1.000 | 0.900 |" in text
    assert "| engage candidate (personalised, as learned) | 0.500 | 0.400 | 0.430 |" in text
    assert "| engage runs promoted (of the seeds) | - | 0 | 1 |" in text
