"""The interval benchmark counts how often each reported interval, DR's and the range, holds the truth."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.intervals as iv  # noqa: E402


class _Result:
    def __init__(self, values: dict, metrics: dict) -> None:
        self.values, self.metrics, self.mode = values, metrics, "personalized"


def _row(seed: int, dr: tuple, dm: tuple, true: float) -> dict:
    lo_range, hi_range = min(dr[1], dm[1]), max(dr[2], dm[2])
    value = {"policies": {}, "gains": {}, "mode": "personalized"}  # what value_coverage records
    v, lo, hi = dr
    value["policies"]["learned"] = {
        "dr": v,
        "low": lo,
        "high": hi,
        "true": true,
        "covered": lo <= true <= hi,
        "rel_error": (v - true) / abs(true),
        "range_low": lo_range,
        "range_high": hi_range,
        "range_covered": lo_range <= true <= hi_range,
    }
    stats = {
        "coverage": {"conversions": 0.9},
        "constant_coverage": {"conversions": 0.9},
        "coverage_of_mean": {"conversions": 1.0},
        "mean_halfwidth": {"conversions": 1.0},
        "halfwidth_cv": {"conversions": 0.1},
        "bias": {"conversions": 0.0},
    }
    prediction = {
        "outcomes": ["conversions"],
        "level": 0.9,
        "interval_model": True,
        "recommended": stats,
        "shown_top3": stats,
        "logged": {"coverage": {"conversions": 0.9}},
    }
    return {
        "world": "edge-hard",
        "n": 5000,
        "seed": seed,
        "train_seconds": 1.0,
        "prediction": prediction,
        "value": value,
    }


def test_the_range_is_counted_beside_the_dr_interval() -> None:
    rows = [
        _row(0, (10.4, 10.0, 10.8), (9.9, 9.8, 10.0), 10.1),  # both hold it
        _row(1, (10.6, 10.2, 11.0), (10.0, 9.9, 10.1), 10.05),  # DR misses, the span holds it
        _row(2, (10.6, 10.3, 11.0), (10.5, 10.4, 10.6), 10.0),  # both miss
    ]
    cell = iv.summarise(rows)["edge-hard/5000"]["value"]["learned"]
    assert (cell["runs"], cell["covered"], cell["range_runs"], cell["range_covered"]) == (
        3,
        1,
        3,
        2,
    )
    assert cell["width"] == pytest.approx((0.8 + 0.8 + 0.7) / 3)
    assert cell["range_width"] == pytest.approx((1.0 + 1.1 + 0.7) / 3)
    results = {
        "command": "c",
        "machine": {
            "finished": "f",
            "cpus": 2,
            "python": "3.11",
            "jobs": 1,
            "load_average_at_start": [1],
            "load_average_at_end": [1],
            "wall_seconds": 1,
            "git": "x",
            "runs_done": 3,
            "runs_planned": 3,
        },
        "summary": iv.summarise(rows),
    }
    page = iv.render(results)
    assert "| learned | 3 | 1 | 33.3% | 0.767 | 2 | 66.7% | 0.933 |" in page
    assert "\n> " not in page  # no note: none shown
    noted = iv.render({**results, "note": "the gate of commit x"})
    assert "Command: `c`\n\n> the gate of commit x\n\nMethod:" in noted


def test_value_coverage_reads_the_range_the_run_reported() -> None:
    values = {
        "learned": {"dr": (10.6, 10.2, 11.0), "dm": (10.0, 9.9, 10.1), "range": (10.6, 9.9, 11.0)}
    }
    metrics = {"true.learned": 10.05}

    class Policy:
        spec = type("S", (), {"decision_names": []})()
        builder = type("B", (), {"encode_context": staticmethod(lambda p: p)})()
        candidates = type("C", (), {"frame": pd.DataFrame({"a": [0]})})()

        @staticmethod
        def choose(_):
            return [0]

    class World:
        @staticmethod
        def sample_profiles(n, rng):
            return pd.DataFrame({"x": [0]})

    class Oracle:
        @staticmethod
        def policy_value(*_):
            return 10.0

    result = _Result(values, metrics)
    result.objective_weights = {}
    got = iv.value_coverage(result, Policy, World, Oracle, heldout=1, seed=0)["policies"]["learned"]
    assert (got["covered"], got["range_covered"]) == (False, True)
    assert (got["range_low"], got["range_high"]) == (9.9, 11.0)
