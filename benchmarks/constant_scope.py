"""Whom the best constant action is for: everyone, or the profiles whose cluster supports it.

Issue 11 asks that no run ship a policy worse than what marketers did. A run on the hard world
at n = 1,500 (seed 0, full track) shipped the best constant action with a true regret of 1.45:
the gate overstated the constant's gain over the logged policy (+0.70 [+0.13, +1.32] against a
true -0.56). A constant action differs from most profiles' logged mix and cadence, and the
valuing models extrapolate there. The personalised policy already follows a support rule (a
searched action is recommended only where at least ``min_support_rows`` logged campaigns of
the profile's cluster lie near it); the constant did not. ``constant_scope="supported"`` gives
the constant action only to such profiles and each other profile its baseline action.

Each log is trained on twice, once per scope (same log, same seed, the product's defaults
otherwise), with the world's oracle. Per run: the mode the gate shipped, the shipped policy's
normalised regret (0 = the oracle, 1 = the marketers' logged choices), the best constant
policy's regret, the gate's 95% interval of the constant's gain over the logged policy beside
its true gain, and the share of profiles the constant is for.

Usage::

    .venv/bin/python benchmarks/constant_scope.py --quick     # hard, full, n = 1,500, 2 seeds
    .venv/bin/python benchmarks/constant_scope.py --jobs 2    # the default grid
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
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
    train_variants,
    write_results,
)

RESULTS = REPO / "benchmarks" / "results"
SCOPES = ("everyone", "supported")


def run_log(world_name: str, track: str, n: int, seed: int) -> list[dict[str, Any]]:
    """Train once per scope on one simulated log."""
    _quiet()
    variants = {scope: {"constant_scope": scope} for scope in SCOPES}
    out = []
    for scope, result, seconds in train_variants(world_name, track, n, seed, variants, "scope"):
        m = result.metrics
        gate = "gate.gain_vs_logged.best_constant"
        out.append({
            "world": world_name, "track": track, "n": n, "seed": seed, "scope": scope,
            "seconds": round(seconds, 1), "mode": result.mode,
            "regret_shipped": m["regret.shipped"], "regret_learned": m["regret.learned"],
            "regret_constant": m["regret.best_constant"], "regret_baseline": m["regret.baseline"],
            "constant_gain": [m[gate], m[f"{gate}_low"], m[f"{gate}_high"]],
            "constant_true_gain": m["true.best_constant"] - m["true.logged"],
            "constant_share": m.get("policy.constant_share", 1.0),
        })
    return out


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (world, track, n, scope): the modes, mean and worst regrets, and the gate's reading
    of the constant (how often its interval excludes zero from above while the truth is below)."""
    out = []
    keys = sorted({(r["world"], r["track"], r["n"], r["scope"]) for r in rows},
                  key=lambda k: (k[0], k[1], k[2], SCOPES.index(k[3])))
    for world, track, n, scope in keys:
        part = [r for r in rows if (r["world"], r["track"], r["n"], r["scope"]) == (world, track, n, scope)]
        shipped = [r["regret_shipped"] for r in part]
        out.append({
            "world": world, "track": track, "n": n, "scope": scope, "logs": len(part),
            "modes": {m: sum(r["mode"] == m for r in part) for m in ("personalized", "constant", "baseline")},
            "regret_shipped": float(np.mean(shipped)), "worst_shipped": float(np.max(shipped)),
            "worse_than_logged": sum(v > 1 for v in shipped),
            "regret_constant": float(np.mean([r["regret_constant"] for r in part])),
            "constant_worse_than_logged": sum(r["regret_constant"] > 1 for r in part),
            # the gate would take the constant for better than logged while it is worse
            "constant_false_pass": sum(
                r["constant_gain"][1] > 0 and r["constant_true_gain"] < 0 for r in part
            ),
            "constant_overstatement": float(
                np.mean([r["constant_gain"][0] - r["constant_true_gain"] for r in part])
            ),
            "constant_share": float(np.mean([r["constant_share"] for r in part])),
            "by_seed": {r["seed"]: round(r["regret_shipped"], 3) for r in part},
        })
    return out


def render(results: dict[str, Any]) -> str:
    mc = results["machine"]
    lines = [
        "# Whom the best constant action is for: everyone, or where the log supports it",
        "",
        f"> `{results['command']}` on {mc['git']}; {mc['started']} to {mc['finished']}, "
        f"{mc['wall_seconds'] / 60:.1f} min wall on {mc['cpus']} CPUs, {mc['jobs']} log(s) at a "
        f"time; load average at start {mc['load_average_at_start']}, at end "
        f"{mc['load_average_at_end']}; {mc['runs_done']} of {mc['runs_planned']} logs done.",
        "",
        "Each log is trained on once per `constant_scope`, all else at the product's defaults. "
        "*Regret* is normalised on the run's evaluation profiles by the world's oracle (0 = the "
        "oracle, 1 = the marketers' logged choices); above 1 is worse than what marketers did. "
        "*Modes*: personalised / constant / baseline shipped. *Constant false pass*: runs where "
        "the gate's 95% interval of the constant's gain over the logged policy lies above zero "
        "while its true gain is below. *Overstatement*: the gate's constant gain minus the true "
        "one, mean. *Constant share*: the share of evaluation profiles the constant action is for.",
        "",
        "| world | track | n | scope | logs | modes | shipped regret, mean | worst | worse than "
        "logged | constant's regret | constant worse than logged | constant false pass | "
        "overstatement | constant share | by seed |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in results["summary"]:
        modes = "/".join(str(c["modes"][m]) for m in ("personalized", "constant", "baseline"))
        seeds = ", ".join(f"{s}: {v:.3f}" for s, v in c["by_seed"].items())
        lines.append(
            f"| {c['world']} | {c['track']} | {c['n']:,} | {c['scope']} | {c['logs']} | {modes} | "
            f"**{c['regret_shipped']:.3f}** | {c['worst_shipped']:.3f} | {c['worse_than_logged']} | "
            f"{c['regret_constant']:.3f} | {c['constant_worse_than_logged']} | "
            f"{c['constant_false_pass']} | {c['constant_overstatement']:+.3f} | "
            f"{c['constant_share']:.2f} | {seeds} |"
        )
    return "\n".join(lines) + "\n"


def merge(paths: list[Path], out: Path) -> None:
    """One results file from parts run side by side: their runs, summarised again; the
    machine facts span the parts (earliest start, latest end, loads of each)."""
    import json

    parts = [json.loads(p.read_text()) for p in paths]
    machines = [p["machine"] for p in parts]
    machine = dict(machines[0])
    machine.update({
        "started": min(m["started"] for m in machines),
        "finished": max(m["finished"] for m in machines),
        "wall_seconds": max(m["wall_seconds"] for m in machines),
        "jobs": sum(m["jobs"] for m in machines),
        "runs_done": sum(m["runs_done"] for m in machines),
        "runs_planned": sum(m["runs_planned"] for m in machines),
        "load_average_at_start": [m["load_average_at_start"] for m in machines],
        "load_average_at_end": [m["load_average_at_end"] for m in machines],
    })
    runs = [r for p in parts for r in p["runs"]]
    command = " ; ".join(p["command"] for p in parts)
    write_results(out, {"command": command, "machine": machine, "summary": summarise(runs), "runs": runs},
                  render)


def main(argv: list[str] | None = None) -> int:
    from engage.simulation.families import world_names

    parser = argparse.ArgumentParser(description="The best constant for everyone or where supported.")
    parser.add_argument("--worlds", nargs="+", default=["hard", "edge-hard", "flat"], choices=world_names(),
                        help="simulated worlds (default: %(default)s)")
    parser.add_argument("--tracks", nargs="+", default=["full", "style"], choices=["full", "style"],
                        help="decision tracks (default: %(default)s)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[1500, 5000], help="log sizes (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=3, help="logs per cell (default: %(default)s)")
    parser.add_argument("--first-seed", type=int, default=0, help="first log seed (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="logs at a time (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="hard, full track, n = 1,500, 2 seeds")
    parser.add_argument("--out", type=Path, default=RESULTS / "constant_scope",
                        help="results path without suffix (default: %(default)s)")
    parser.add_argument("--render", type=Path, default=None, help="only re-render an existing JSON")
    parser.add_argument("--merge", nargs="+", type=Path, default=None,
                        help="only merge the runs of these results JSONs (parts run side by side) into --out")
    args = parser.parse_args(argv)
    if args.render is not None:
        rerender(args.render, render)
        return 0
    if args.merge:
        merge(args.merge, args.out)
        return 0
    if args.quick:
        args.worlds, args.tracks, args.sizes, args.seeds = ["hard"], ["full"], [1500], 2
    _quiet()
    started, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    logs = [(w, t, n, s) for n in sorted(args.sizes, reverse=True) for w in args.worlds
            for t in args.tracks for s in range(args.first_seed, args.first_seed + args.seeds)]
    command = "python benchmarks/constant_scope.py " + " ".join(argv if argv is not None else sys.argv[1:])
    git = _git()
    rows: list[dict[str, Any]] = []
    done = 0

    def record(found: list[dict[str, Any]]) -> None:
        nonlocal done
        done += 1
        rows.extend(found)
        for row in found:
            print(f"{row['world']}/{row['track']} n={row['n']} seed={row['seed']} {row['scope']}: "
                  f"{row['mode']}, regret {row['regret_shipped']:.3f} ({row['seconds']} s)", flush=True)
        results = {
            "command": command,
            "machine": machine_facts(started, t0, load_start, args.jobs, git, done, len(logs)),
            "summary": summarise(rows),
            "runs": rows,
        }
        write_results(args.out, results, render)

    from benchmarks.pools import results_as_done

    for part in results_as_done(run_log, logs, args.jobs):
        record(part)
    print(f"wrote {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
