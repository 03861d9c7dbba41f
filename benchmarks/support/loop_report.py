"""The closed-loop benchmark's report: the markdown summary against the issue's targets, and
the plot of each contender's regret by round."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np


def _by(rows: list[dict], contender: str, world: str) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        if r["contender"] == contender and r["world"] == world:
            out[r["round"]].append(r)
    return dict(sorted(out.items()))


def summary(res: dict[str, Any]) -> dict[str, Any]:
    """Per world: mean regret by round of each contender, engage's exploration cost and the
    DR coverage over rounds x seeds."""
    rows = res["rows"]
    out: dict[str, Any] = {}
    for world in sorted({r["world"] for r in rows}):
        engage, vw = _by(rows, "engage", world), _by(rows, "vw", world)
        evaluated = [r["ope_on_round"] for rs in engage.values() for r in rs if "ope_on_round" in r]
        coverage = {
            k: float(np.mean([o[k] for o in evaluated if k in o]))
            for k in (
                "dr.covers",
                "range.covers",
                "kdr.covers",
                "kips.covers",
                "kdr.covers_smoothed",
                "kips.covers_smoothed",
            )
            if any(k in o for o in evaluated)
        }
        out[world] = {
            "engage_regret": {
                r: float(np.mean([x["regret"] for x in v])) for r, v in engage.items()
            },
            "vw_regret": {r: float(np.mean([x["regret"] for x in v])) for r, v in vw.items()},
            # what each round's run learned (the personalised policy, promoted or not) and how
            # many of the seeds' runs were promoted: the learner's limit against the gate's
            "candidate_regret": {
                r: float(np.mean([x["candidate_regret"] for x in v]))
                for r, v in engage.items()
                if all("candidate_regret" in x for x in v)
            },
            "promoted": {
                r: sum(bool(x.get("promoted")) for x in v) for r, v in engage.items() if r > 0
            },
            "engage_cost": {
                r: float(np.mean([x["exploration_cost"] for x in v]))
                for r, v in engage.items()
                if r > 0
            },
            "engage_cost_model": {
                r: float(np.mean([x["exploration_cost_model"] for x in v]))
                for r, v in engage.items()
                if r > 0
            },
            "vw_cost": {
                r: float(np.mean([x["exploration_cost"] for x in v]))
                for r, v in vw.items()
                if r > 0
            },
            "coverage": coverage,
            "evaluations": len(evaluated),
        }
    return out


def _targets(s: dict[str, Any], t: dict[str, float], rounds: int) -> list[str]:
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    for world, w in s.items():
        last = w["engage_regret"][max(w["engage_regret"])]
        verdict = (
            "not measured (fewer than 8 rounds)"
            if rounds < 8
            else ("reached" if last <= t["regret_after_8_rounds_max"] else "not reached")
        )
        lines.append(
            f"| {world}: engage regret after 8 rounds <= {t['regret_after_8_rounds_max']} | "
            f"{last:.3f} after round {max(w['engage_regret'])} | {verdict} |"
        )
        ratios = [
            w["engage_regret"][r] / w["vw_regret"][r]
            for r in w["engage_regret"]
            if r >= 2 and r in w["vw_regret"] and w["vw_regret"][r] > 0
        ]
        lines.append(
            f"| {world}: engage <= {t['regret_vs_vw_from_round_2_max']}x VW from round 2 | "
            + (f"worst ratio {max(ratios):.2f}" if ratios else "no round >= 2")
            + " | "
            + (
                "not measured"
                if not ratios
                else "reached"
                if max(ratios) <= t["regret_vs_vw_from_round_2_max"]
                else "not reached"
            )
            + " |"
        )
        regrets = list(w["engage_regret"].values())
        rise = max(np.diff(regrets)) if len(regrets) > 1 else 0.0
        lines.append(
            f"| {world}: champion's regret never rises > {t['regret_rise_max']} | largest rise "
            f"{rise:+.3f} | {'reached' if rise <= t['regret_rise_max'] else 'not reached'} |"
        )
        cost = max(w["engage_cost"].values()) if w["engage_cost"] else float("nan")
        lines.append(
            f"| {world}: exploration cost <= {t['exploration_cost_per_round_max']}/round | "
            f"worst round {cost:.3f} (true) | "
            f"{'reached' if cost <= t['exploration_cost_per_round_max'] else 'not reached'} |"
        )
        for k, label in (
            ("kdr.covers", "kernel DR (full action)"),
            ("kdr.covers_smoothed", "kernel DR, of its estimand (the kernel-smoothed policy),"),
            ("dr.covers", "style-matched DR"),
        ):
            if k in w["coverage"]:
                c = w["coverage"][k]
                lines.append(
                    f"| {world}: {label} covers the truth >= {t['dr_coverage_min']:.0%} | "
                    f"{c:.0%} of {w['evaluations']} rounds x seeds | "
                    f"{'reached' if c >= t['dr_coverage_min'] else 'not reached'} |"
                )
    return lines


def markdown(res: dict[str, Any]) -> str:
    s = summary(res)
    t, p, m = res["targets"], res["params"], res["machine"]
    lines = ["# Closed loop: engage with full-action exploration against Vowpal Wabbit online", ""]
    if res.get("reduced"):
        lines += [f"**Reduced run**: {res['reduced']}", ""]
    lines += [
        f"Run {m['date']} on {m['nproc']} CPUs, {m.get('wall_seconds', '?')} s wall (load average "
        f"at start {m['load_average_at_start']}, at end {m.get('load_average_at_end')}); "
        f"`{res['command']}`.",
        f"Worlds {p['worlds']} (decisions full), seeds {p['seeds']}, {p['rounds']} rounds of "
        f"{p['rows']:,} businesses after a confounded log of {p['rows']:,}; engage: epsilon "
        f"{p['epsilon']} over styles with the mix and cadence drawn around the policy's, service "
        f"budget {res['budget_regret_units']} regret units per decision, training `trials=0`; "
        "VW: `--cb_explore_adf --epsilon 0.05` over the discretised joint actions "
        "(benchmarks/support/loop_vw.py says why not CATS).",
        "",
        "## Against the issue's targets",
        "",
        *_targets(s, t, p["rounds"]),
    ]
    for world, w in s.items():
        rounds = list(w["engage_regret"])
        lines += [
            "",
            f"## {world}: true normalised regret by round (0 = oracle, 1 = logging policy)",
            "",
            "| round | " + " | ".join(map(str, rounds)) + " |",
            "|---" * (1 + len(rounds)) + "|",
            "| engage champion | "
            + " | ".join(f"{w['engage_regret'][r]:.3f}" for r in rounds)
            + " |",
            "| engage candidate (personalised, as learned) | "
            + " | ".join(f"{w['candidate_regret'].get(r, float('nan')):.3f}" for r in rounds)
            + " |",
            "| engage runs promoted (of the seeds) | - | "
            + " | ".join(str(w["promoted"].get(r, 0)) for r in rounds[1:])
            + " |",
            "| VW greedy | "
            + " | ".join(f"{w['vw_regret'].get(r, float('nan')):.3f}" for r in rounds)
            + " |",
            "| engage exploration cost (true) | - | "
            + " | ".join(f"{w['engage_cost'][r]:.3f}" for r in rounds[1:])
            + " |",
            "| engage exploration cost (model-estimated) | - | "
            + " | ".join(f"{w['engage_cost_model'][r]:.3f}" for r in rounds[1:])
            + " |",
            "| VW exploration cost (true) | - | "
            + " | ".join(f"{w['vw_cost'][r]:.3f}" for r in rounds[1:])
            + " |",
        ]
    lines += [
        "",
        "## Off-policy values of each new candidate on the next round's decisions, against the truth",
        "",
        "| world | seed | round | truth | smoothed truth | DR (style-matched) | kernel DR (full action) | kernel IPS | rows without density |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["rows"]:
        o = r.get("ope_on_round")
        if o:
            cells = [
                f"{o[k][0]:.3f} [{o[k][1]:.3f}, {o[k][2]:.3f}]" if k in o else "-"
                for k in ("dr", "kdr", "kips")
            ]
            smooth = o.get("smoothed_truth")
            lines.append(
                f"| {r['world']} | {r['seed']} | {r['round']} | {o['truth']:.3f} | "
                + (f"{smooth:.3f}" if smooth is not None else "-")
                + " | "
                + " | ".join(cells)
                + f" | {o.get('missing_densities', '-')} |"
            )
    if "overhead" in res:
        o = res["overhead"]
        lines += [
            "",
            "## Serving with full-action exploration on and off",
            "",
            "Single-profile `POST /v1/recommendations` at concurrency 1, two servers of the last "
            "champion under uvicorn on loopback (both recording), alternating blocks of 100.",
            "",
            "| exploration | requests | p50 ms | p99 ms | requests/s |",
            "|---|---|---|---|---|",
            *[
                f"| {lab} | {o[lab]['requests']} | {o[lab]['p50_ms']:.2f} | {o[lab]['p99_ms']:.2f} | "
                f"{o[lab]['rps']:.0f} |"
                for lab in ("on", "off")
            ],
            "",
            f"Throughput on/off {o['throughput_ratio_on_vs_off']:.3f} (target >= "
            f"{t['throughput_ratio_min']}); p99 with exploration on {o['on']['p99_ms']:.1f} ms "
            f"(target <= {t['http_p99_c1_ms_max']:.0f} ms).",
        ]
    return "\n".join(lines) + "\n"


def plot(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = summary(res)
    fig, axes = plt.subplots(1, len(s), figsize=(6 * len(s), 3.8), squeeze=False)
    for ax, (world, w) in zip(axes[0], s.items(), strict=True):
        for key, label, style in (
            ("engage_regret", "engage champion", "-o"),
            ("vw_regret", "VW greedy", "--s"),
            ("candidate_regret", "engage candidate (as learned)", ":^"),
        ):
            ax.plot(list(w[key]), list(w[key].values()), style, label=label)
        if w["engage_cost"]:
            ax.bar(
                list(w["engage_cost"]),
                list(w["engage_cost"].values()),
                alpha=0.3,
                label="engage exploration cost",
            )
        ax.set_title(world)
        ax.set_xlabel("round")
        ax.set_ylabel("true normalised regret")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
