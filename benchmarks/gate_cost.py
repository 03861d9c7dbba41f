"""What judging training rows costs the gate: training time with and without them, side by side.

Issue 11, item 3 made the gate judge up to ``gate_training_rows`` cross-fitted training rows
besides the held-out evaluation rows (``engage.training.offpolicy``). Those rows are chosen for
by each fold's policy (every candidate ranked once more per fold's rows), valued by one more
set of models and bootstrapped with the rest. This benchmark measures what that costs.

For each world, size and seed one log is simulated, and the product trains on it twice in the
same process, one run right after the other: once with ``gate_training_rows=0`` (the held-out
gate) and once with the default. The order alternates from seed to seed, so a drift in the
machine's load favours neither. Each pair gives two ratios, all rows over held-out rows: of the
off-policy evaluation stage (``time.evaluation_s``) and of the whole training
(``time.total_s``). The table gives their medians and ranges over the seeds and the load
average around the pairs: the machine is shared, so a ratio measured side by side is the figure
to read, not a wall time.

Usage::

    .venv/bin/python benchmarks/gate_cost.py --quick     # hard world, n = 5,000, 2 seeds
    .venv/bin/python benchmarks/gate_cost.py             # hard and edge-hard, 5,000 and 20,000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.intervals import (  # noqa: E402
    _git,
    _quiet,
    machine_facts,
    rerender,
    temporary_store,
    write_results,
)

RESULTS = REPO / "benchmarks" / "results"
#: The two gates, by the ``gate_training_rows`` they train with (None: the product's default).
GATES: dict[str, int | None] = {"held-out rows": 0, "all rows": None}
STAGES = ("evaluation", "total")


def run_pair(world_name: str, track: str, n: int, seed: int) -> dict[str, Any]:
    """Train twice on one log, with and without training rows in the gate; time both."""
    _quiet()
    from engage.simulation.families import make_world, parse_world_name
    from engage.simulation.world import write_log
    from engage.training.pipeline import TrainSettings, train

    family, difficulty = parse_world_name(world_name)
    world = make_world(family, difficulty, track)
    description = {"family": family, "difficulty": difficulty, "decisions": track, "rows": n, "seed": seed}
    order = list(GATES) if seed % 2 == 0 else list(reversed(GATES))
    timed: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="engage-gate-cost-") as tmp:
        path = write_log(world.simulate(n, seed=seed), Path(tmp) / "log.parquet", world=description)
        for gate in order:
            extra = {} if GATES[gate] is None else {"gate_training_rows": GATES[gate]}
            load = round(os.getloadavg()[0], 2)
            with temporary_store(Path(tmp) / gate.replace(" ", "-")) as store:
                result = train(TrainSettings(
                    data=path, experiment="bench-gate-cost", model_name="bench-gate-cost", seed=seed,
                    register_model=False, progress=False, report_picture=False, mlruns=store, **extra,
                ))
            m = result.metrics
            timed[gate] = {
                "evaluation_s": m["time.evaluation_s"], "total_s": m["time.total_s"],
                "gate_rows": m["gate.rows"], "mode": result.mode, "load_before": load,
            }
    return {"world": world_name, "track": track, "n": n, "seed": seed, "order": order, "gates": timed}


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (world, track, n): each gate's median seconds and the medians of the paired ratios."""
    held, every = GATES
    out = []
    for world, track, n in sorted({(r["world"], r["track"], r["n"]) for r in rows}):
        part = [r for r in rows if (r["world"], r["track"], r["n"]) == (world, track, n)]
        cell: dict[str, Any] = {"world": world, "track": track, "n": n, "pairs": len(part)}
        for gate in GATES:
            cell[f"{gate}: gate_rows"] = float(np.median([r["gates"][gate]["gate_rows"] for r in part]))
        for stage in STAGES:
            for gate in GATES:
                cell[f"{gate}: {stage}_s"] = float(np.median([r["gates"][gate][f"{stage}_s"] for r in part]))
            ratios = np.array([r["gates"][every][f"{stage}_s"] / r["gates"][held][f"{stage}_s"] for r in part])
            cell[f"ratio {stage}"] = float(np.median(ratios))
            cell[f"ratio {stage} range"] = [float(ratios.min()), float(ratios.max())]
        loads = [r["gates"][g]["load_before"] for r in part for g in GATES]
        cell["load_range"] = [float(min(loads)), float(max(loads))]
        out.append(cell)
    return out


def render(results: dict[str, Any]) -> str:
    mc = results["machine"]
    held, every = GATES
    lines = [
        "# What judging training rows costs the gate",
        "",
        f"> `{results['command']}` on {mc['git']}; {mc['started']} to {mc['finished']}, "
        f"{mc['wall_seconds'] / 60:.1f} min wall on {mc['cpus']} CPUs, one training at a time; "
        f"load average at start {mc['load_average_at_start']}, at end {mc['load_average_at_end']}; "
        f"{mc['runs_done']} of {mc['runs_planned']} pairs done.",
        "",
        "Each pair trains twice on the same log, one run after the other, with the held-out gate "
        "(`gate_training_rows=0`) and with the default (training rows too); the order alternates "
        "by seed. Ratios are all rows / held-out rows, per pair, then the median (range) over the "
        "pairs. Seconds are medians. *Load*: the 1-minute load average before each training.",
        "",
        "| world | track | n | pairs | rows judged (held-out / all) | evaluation stage, s "
        "(held-out / all) | **ratio** | whole training, s (held-out / all) | **ratio** | load |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in results["summary"]:
        def ratio(stage: str, c: dict[str, Any] = c) -> str:
            lo, hi = c[f"ratio {stage} range"]
            return f"**{c[f'ratio {stage}']:.2f}×** ({lo:.2f}–{hi:.2f})"

        lines.append(
            f"| {c['world']} | {c['track']} | {c['n']:,} | {c['pairs']} | "
            f"{c[f'{held}: gate_rows']:,.0f} / {c[f'{every}: gate_rows']:,.0f} | "
            f"{c[f'{held}: evaluation_s']:.1f} / {c[f'{every}: evaluation_s']:.1f} | {ratio('evaluation')} | "
            f"{c[f'{held}: total_s']:.1f} / {c[f'{every}: total_s']:.1f} | {ratio('total')} | "
            f"{c['load_range'][0]:.1f}–{c['load_range'][1]:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from engage.simulation.families import world_names

    parser = argparse.ArgumentParser(description="Training time with and without training rows in the gate.")
    parser.add_argument("--worlds", nargs="+", default=["hard", "edge-hard"], choices=world_names(),
                        help="simulated worlds (default: %(default)s)")
    parser.add_argument("--tracks", nargs="+", default=["full"], choices=["style", "full"],
                        help="decision tracks (default: %(default)s)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[5000, 20000],
                        help="log sizes (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=3, help="pairs per cell (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="hard world, n = 5,000, 2 seeds")
    parser.add_argument("--out", type=Path, default=RESULTS / "gate_cost",
                        help="results path without suffix (default: %(default)s)")
    parser.add_argument("--render", type=Path, default=None, help="only re-render an existing JSON")
    args = parser.parse_args(argv)
    if args.render is not None:
        rerender(args.render, render)
        return 0
    if args.quick:
        args.worlds, args.sizes, args.seeds = ["hard"], [5000], 2
    _quiet()
    started, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    pairs = [(w, t, n, s) for w in args.worlds for t in args.tracks for n in args.sizes for s in range(args.seeds)]
    command = "python benchmarks/gate_cost.py " + " ".join(argv if argv is not None else sys.argv[1:])
    git = _git()
    rows: list[dict[str, Any]] = []
    for pair in pairs:  # one at a time: these are timings
        row = run_pair(*pair)
        rows.append(row)
        g = row["gates"]
        print(
            f"{row['world']}/{row['track']} n={row['n']} seed={row['seed']}: evaluation "
            + " vs ".join(f"{k} {v['evaluation_s']:.1f} s" for k, v in g.items())
            + "; total " + " vs ".join(f"{v['total_s']:.1f} s" for v in g.values()),
            flush=True,
        )
        results = {
            "command": command,
            "machine": machine_facts(started, t0, load_start, 1, git, len(rows), len(pairs)),
            "summary": summarise(rows),
            "runs": rows,
        }
        write_results(args.out, results, render)
    print(f"wrote {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
