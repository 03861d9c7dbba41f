"""Ship rules judged offline: the rule picks one of the three recorded policies per run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.ship_rules as sr  # noqa: E402


def _gate(learned_low: float, constant_low: float, paired_high: float, band_low: float) -> dict:
    return {
        "gate.gain_vs_logged.learned_low": learned_low,
        "gate.gain_vs_logged.best_constant_low": constant_low,
        "gate.gain_vs_constant_high": paired_high,
        "gate.constant_over_learned_low": band_low,
    }


def _run(seed: int, gate: dict, values: tuple[float, float, float]) -> dict:
    return {"world": "flat", "track": "style", "n": 20000, "seed": seed, "contender": "engage",
            "extra": {"oracle_value": 12.0, "logged_value": 11.0, "gate": gate,
                      "true_value_if": dict(zip(sr.MODES, values, strict=True))}}


@pytest.mark.parametrize(
    ("gate", "picks"),
    [
        # both confirmed, the constant surely better by the plain pairing but not by the band
        (_gate(0.1, 0.3, -0.05, -0.02), {"personalised first": "personalized", "higher lower bound": "constant",
                                         "displaced by a paired comparison": "constant",
                                         "displaced by the band": "personalized"}),
        # the band confirms it too
        (_gate(0.1, 0.3, -0.2, 0.05), {"displaced by the band": "constant", "personalised first": "personalized"}),
        # nothing confirmed: the baseline, whatever the comparison says
        (_gate(-0.1, -0.2, -0.5, 0.3), dict.fromkeys(["personalised first", "higher lower bound",
                                                      "displaced by the band"], "baseline")),
    ],
)
def test_each_rule_picks_by_the_gate_s_figures(gate, picks) -> None:
    for name, mode in picks.items():
        rule = sr.RULES[name]
        assert rule is not None and rule(gate) == mode, name


def test_the_table_scores_each_rule_by_the_true_value_of_its_pick(tmp_path, capsys) -> None:
    runs = [
        _run(0, _gate(0.1, 0.3, -0.2, 0.05), (11.5, 12.0, 11.1)),  # the band ships the constant
        _run(1, _gate(0.1, 0.3, -0.2, -0.05), (11.8, 11.2, 11.1)),  # the personalised policy
    ]
    lines, totals = sr.judge(runs)
    row = next(line for line in lines if line.startswith("| flat / style | 20,000"))
    # regrets: personalised first 0.5 and 0.2; the band 0.0 and 0.2; the oracle the same
    assert "| 0.350 pp |" in row and "| 0.100 cp |" in row and row.endswith("| 0.100 |")
    assert totals["displaced by the band"]["cells_changed"] == 1
    assert totals["personalised first"]["runs_worse_than_logged"] == 0
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"rows": runs}))
    sr.main([str(grid)])
    assert "# Ship rules on every run of the grid" in capsys.readouterr().out
    empty = tmp_path / "old.json"
    empty.write_text(json.dumps({"rows": [{**runs[0], "extra": {}}]}))
    with pytest.raises(SystemExit, match="no engage row records true_value_if"):
        sr.main([str(empty)])
