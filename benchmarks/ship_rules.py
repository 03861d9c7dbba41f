"""Ship rules judged on every run of a policy-quality grid, not only on what shipped.

``policy_quality.py`` records, for each engage run, the true value (the world's oracle on the
held-out profiles) of all three policies the gate chooses among (``extra.true_value_if``:
personalised, best constant, baseline) and the gate's figures (``extra.gate``). A ship rule is
a function of those figures, so its regret on every run of the grid follows without fitting
again: the fits are deterministic and the rule changes nothing but which of the three ships.

Usage::

    python benchmarks/ship_rules.py benchmarks/results/policy_quality_modes/policy_quality.json \\
        --out benchmarks/results/ship_rules.md

The rules:

- ``personalised first``: the personalised policy if its gain over the logged policy is
  confirmed (95% lower bound above 0), else the constant if its (grid-wide band) gain is,
  else the baseline (engage at d0f04de-13ed001);
- ``higher lower bound``: of the confirmed ones, the higher lower bound (engage before d0f04de);
- ``displaced by a paired comparison``: personalised first, but the constant when it is also
  confirmed and the plain paired difference (``gate.gain_vs_constant``) is surely negative;
- ``displaced by the band``: the same with the difference's band that allows for the choice of
  the constant among the grid (``gate.constant_over_learned``; engage from 5d52495);
- ``best of three (oracle)``: the lowest true regret of the three on each run, the most any
  rule reading these three policies could reach.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

MODES = ("personalized", "constant", "baseline")
Rule = Callable[[dict[str, float]], str]


def _low(gate: dict[str, float], key: str) -> float:
    return gate[f"gate.{key}_low"]


def personalised_first(gate: dict[str, float], displaced: Callable[[dict[str, float]], bool] = lambda g: False) -> str:
    learned, constant = _low(gate, "gain_vs_logged.learned"), _low(gate, "gain_vs_logged.best_constant")
    if learned > 0:
        return "constant" if constant > 0 and displaced(gate) else "personalized"
    return "constant" if constant > 0 else "baseline"


def higher_lower_bound(gate: dict[str, float]) -> str:
    lows = {"personalized": _low(gate, "gain_vs_logged.learned"), "constant": _low(gate, "gain_vs_logged.best_constant")}
    sure = [m for m, low in lows.items() if low > 0]
    return max(sure, key=lows.__getitem__) if sure else "baseline"


RULES: dict[str, Rule | None] = {
    "personalised first": personalised_first,
    "higher lower bound": higher_lower_bound,
    "displaced by a paired comparison": lambda g: personalised_first(g, lambda x: x["gate.gain_vs_constant_high"] < 0),
    "displaced by the band": lambda g: personalised_first(g, lambda x: _low(x, "constant_over_learned") > 0),
    "best of three (oracle)": None,
}


def regret(row: dict, mode: str) -> float:
    extra = row["extra"]
    span = extra["oracle_value"] - extra["logged_value"]
    return (extra["oracle_value"] - extra["true_value_if"][mode]) / span


def judge(rows: list[dict]) -> tuple[list[str], dict[str, dict[str, float]]]:
    """The markdown table's lines and, per rule, the totals."""
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        cells[(row["world"], row["track"], int(row["n"]))].append(row)
    names = list(RULES)
    lines = [
        "| world / track | n | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    totals = {name: {"sum_of_cell_means": 0.0, "runs_worse_than_logged": 0, "cells_changed": 0} for name in names}
    for (world, track, n), runs in sorted(cells.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        shown = []
        base = None
        for name in names:
            rule = RULES[name]
            if rule is None:
                regrets = [min(regret(r, m) for m in MODES) for r in runs]
                picks = ""
            else:
                chosen = [rule(r["extra"]["gate"]) for r in runs]
                regrets = [regret(r, m) for r, m in zip(runs, chosen, strict=True)]
                picks = " " + "".join(m[0] for m in chosen)
            mean = float(np.mean(regrets))
            base = mean if base is None else base
            totals[name]["sum_of_cell_means"] += mean
            totals[name]["runs_worse_than_logged"] += int(sum(x > 1 for x in regrets))
            totals[name]["cells_changed"] += int(abs(mean - base) > 1e-9)
            shown.append(f"{mean:.3f}{picks}")
        lines.append(f"| {world} / {track} | {n:,} | " + " | ".join(shown) + " |")
    return lines, totals


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grid", type=Path, help="a policy_quality.json whose engage rows record true_value_if")
    parser.add_argument("--out", type=Path, help="write the markdown here (default: print it)")
    args = parser.parse_args(argv)
    grid = json.loads(args.grid.read_text())
    rows = [
        r for r in grid["rows"]
        if r["contender"] == "engage" and not r.get("error") and "true_value_if" in r.get("extra", {})
    ]
    if not rows:
        raise SystemExit(f"{args.grid}: no engage row records true_value_if (run policy_quality.py at 13ed001 or later)")
    lines, totals = judge(rows)
    text = "\n".join([
        "# Ship rules on every run of the grid",
        "",
        f"Source: `{args.grid}` ({len(rows)} engage runs). Each cell: mean normalised regret over "
        "seeds of the policy the rule ships, then the rule's pick per seed "
        "(p personalised, c constant, b baseline). Regret 1 is the logged policy, 0 the oracle.",
        "",
        *lines,
        "",
        "| rule | sum of cell means | runs worse than logged | cells that differ from the first rule |",
        "|---|---|---|---|",
        *(f"| {k} | {v['sum_of_cell_means']:.3f} | {v['runs_worse_than_logged']} | {v['cells_changed']} |" for k, v in totals.items()),
        "",
    ])
    if args.out:
        args.out.write_text(text)
        print(f"wrote {args.out}")
    else:
        print(text)


if __name__ == "__main__":
    main()
