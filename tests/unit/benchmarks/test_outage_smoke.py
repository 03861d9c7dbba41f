"""Smoke test of the outage benchmark: tiny outages, one SIGKILL, results written."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.outage as outage  # noqa: E402


@pytest.mark.slow  # starts four servers and a PostgreSQL cluster (~1 min)
def test_short_outages_lose_nothing_and_the_results_are_written(tmp_path):
    args = [
        "--pg-down",
        "2",
        "--sqlite-lock",
        "3",
        "--kills",
        "1",
        "--kill-after",
        "2",
        "--warmup",
        "1",
        "--after",
        "1",
        "--clients",
        "2",
        "--out",
        str(tmp_path),
    ]
    assert outage.main(args) == 0
    res = json.loads((tmp_path / "outage.json").read_text())
    for name in ("postgresql", "sqlite"):
        assert res[name]["lost"] == 0
        assert res[name]["answered_during_outage"] > 0
        assert res[name]["outcome_status_after_recovery"] == 200
    assert res["sigkill"]["answered_ids"] > 0
    assert "| PostgreSQL stopped 2.0 s |" in (tmp_path / "outage.md").read_text()
