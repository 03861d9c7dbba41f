"""The gate-rows benchmark judges both gates with the product's own shipping rule."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.gate_rows as gr  # noqa: E402


def _metrics(gate_learned: tuple, held_learned: tuple, constant: tuple = (0.0, -0.1, 0.1)) -> dict:
    m = {"regret.baseline": 0.9, "regret.learned": 0.3, "regret.best_constant": 0.5}
    for prefix, learned in (("gate.gain_vs_logged", gate_learned), ("policy.dr_gain_vs_logged", held_learned)):
        for policy, (v, lo, hi) in (("learned", learned), ("best_constant", constant)):
            m[f"{prefix}.{policy}"], m[f"{prefix}.{policy}_low"], m[f"{prefix}.{policy}_high"] = v, lo, hi
    for key in ("gate.gain_vs_constant", "policy.dr_gain_vs_constant"):
        m[key], m[f"{key}_low"], m[f"{key}_high"] = 0.1, -0.1, 0.3
    return m


@pytest.mark.parametrize(
    ("gate", "held", "modes"),
    [
        ((0.3, 0.1, 0.5), (0.3, -0.1, 0.7), ("personalized", "baseline")),  # more rows, surer
        ((0.3, -0.1, 0.5), (0.3, 0.1, 0.7), ("baseline", "personalized")),
    ],
)
def test_each_gate_ships_by_its_own_gains(gate, held, modes) -> None:
    m = _metrics(gate, held)
    assert tuple(gr.gate_decision(m, prefix)[0] for prefix in gr.GATES.values()) == modes


def test_the_summary_counts_what_each_gate_shipped_and_covered() -> None:
    def run(seed: int, modes: tuple[str, str], regrets: tuple[float, float]) -> dict:
        gates = {
            gate: {"mode": mode, "regret": regret, "gain": 0.2, "low": 0.0, "high": 0.4 + seed,
                   "covers": seed == 0}
            for gate, mode, regret in zip(gr.GATES, modes, regrets, strict=True)
        }
        return {"world": "hard", "track": "full", "n": 5000, "seed": seed, "gate_rows": 5000,
                "gate_training_rows": 3750, "gates": gates, "regret": {"learned": 0.3}}

    rows = [run(0, ("personalized", "baseline"), (0.3, 0.9)), run(1, ("personalized", "constant"), (0.3, 1.2))]
    every, held = gr.summarise(rows)
    assert (every["gate"], held["gate"]) == tuple(gr.GATES)
    assert (every["gate_rows"], held["gate_rows"]) == (5000, 1250)
    assert (every["personalised"], held["personalised"]) == (2, 0)
    assert held["worse_than_logged"] == 1 and every["worse_than_logged"] == 0
    assert held["regret_mean"] == pytest.approx(1.05) and held["regret_max"] == 1.2
    assert every["gain_covered"] == 1 and every["gain_width"] == pytest.approx(0.9)
    page = gr.render({"command": "c", "machine": {
        "git": "x", "started": "s", "finished": "f", "wall_seconds": 60, "cpus": 2, "jobs": 1,
        "load_average_at_start": [1], "load_average_at_end": [1], "runs_done": 2, "runs_planned": 2,
    }, "summary": [every, held]})
    assert "| hard | full | 5,000 | held-out rows | 1,250 | 0/2 | 1.050 | 1.200 | 1 |" in page
