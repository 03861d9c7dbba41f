"""The shipping gate's rows: evaluation rows only, or cross-fitted over training rows too.

Issue 11, item 3: at n = 5,000 the gate judged on the 1,250 held-out evaluation rows. Now it
also judges up to ``gate_training_rows`` training rows, each chosen for by the fold outcome
models that did not see it (``engage.training.offpolicy``). This benchmark measures both gates
on the same runs. Each run trains once with the product's defaults and the world's oracle; the
run logs the gains over the logged policy on all the gate's rows (``gate.gain_vs_logged.<p>``)
and on the evaluation rows alone (``policy.dr_gain_vs_logged.<p>``), and ``decide_shipping`` is
applied to each set. Both
gates choose among the same three policies (personalised, best constant, baseline), whose true
regrets the oracle measured, so a gate's regret is that of the policy it picks.

Per world, track and n, for each gate: how often it personalises, the shipped policy's mean
and worst normalised regret (0 = the oracle, 1 = the marketers' logged choices), the runs worse
than the logged policy, and how often the 95% interval of the personalised policy's gain over
the logged policy contains its true gain (``true.learned - true.logged``), with the mean width.

Usage::

    .venv/bin/python benchmarks/gate_rows.py --quick        # 2 seeds at n = 2,000 and 5,000
    .venv/bin/python benchmarks/gate_rows.py --jobs 2       # the default grid
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
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
from benchmarks.pools import tied_to_parent  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
GATES = {"all rows": "gate.gain_vs_logged", "held-out rows": "policy.dr_gain_vs_logged"}
REGRET = {"personalized": "learned", "constant": "best_constant", "baseline": "baseline"}


def gate_decision(metrics: dict[str, float], prefix: str) -> tuple[str, str]:
    """What ``decide_shipping`` ships on the gains logged under ``prefix``, and its reason."""
    from engage.training.evaluation import Estimate
    from engage.training.offpolicy import decide_shipping

    def estimate(key: str) -> Estimate:
        return Estimate(metrics[key], metrics[f"{key}_low"], metrics[f"{key}_high"])

    judged = dataclasses.make_dataclass("Judged", ["gain", "gains", "baseline"])(
        estimate("gate.gain_vs_constant" if prefix.startswith("gate.") else "policy.dr_gain_vs_constant"),
        {p: estimate(f"{prefix}.{p}") for p in ("learned", "best_constant")},
        np.zeros(1) if "regret.baseline" in metrics else None,
    )
    decision = decide_shipping(judged, 0)
    return decision.mode, decision.reason


def run_one(world_name: str, track: str, n: int, seed: int) -> dict[str, Any]:
    """Train once on a fresh log and judge it with both gates."""
    _quiet()
    from engage.simulation.families import make_world, parse_world_name
    from engage.simulation.oracle import WorldOracle
    from engage.simulation.world import write_log
    from engage.training.pipeline import TrainSettings, train

    family, difficulty = parse_world_name(world_name)
    world = make_world(family, difficulty, track)
    description = {"family": family, "difficulty": difficulty, "decisions": track, "rows": n, "seed": seed}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="engage-gate-") as tmp:
        path = write_log(world.simulate(n, seed=seed), Path(tmp) / "log.parquet", world=description)
        with temporary_store(Path(tmp)) as store:
            result = train(
                TrainSettings(
                    data=path, experiment="bench-gate", model_name="bench-gate", seed=seed,
                    register_model=False, progress=False, report_picture=False, mlruns=store,
                ),
                oracle=WorldOracle(world, description),
            )
    m = result.metrics
    true_gain = m["true.learned"] - m["true.logged"]
    gates: dict[str, Any] = {}
    for gate, prefix in GATES.items():
        mode, _ = gate_decision(m, prefix)
        low, high = m[f"{prefix}.learned_low"], m[f"{prefix}.learned_high"]
        gates[gate] = {
            "mode": mode, "regret": m[f"regret.{REGRET[mode]}"],
            "gain": m[f"{prefix}.learned"], "low": low, "high": high,
            "covers": bool(low <= true_gain <= high),
        }
    return {
        "world": world_name, "track": track, "n": n, "seed": seed,
        "seconds": round(time.perf_counter() - start, 1), "shipped_mode": result.mode,
        "gate_rows": m.get("gate.rows"), "gate_training_rows": m.get("gate.training_rows"),
        "fold_agreement": m.get("gate.fold_agreement"),
        "fold_style_agreement": m.get("gate.fold_style_agreement"), "true_gain": true_gain,
        "regret": {p: m[f"regret.{p}"] for p in REGRET.values()}, "gates": gates,
    }


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line per (world, track, n) and gate."""
    out = []
    cells = sorted({(r["world"], r["track"], r["n"]) for r in rows})
    for world, track, n in cells:
        part = [r for r in rows if (r["world"], r["track"], r["n"]) == (world, track, n)]
        for gate in GATES:
            g = [r["gates"][gate] for r in part]
            regret = np.array([x["regret"] for x in g])
            out.append({
                "world": world, "track": track, "n": n, "gate": gate, "runs": len(g),
                "gate_rows": float(np.mean([
                    r["gate_rows"] if gate == "all rows" else r["gate_rows"] - r["gate_training_rows"]
                    for r in part
                ])),
                "personalised": sum(x["mode"] == "personalized" for x in g),
                "modes": {m: sum(x["mode"] == m for x in g) for m in REGRET},
                "regret_mean": float(regret.mean()), "regret_max": float(regret.max()),
                "worse_than_logged": int((regret > 1).sum()),
                "gain_covered": sum(x["covers"] for x in g),
                "gain_width": float(np.mean([x["high"] - x["low"] for x in g])),
                "learned_regret_mean": float(np.mean([r["regret"]["learned"] for r in part])),
            })
    return out


def render(results: dict[str, Any]) -> str:
    mc = results["machine"]
    lines = [
        "# The shipping gate's rows: evaluation rows only vs cross-fitted over training rows too",
        "",
        f"> `{results['command']}` on {mc['git']}; {mc['started']} to {mc['finished']}, "
        f"{mc['wall_seconds'] / 60:.1f} min wall on {mc['cpus']} CPUs with {mc['jobs']} run(s) at a "
        f"time; load average at start {mc['load_average_at_start']}, at end "
        f"{mc['load_average_at_end']}; {mc['runs_done']} of {mc['runs_planned']} runs done.",
        "",
        "Both gates judge the same runs (see the script's docstring). Regret is normalised: 0 = "
        "the oracle, 1 = the marketers' logged choices, > 1 worse. *Gain covered*: runs whose 95% "
        "interval of the personalised policy's gain over the logged policy contains the true gain.",
        "",
        "| world | track | n | gate | rows judged | personalised | shipped regret, mean | worst | "
        "worse than logged | gain covered | gain interval width | personalised policy's own regret |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in results["summary"]:
        lines.append(
            f"| {c['world']} | {c['track']} | {c['n']:,} | {c['gate']} | {c['gate_rows']:,.0f} | "
            f"{c['personalised']}/{c['runs']} | {c['regret_mean']:.3f} | {c['regret_max']:.3f} | "
            f"{c['worse_than_logged']} | {c['gain_covered']}/{c['runs']} | {c['gain_width']:.3f} | "
            f"{c['learned_regret_mean']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from engage.simulation.families import world_names

    parser = argparse.ArgumentParser(description="The shipping gate on evaluation rows vs all rows.")
    parser.add_argument("--worlds", nargs="+", default=["flat", "hard", "edge-hard"], choices=world_names(),
                        help="simulated worlds (default: %(default)s)")
    parser.add_argument("--tracks", nargs="+", default=["full"], choices=["style", "full"],
                        help="decision tracks (default: %(default)s)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[2000, 5000, 20000],
                        help="log sizes (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds below 20,000 rows (default: %(default)s)")
    parser.add_argument("--seeds-large", type=int, default=3,
                        help="seeds at 20,000 rows and more (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="2 seeds at n = 2,000 and 5,000")
    parser.add_argument("--out", type=Path, default=RESULTS / "gate_rows",
                        help="results path without suffix (default: %(default)s)")
    parser.add_argument("--render", type=Path, default=None, help="only re-render an existing JSON")
    args = parser.parse_args(argv)
    if args.render is not None:
        rerender(args.render, render)
        return 0
    if args.quick:
        args.sizes, args.seeds = [2000, 5000], 2
    _quiet()
    started, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    jobs = [
        (w, t, n, s) for w in args.worlds for t in args.tracks for n in args.sizes
        for s in range(args.seeds if n < 20_000 else args.seeds_large)
    ]
    command = "python benchmarks/gate_rows.py " + " ".join(argv if argv is not None else sys.argv[1:])
    git = _git()
    rows: list[dict[str, Any]] = []

    def write() -> None:
        results = {
            "command": command,
            "machine": machine_facts(started, t0, load_start, args.jobs, git, len(rows), len(jobs)),
            "summary": summarise(rows),
            "runs": sorted(rows, key=lambda r: (r["world"], r["track"], r["n"], r["seed"])),
        }
        write_results(args.out, results, render)

    with cf.ProcessPoolExecutor(max_workers=args.jobs, **tied_to_parent()) as pool:
        futures = {pool.submit(run_one, *job): job for job in jobs}
        for future in cf.as_completed(futures):
            row = future.result()
            rows.append(row)
            g = row["gates"]
            print(
                f"{row['world']}/{row['track']} n={row['n']} seed={row['seed']} ({row['seconds']} s): "
                + "; ".join(f"{k}: {v['mode']} regret {v['regret']:.3f}" for k, v in g.items()),
                flush=True,
            )
            write()
    print(f"wrote {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
