"""One training setting against the realised regret: what the shipped policy gains or loses.

A setting of ``TrainSettings`` (the support rule ``min_support_rows``, the search's
``search_rounds``, the Optuna ``trials``, the gate's ``personal_floors``, ...) is a trade-off
that only the *realised* regret on simulated worlds can judge. Each run simulates one log,
then trains on it once per value of the setting (same log, same seed, every other setting at
the product's default) with the world's oracle, and records:

- the normalised regret of the policy the gate shipped (``regret.shipped``: 0 = the oracle,
  1 = the marketers' logged choices) and of each policy the gate chooses among: the
  personalised policy, the best constant and the baseline (``regret.learned``,
  ``regret.best_constant``, ``regret.baseline``), all on the run's evaluation profiles;
- the mode the gate shipped, the support floor it judged the personalised policy at, and the
  share of profiles whose recommendation is a searched action (not the shared grid).

The fits are deterministic (one thread per fit), so a difference between two values on the
same log is the setting's, not noise of the run; across logs it is the world's sampling noise.

Usage::

    .venv/bin/python benchmarks/settings_sweep.py --quick      # min_support_rows on hard, n = 5,000, 1 seed
    .venv/bin/python benchmarks/settings_sweep.py \\
        --setting search_rounds --values 2 6 --worlds hard easy edge-hard --sizes 20000 --seeds 2 --jobs 2
    .venv/bin/python benchmarks/settings_sweep.py \\
        --setting personal_floors --values '[0.05]' '[0.05, 0.1, 0.2]' --track style --sizes 5000 --seeds 5

Values are JSON (``20``, ``[0.05, 0.1]``, ``"everyone"``). ``--note`` says what else the
reader must know (say, how the commit's gate differs from another run's). The results go to
``benchmarks/results/settings_sweep_<setting>.{json,md}`` unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
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
POLICIES = ("shipped", "learned", "best_constant", "baseline")


def label(value: Any) -> str:
    """A setting's value as the results name it: its compact JSON."""
    return json.dumps(value, separators=(", ", ": "))


def default_label(setting: str) -> str | None:
    """The product's default of ``setting``, as :func:`label` writes it (None: no such field)."""
    from engage.training.settings import TrainSettings

    field = TrainSettings.model_fields.get(setting)
    if field is None:
        return None
    return label(field.get_default(call_default_factory=True))


def run_log(world_name: str, track: str, n: int, seed: int, setting: str, values: list[Any]) -> list[dict[str, Any]]:
    """Train once per value of ``setting`` on one simulated log; one row per training."""
    _quiet()
    variants = {label(v): {setting: v} for v in values}
    out = []
    for name, result, seconds in train_variants(world_name, track, n, seed, variants, "sweep"):
        m = result.metrics
        out.append({
            "world": world_name, "track": track, "n": n, "seed": seed, "setting": setting, "value": name,
            "seconds": round(seconds, 1), "mode": result.mode,
            **{f"regret_{p}": m[f"regret.{p}"] for p in POLICIES},
            "personal_floor": m.get("gate.personal_floor"),
            "searched_share": m.get("policy.searched_share"),
        })
    return out


def _legacy(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the support sweep this benchmark grew from (full track, ``min_support_rows``
    as a number, the shipped and personalised regrets only) in today's form."""
    if "setting" in row:
        return row
    value = row["min_support_rows"]
    value = int(value) if float(value).is_integer() else value  # 20.0 then, 20 in the settings
    return {**row, "track": "full", "setting": "min_support_rows", "value": label(value)}


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (world, track, n, value), in the order the values were given: mean regrets over the
    logs, the shipped regret of each log, and the modes."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in map(_legacy, rows):
        groups.setdefault((r["world"], r["track"], r["n"], r["value"]), []).append(r)
    order = list(dict.fromkeys(value for *_, value in groups))
    out = []
    for (world, track, n, value), part in sorted(
        groups.items(), key=lambda kv: (*kv[0][:3], order.index(kv[0][3]))
    ):
        cell = {
            "world": world, "track": track, "n": n, "setting": part[0]["setting"], "value": value,
            "logs": len(part),
            "by_seed": {r["seed"]: round(r["regret_shipped"], 3) for r in part},
            "personalised": sum(r["mode"] == "personalized" for r in part),
            "searched_share": float(np.mean([r.get("searched_share") or 0.0 for r in part])),
            "seconds": float(np.mean([r["seconds"] for r in part])),
        }
        for p in POLICIES:
            have = [r[f"regret_{p}"] for r in part if r.get(f"regret_{p}") is not None]
            cell[f"regret_{p}"] = float(np.mean(have)) if have else None
        out.append(cell)
    return out


def _cell(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def render(results: dict[str, Any]) -> str:
    mc = results["machine"]
    # from the runs when there are (a results file of the support sweep has its own summary)
    summary = summarise(results["runs"]) if "runs" in results else results["summary"]
    setting = summary[0]["setting"] if summary else results.get("setting", "?")
    # the default the run recorded; a support-sweep file has none, and its default is today's
    default = results.get("default") or default_label(setting)
    threads = ", one thread per fit" if results.get("omp_num_threads") == "1" else ""
    lines = [
        f"# `{setting}` against the realised regret",
        "",
        f"> `{results['command']}` on {mc['git']}; {mc['started']} to {mc['finished']}, "
        f"{mc['wall_seconds'] / 60:.1f} min wall on {mc['cpus']} CPUs, {mc.get('jobs', 1)} log(s) at a "
        f"time; load average at start {mc['load_average_at_start']}, at end "
        f"{mc['load_average_at_end']}; {mc['runs_done']} of {mc['runs_planned']} logs done.",
        "",
        *([f"> {results['note']}", ""] if results.get("note") else []),
        f"Each log is trained on once per value of `{setting}` (the product's default: "
        f"`{default}`), all else at the defaults{threads}. Regret is normalised on the "
        "run's evaluation profiles by the world's oracle: 0 = the oracle, 1 = the marketers' "
        "logged choices. *Shipped* is what the gate chose among the personalised policy, the best "
        "constant and the baseline (their regrets beside it); *searched share*: the share of "
        "evaluation profiles whose recommendation is a searched action (not the shared grid); "
        "*training*: wall seconds of the whole training, with the other log(s) beside it.",
        "",
        f"| world | track | n | `{setting}` | logs | shipped regret, mean | by seed | personalised "
        "policy | best constant | baseline | personalised shipped | searched share | training, mean |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in summary:
        seeds = ", ".join(f"{s}: {v:.3f}" for s, v in c["by_seed"].items())
        mark = " (default)" if c["value"] == default else ""
        lines.append(
            f"| {c['world']} | {c['track']} | {c['n']:,} | `{c['value']}`{mark} | {c['logs']} | "
            f"**{c['regret_shipped']:.3f}** | {seeds} | {_cell(c['regret_learned'])} | "
            f"{_cell(c.get('regret_best_constant'))} | {_cell(c.get('regret_baseline'))} | "
            f"{c['personalised']}/{c['logs']} | {c['searched_share']:.2f} | {c['seconds']:.0f} s |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    # one thread per fit, side by side (read when LightGBM's OpenMP starts, so before it loads)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from engage.simulation.families import world_names

    parser = argparse.ArgumentParser(description="Realised regret against one training setting.")
    parser.add_argument("--setting", default="min_support_rows",
                        help="a TrainSettings field (default: %(default)s)")
    parser.add_argument("--values", nargs="+", default=["20", "5", "0"],
                        help="its values, JSON, the first one the reference (default: %(default)s)")
    parser.add_argument("--worlds", nargs="+", default=["hard", "edge-hard"], choices=world_names(),
                        help="simulated worlds (default: %(default)s)")
    parser.add_argument("--track", default="full", choices=["style", "full"],
                        help="decisions the world has: style only, or style, mix and cadence (default: %(default)s)")
    parser.add_argument("--sizes", nargs="+", type=int, default=[20000], help="log sizes (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=2, help="logs per world and size (default: %(default)s)")
    parser.add_argument("--first-seed", type=int, default=0, help="first log seed (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="logs at a time (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="hard, n = 5,000, 1 seed")
    parser.add_argument("--out", type=Path, default=None,
                        help="results path without suffix (default: benchmarks/results/settings_sweep_<setting>)")
    parser.add_argument("--note", default=None,
                        help="what the reader must know besides the setting, e.g. the commit's gate (shown under the command)")
    parser.add_argument("--render", type=Path, default=None, help="only re-render an existing JSON")
    args = parser.parse_args(argv)
    if args.render is not None:
        rerender(args.render, render)
        return 0
    default = default_label(args.setting)
    if default is None:
        parser.error(f"--setting: {args.setting!r} is not a training setting (see `engage train --help`)")
    try:
        values = [json.loads(v) for v in args.values]
    except json.JSONDecodeError as exc:
        parser.error(f"--values: not JSON ({exc}); quote lists, e.g. '[0.05, 0.1]'")
    if args.quick:
        args.worlds, args.sizes, args.seeds = ["hard"], [5000], 1
    out = args.out or RESULTS / f"settings_sweep_{args.setting}"
    _quiet()
    started, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    logs = [(w, args.track, n, s, args.setting, values) for w in args.worlds for n in args.sizes
            for s in range(args.first_seed, args.first_seed + args.seeds)]
    command = "python benchmarks/settings_sweep.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    git = _git()
    rows: list[dict[str, Any]] = []

    def done(part: list[dict[str, Any]]) -> None:
        rows.extend(part)
        for row in part:
            print(f"{row['world']} {row['track']} n={row['n']} seed={row['seed']} {args.setting}={row['value']}: "
                  f"{row['mode']}, regret {row['regret_shipped']:.3f} ({row['seconds']} s)", flush=True)
        results = {
            "command": command, "setting": args.setting, "default": default,
            **({"note": args.note} if args.note else {}),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
            "machine": machine_facts(started, t0, load_start, args.jobs, git, len(rows) // len(values), len(logs)),
            "summary": summarise(rows),
            "runs": sorted(rows, key=lambda r: (r["world"], r["n"], r["seed"])),
        }
        write_results(out, results, render)

    from benchmarks.pools import results_as_done

    for part in results_as_done(run_log, logs, args.jobs):
        done(part)
    print(f"wrote {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
