"""The settings sweep averages each policy's regret per value of a setting, over logs, and
reads the rows of the support sweep it grew from."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.settings_sweep as ss  # noqa: E402

MACHINE = {
    "git": "x", "started": "s", "finished": "f", "wall_seconds": 60, "cpus": 2, "jobs": 2,
    "load_average_at_start": [1], "load_average_at_end": [1], "runs_done": 2, "runs_planned": 2,
}


def _run(seed: int, value: str, regret: float, mode: str = "personalized") -> dict:
    return {"world": "hard", "track": "full", "n": 20000, "seed": seed, "setting": "search_rounds",
            "value": value, "seconds": 1.0, "mode": mode, "regret_shipped": regret,
            "regret_learned": regret - 0.01, "regret_best_constant": 0.8, "regret_baseline": 0.6,
            "personal_floor": 0.005, "searched_share": 0.5}


def test_the_summary_is_per_value_in_the_order_given() -> None:
    rows = [_run(0, "6", 0.5), _run(0, "2", 0.4), _run(1, "6", 0.6, mode="baseline"), _run(1, "2", 0.3)]
    first, second = ss.summarise(rows)
    assert (first["value"], second["value"]) == ("6", "2")  # the order the values came in
    assert first["regret_shipped"] == pytest.approx(0.55) and second["regret_shipped"] == pytest.approx(0.35)
    assert (first["personalised"], second["personalised"]) == (1, 2)
    assert second["by_seed"] == {0: 0.4, 1: 0.3}
    assert second["regret_learned"] == pytest.approx(0.34) and second["regret_baseline"] == pytest.approx(0.6)
    page = ss.render({"command": "c", "default": "2", "machine": MACHINE, "summary": [first, second]})
    assert "# `search_rounds` against the realised regret" in page
    assert ("| hard | full | 20,000 | `2` (default) | 2 | **0.350** | 0: 0.400, 1: 0.300 | 0.340 | "
            "0.800 | 0.600 | 2/2 | 0.50 | 1 s |") in page
    assert "| `6` | 2 | **0.550** |" in page


def test_rows_of_the_support_sweep_render_as_before() -> None:
    legacy = {"world": "hard", "n": 20000, "seed": 0, "min_support_rows": 20.0, "seconds": 1.0,
              "mode": "personalized", "regret_shipped": 0.4, "regret_learned": 0.39,
              "searched_actions": 10, "searched_share": 0.31}
    (cell,) = ss.summarise([legacy])
    assert (cell["setting"], cell["value"], cell["track"]) == ("min_support_rows", "20", "full")
    assert cell["regret_best_constant"] is None
    page = ss.render({"command": "c", "machine": MACHINE, "summary": [cell]})
    assert "| hard | full | 20,000 | `20` (default) | 1 | **0.400** | 0: 0.400 | 0.390 | – | – | 1/1 | 0.31 | 1 s |" in page


def test_values_are_labelled_like_the_defaults() -> None:
    assert ss.label([0.05, 0.1]) == "[0.05, 0.1]" and ss.label(20) == "20"
    assert ss.default_label("search_rounds") == "2"
    assert ss.default_label("personal_floors") == "[0.05]"
    assert ss.default_label("no_such_setting") is None


def test_a_note_shows_under_the_command_and_only_when_given() -> None:
    (cell,) = ss.summarise([_run(0, "2", 0.4)])
    base = {"command": "c", "default": "2", "machine": MACHINE, "summary": [cell]}
    noted = ss.render({**base, "note": "the gate of commit abc: pointwise floors"})
    assert "\n> the gate of commit abc: pointwise floors\n" in noted
    assert noted.index("> `c` on x") < noted.index("> the gate of commit abc")
    assert "> the gate" not in ss.render(base) and ss.render(base).count("\n> ") == 1
