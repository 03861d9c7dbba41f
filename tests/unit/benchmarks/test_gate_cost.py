"""The gate-cost benchmark pairs runs on one log and reports their ratios, not raw times."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.gate_cost as gc  # noqa: E402


def _pair(seed: int, held: tuple[float, float], every: tuple[float, float], n: int = 5000) -> dict:
    def gate(times: tuple[float, float], rows: int, load: float) -> dict:
        return {"evaluation_s": times[0], "total_s": times[1], "gate_rows": rows, "mode": "personalized",
                "load_before": load}

    return {"world": "hard", "track": "full", "n": n, "seed": seed, "order": list(gc.GATES),
            "gates": {"held-out rows": gate(held, 1250, 1.0), "all rows": gate(every, 5000, 2.5 + seed)}}


def test_ratios_are_taken_within_each_pair_then_their_median() -> None:
    # the second pair ran on a slower machine: both its runs are slower, its ratio is not
    rows = [_pair(0, (10, 100), (30, 120)), _pair(1, (20, 200), (40, 220)), _pair(2, (10, 100), (50, 150)),
            _pair(0, (1, 10), (2, 11), n=2000)]
    small, cell = gc.summarise(rows)
    assert (small["n"], small["pairs"], cell["pairs"]) == (2000, 1, 3)
    assert cell["ratio evaluation"] == pytest.approx(3.0)  # median of 3, 2, 5
    assert cell["ratio evaluation range"] == [2.0, 5.0]
    assert cell["ratio total"] == pytest.approx(1.2)  # median of 1.2, 1.1, 1.5
    assert cell["held-out rows: evaluation_s"] == 10 and cell["all rows: evaluation_s"] == 40
    assert (cell["held-out rows: gate_rows"], cell["all rows: gate_rows"]) == (1250, 5000)
    assert cell["load_range"] == [1.0, 4.5]
    page = gc.render({"command": "c", "machine": {
        "git": "x", "started": "s", "finished": "f", "wall_seconds": 60, "cpus": 2, "jobs": 1,
        "load_average_at_start": [1], "load_average_at_end": [1], "runs_done": 4, "runs_planned": 4,
    }, "summary": [small, cell]})
    assert "| hard | full | 5,000 | 3 | 1,250 / 5,000 | 10.0 / 40.0 | **3.00×** (2.00–5.00) |" in page


def test_the_order_of_the_two_trainings_alternates_by_seed(monkeypatch) -> None:
    ran: list[dict] = []

    class Result:
        mode = "personalized"
        metrics = {"time.evaluation_s": 1.0, "time.total_s": 2.0, "gate.rows": 10.0}

    def fake_train(settings):
        ran.append({"gate_training_rows": settings.gate_training_rows})
        return Result()

    import engage.training.pipeline as pipeline

    monkeypatch.setattr(pipeline, "train", fake_train)
    first = gc.run_pair("hard", "full", 200, 0)
    second = gc.run_pair("hard", "full", 200, 1)
    assert first["order"] == ["held-out rows", "all rows"] and second["order"] == ["all rows", "held-out rows"]
    default = pipeline.TrainSettings.model_fields["gate_training_rows"].default
    assert [r["gate_training_rows"] for r in ran] == [0, default, default, 0]
