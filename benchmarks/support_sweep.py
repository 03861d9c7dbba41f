"""Does loosening the support rule lower the realised regret? The floor against the policy.

Issue 11 asks for a candidate floor (the regret of the best action the search can return,
measured with the true objective) of at most 0.03. ``candidate_floor_decomposition.md`` found
that the support requirement (``min_support_rows`` logged campaigns near a searched action) is
most of the floor: dropping it halves it. That is the floor; this benchmark measures what the
*shipped policy* loses or gains when the rule is loosened, where the outcome models must then
be trusted further from the data.

Each run simulates one log, then trains on it with the product's defaults except
``min_support_rows`` (one training per value, same log, same seed) and the world's oracle; it
records the shipped policy's normalised regret on the run's evaluation profiles
(``regret.shipped``: 0 = the oracle, 1 = the marketers' logged choices), the personalised
policy's, the mode the gate shipped and how many searched actions the policy holds.

Usage::

    .venv/bin/python benchmarks/support_sweep.py --quick    # hard, n = 5,000, 1 seed
    .venv/bin/python benchmarks/support_sweep.py            # hard and edge-hard, n = 20,000, 2 seeds
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


def run_log(world_name: str, n: int, seed: int, values: list[float]) -> list[dict[str, Any]]:
    """Train once per ``min_support_rows`` value on one simulated log."""
    _quiet()
    variants = {f"{v:g}": {"min_support_rows": v} for v in values}
    out = []
    for label, result, seconds in train_variants(world_name, "full", n, seed, variants, "support"):
        m = result.metrics
        kinds = np.asarray(result.policy.candidates.kind)
        out.append({
            "world": world_name, "n": n, "seed": seed, "min_support_rows": float(label),
            "seconds": round(seconds, 1), "mode": result.mode,
            "regret_shipped": m["regret.shipped"], "regret_learned": m["regret.learned"],
            "searched_actions": int((kinds == "search").sum()),
            "searched_share": m.get("policy.searched_share"),
        })
    return out


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (world, n, min_support_rows): mean regrets over the logs, and the modes."""
    out = []
    for world, n, value in sorted({(r["world"], r["n"], r["min_support_rows"]) for r in rows},
                                  key=lambda k: (k[0], k[1], -k[2])):
        part = [r for r in rows if (r["world"], r["n"], r["min_support_rows"]) == (world, n, value)]
        out.append({
            "world": world, "n": n, "min_support_rows": value, "logs": len(part),
            "regret_shipped": float(np.mean([r["regret_shipped"] for r in part])),
            "regret_learned": float(np.mean([r["regret_learned"] for r in part])),
            "by_seed": {r["seed"]: round(r["regret_shipped"], 3) for r in part},
            "personalised": sum(r["mode"] == "personalized" for r in part),
            "searched_share": float(np.mean([r["searched_share"] or 0.0 for r in part])),
        })
    return out


def render(results: dict[str, Any]) -> str:
    mc = results["machine"]
    lines = [
        "# The support rule against the realised regret",
        "",
        f"> `{results['command']}` on {mc['git']}; {mc['started']} to {mc['finished']}, "
        f"{mc['wall_seconds'] / 60:.1f} min wall on {mc['cpus']} CPUs; load average at start "
        f"{mc['load_average_at_start']}, at end {mc['load_average_at_end']}; "
        f"{mc['runs_done']} of {mc['runs_planned']} logs done.",
        "",
        "Each log is trained on once per `min_support_rows` (the product's default is 20), all else "
        "at the defaults. Regret is normalised on the run's evaluation profiles by the world's "
        "oracle: 0 = the oracle, 1 = the marketers' logged choices. *Searched share*: the share of "
        "evaluation profiles whose recommendation is a searched action (not the shared grid).",
        "",
        "| world | n | min_support_rows | logs | shipped regret, mean | by seed | personalised policy's "
        "regret | personalised | searched share |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in results["summary"]:
        seeds = ", ".join(f"{s}: {v:.3f}" for s, v in c["by_seed"].items())
        lines.append(
            f"| {c['world']} | {c['n']:,} | {c['min_support_rows']:g} | {c['logs']} | "
            f"**{c['regret_shipped']:.3f}** | {seeds} | {c['regret_learned']:.3f} | "
            f"{c['personalised']}/{c['logs']} | {c['searched_share']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from engage.simulation.families import world_names

    parser = argparse.ArgumentParser(description="Realised regret against the support rule.")
    parser.add_argument("--worlds", nargs="+", default=["hard", "edge-hard"], choices=world_names(),
                        help="simulated worlds, full track (default: %(default)s)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[20000], help="log sizes (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=2, help="logs per world and size (default: %(default)s)")
    parser.add_argument("--first-seed", type=int, default=0, help="first log seed (default: %(default)s)")
    parser.add_argument("--values", nargs="+", type=float, default=[20, 5, 0],
                        help="min_support_rows values (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="hard, n = 5,000, 1 seed")
    parser.add_argument("--out", type=Path, default=RESULTS / "support_sweep",
                        help="results path without suffix (default: %(default)s)")
    parser.add_argument("--render", type=Path, default=None, help="only re-render an existing JSON")
    args = parser.parse_args(argv)
    if args.render is not None:
        rerender(args.render, render)
        return 0
    if args.quick:
        args.worlds, args.sizes, args.seeds = ["hard"], [5000], 1
    _quiet()
    started, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    logs = [(w, n, s) for w in args.worlds for n in args.sizes
            for s in range(args.first_seed, args.first_seed + args.seeds)]
    command = "python benchmarks/support_sweep.py " + " ".join(argv if argv is not None else sys.argv[1:])
    git = _git()
    rows: list[dict[str, Any]] = []
    for done, log in enumerate(logs, start=1):
        for row in run_log(*log, args.values):
            rows.append(row)
            print(f"{row['world']} n={row['n']} seed={row['seed']} min_support_rows={row['min_support_rows']:g}: "
                  f"{row['mode']}, regret {row['regret_shipped']:.3f} ({row['seconds']} s)", flush=True)
        results = {
            "command": command,
            "machine": machine_facts(started, t0, load_start, 1, git, done, len(logs)),
            "summary": summarise(rows),
            "runs": rows,
        }
        write_results(args.out, results, render)
    print(f"wrote {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
