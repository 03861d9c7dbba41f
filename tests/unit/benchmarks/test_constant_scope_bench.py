"""The constant-scope benchmark: per scope, runs worse than logged and the gate's false passes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.constant_scope as cs  # noqa: E402

MACHINE = {
    "git": "x", "started": "2026-12-01 07:00 UTC", "finished": "2026-12-01 07:10 UTC",
    "wall_seconds": 600, "cpus": 2, "jobs": 1, "load_average_at_start": [1.0],
    "load_average_at_end": [2.0], "runs_done": 2, "runs_planned": 2,
}


def _run(seed: int, scope: str, regret: float, gain: tuple, true_gain: float, mode: str) -> dict:
    return {"world": "hard", "track": "full", "n": 1500, "seed": seed, "scope": scope, "seconds": 1.0,
            "mode": mode, "regret_shipped": regret, "regret_learned": 0.6, "regret_constant": 1.2,
            "regret_baseline": 0.7, "constant_gain": list(gain), "constant_true_gain": true_gain,
            "constant_share": 1.0 if scope == "everyone" else 0.8}


ROWS = [
    _run(0, "everyone", 1.45, (0.7, 0.13, 1.3), -0.56, "constant"),
    _run(1, "everyone", 0.66, (0.1, -0.2, 0.4), -0.1, "baseline"),
    _run(0, "supported", 0.61, (0.03, -0.4, 0.5), 0.33, "personalized"),
    _run(1, "supported", 0.66, (0.1, -0.2, 0.4), 0.2, "baseline"),
]


def test_the_summary_counts_runs_worse_than_logged_and_false_passes_per_scope() -> None:
    everyone, supported = cs.summarise(ROWS)
    assert (everyone["scope"], supported["scope"]) == ("everyone", "supported")
    assert everyone["worse_than_logged"] == 1 and supported["worse_than_logged"] == 0
    assert everyone["constant_false_pass"] == 1 and supported["constant_false_pass"] == 0
    assert everyone["modes"] == {"personalized": 0, "constant": 1, "baseline": 1}
    assert everyone["regret_shipped"] == pytest.approx((1.45 + 0.66) / 2)
    assert everyone["worst_shipped"] == 1.45
    assert supported["constant_overstatement"] == pytest.approx(((0.03 - 0.33) + (0.1 - 0.2)) / 2)
    page = cs.render({"command": "c", "machine": MACHINE, "summary": [everyone, supported]})
    assert "| hard | full | 1,500 | everyone | 2 | 0/1/1 | **1.055** | 1.450 | 1 |" in page


def test_parts_run_side_by_side_merge_into_one_result(tmp_path) -> None:
    for i, part in enumerate((ROWS[:2], ROWS[2:])):
        machine = {**MACHINE, "runs_done": 1, "runs_planned": 1, "wall_seconds": 100 * (i + 1)}
        (tmp_path / f"p{i}.json").write_text(json.dumps({"command": f"part {i}", "machine": machine, "runs": part}))
    cs.merge([tmp_path / "p0.json", tmp_path / "p1.json"], tmp_path / "merged")
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert len(merged["runs"]) == 4 and len(merged["summary"]) == 2
    assert merged["machine"]["wall_seconds"] == 200 and merged["machine"]["runs_done"] == 2
    assert merged["command"] == "part 0 ; part 1"
    assert (tmp_path / "merged.md").read_text().startswith("# Whom the best constant action is for")
