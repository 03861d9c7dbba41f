"""The support sweep averages the shipped regret per support rule, over logs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.support_sweep as ss  # noqa: E402


def _run(seed: int, value: float, regret: float, mode: str = "personalized") -> dict:
    return {"world": "hard", "n": 20000, "seed": seed, "min_support_rows": value, "seconds": 1.0,
            "mode": mode, "regret_shipped": regret, "regret_learned": regret - 0.01,
            "searched_actions": 10, "searched_share": 0.5}


def test_the_summary_is_per_rule_and_the_default_comes_first() -> None:
    rows = [_run(0, 20, 0.4), _run(1, 20, 0.3), _run(0, 0, 0.5), _run(1, 0, 0.6, mode="baseline")]
    strict, loose = ss.summarise(rows)
    assert (strict["min_support_rows"], loose["min_support_rows"]) == (20, 0)
    assert strict["regret_shipped"] == pytest.approx(0.35) and loose["regret_shipped"] == pytest.approx(0.55)
    assert (strict["personalised"], loose["personalised"]) == (2, 1)
    assert strict["by_seed"] == {0: 0.4, 1: 0.3}
    page = ss.render({"command": "c", "machine": {
        "git": "x", "started": "s", "finished": "f", "wall_seconds": 60, "cpus": 2, "jobs": 1,
        "load_average_at_start": [1], "load_average_at_end": [1], "runs_done": 2, "runs_planned": 2,
    }, "summary": [strict, loose]})
    assert "| hard | 20,000 | 20 | 2 | **0.350** | 0: 0.400, 1: 0.300 | 0.340 | 2/2 | 0.50 |" in page
