"""Interval honesty: do engage's intervals contain the truth as often as they claim?

For each seed a log of ``n`` campaigns is drawn from the simulated world, and
``engage.training.pipeline.train`` runs on it with the product's default settings (only the
report picture, the model registration and the progress bar are off) and the world's oracle
(``engage.simulation.oracle.WorldOracle``), tracking into a temporary MLflow store. Then:

(a) **Per-recommendation 90% prediction intervals.** For ``--heldout`` fresh profiles (their
    own seed, never a log's), the shipped policy's first recommendation
    (``Policy.recommend_context``; also every shown one of the top 3) gives, per outcome, a
    forecast with an interval. A fresh outcome is drawn from the world for that profile and
    action, exactly as ``SimulatedWorld.simulate`` draws logged outcomes (true mean + Gaussian
    noise of ``NOISE_SD``, retention clipped to [0, 100]); coverage is the share of draws inside
    the interval. Side by side: the same intervals at the *logged* action of fresh logged rows
    (the exchangeable case the conformal guarantee covers), the old constant half-widths
    (``Policy.interval_halfwidth``) at the recommended action, and the share of true expected
    outcomes inside the interval (a prediction interval for one draw should contain the mean
    nearly always; when it does not, the point prediction is biased there).
(b) **The 95% DR value intervals.** ``result.values[p]["dr"]`` (value, low, high) of every
    policy ``p`` the run valued, against the oracle's true value ``result.metrics["true.<p>"]``
    (measured by training on the evaluation profiles it scored); for the shipped policy also
    against its value on ``--heldout`` fresh profiles (the population value). Gains: every
    ``policy.dr_gain_vs_<ref>[.<p>]`` (on the held-out rows) and ``gate.gain_vs_<ref>[.<p>]``
    (the shipping gate's rows) with ``_low``/``_high`` in the run's metrics (the gain of ``p``,
    by default ``learned``, over ``ref``) against ``true.<p> - true.<ref>`` (``constant`` is
    ``best_constant``), whatever the OPE then computes.
(c) The relative error of the DR point estimate of the shipped policy's value.

The script measures whatever the code does when it runs; it changes no setting that matters.

Usage::

    .venv/bin/python benchmarks/intervals.py --quick              # 3 seeds, n = 2,000
    .venv/bin/python benchmarks/intervals.py --seeds 20 --sizes 5000
    .venv/bin/python benchmarks/intervals.py --seeds 20 --sizes 5000 20000 --jobs 2
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import datetime as dt
import json
import logging
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
HELDOUT_SEED = 424242
LOGGED_SEED = 515151
LEVEL_VALUE = 0.95  # the DR intervals'
TOP_K = 3
#: metric prefixes of gains, and their labels: the held-out rows' (reported beside the values)
#: and the shipping gate's (held-out plus cross-fitted training rows)
GAIN_PREFIXES = {"policy.dr_gain_vs_": "", "gate.gain_vs_": "gate: "}


# ---------------------------------------------------------------------- the world's draws


def draw_outcomes(
    world, profiles, actions, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """True expected outcomes and one fresh draw of them, (n, 4) each, in the world's outcome
    order; the noise as ``SimulatedWorld.simulate`` adds it (the world's own ``_observe``:
    Gaussian in the classic family, heteroscedastic Student-t in the edge family)."""
    from engage.simulation.world import OUTCOMES

    mean = world.expected_outcomes(profiles, actions)[list(OUTCOMES)].to_numpy(float)
    drawn = world._observe(mean, profiles, rng)
    return mean, drawn


@contextlib.contextmanager
def temporary_store(root: Path):
    """MLflow tracking in a fresh SQLite store under ``root`` for one ``train`` call."""
    old = os.environ.get("MLFLOW_TRACKING_URI")
    store = root / "mlruns"
    store.mkdir(parents=True, exist_ok=True)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store / 'mlflow.db'}"
    try:
        yield store
    finally:
        if old is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old


def train_variants(
    world_name: str, track: str, n: int, seed: int, variants: dict[str, dict[str, Any]], name: str
) -> Iterator[tuple[str, Any, float]]:
    """Simulate one log, then train on it once per variant (settings over the product's
    defaults), each in its own MLflow store, with the world's oracle. Yields the variant's
    label, the training result and its seconds."""
    from engage.simulation.families import make_world, parse_world_name
    from engage.simulation.oracle import WorldOracle
    from engage.simulation.world import write_log
    from engage.training.pipeline import TrainSettings, train
    from engage.training.report import artifacts

    artifacts.PICTURE = False  # no PNG of the run report: seconds per run

    family, difficulty = parse_world_name(world_name)
    world = make_world(family, difficulty, track)
    description = {
        "family": family,
        "difficulty": difficulty,
        "decisions": track,
        "rows": n,
        "seed": seed,
    }
    with tempfile.TemporaryDirectory(prefix=f"engage-{name}-") as tmp:
        path = write_log(world.simulate(n, seed=seed), Path(tmp) / "log.parquet", world=description)
        for i, (label, overrides) in enumerate(variants.items()):
            start = time.perf_counter()
            with temporary_store(Path(tmp) / f"store-{i}") as store:
                result = train(
                    TrainSettings(
                        data=path,
                        experiment=f"bench-{name}",
                        model_name=f"bench-{name}",
                        seed=seed,
                        register_model=False,
                        progress=False,
                        mlruns=store,
                        **overrides,
                    ),
                    oracle=WorldOracle(world, description),
                )
            yield label, result, time.perf_counter() - start


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    for name in ("mlflow", "alembic", "lightgbm", "optuna"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


# ---------------------------------------------------------------------- one run


def _inside(low: np.ndarray, high: np.ndarray, value: np.ndarray) -> np.ndarray:
    return (low <= value) & (value <= high)


def prediction_coverage(policy, world, heldout: int, seed: int) -> dict[str, Any]:
    """(a): coverage of the per-recommendation intervals (see the module docstring)."""
    from engage.simulation.world import OUTCOMES, Actions

    rng = np.random.default_rng(HELDOUT_SEED + seed)
    profiles = world.sample_profiles(heldout, rng)
    context = policy.builder.encode_context(profiles)
    answers = policy.recommend_context(context, top_k=TOP_K, explain=False)
    outcomes = [o for o in OUTCOMES if o in policy.predictor.outcomes]
    col = [list(OUTCOMES).index(o) for o in outcomes]
    frame = policy.candidates.frame
    out: dict[str, Any] = {"outcomes": outcomes}
    for label, ranks in (("recommended", (1,)), ("shown_top3", tuple(range(1, TOP_K + 1)))):
        who, recs = [], []
        for i, a in enumerate(answers):
            for r in a.recommendations:
                if r.rank in ranks:
                    who.append(i)
                    recs.append(r)
        actions = Actions.from_frame(
            frame.iloc[[r.candidate_index for r in recs]].reset_index(drop=True)
        )
        mean, drawn = draw_outcomes(world, profiles.iloc[who].reset_index(drop=True), actions, rng)
        low = np.array([[r.predicted[o].low for o in outcomes] for r in recs])
        high = np.array([[r.predicted[o].high for o in outcomes] for r in recs])
        centre = np.array([[r.predicted[o].mean for o in outcomes] for r in recs])
        const = np.array([policy.interval_halfwidth.get(o, 0.0) for o in outcomes])
        half = (high - low) / 2
        out[label] = {
            "rows": len(recs),
            "coverage": dict(
                zip(outcomes, _inside(low, high, drawn[:, col]).mean(0).tolist(), strict=True)
            ),
            "coverage_of_mean": dict(
                zip(outcomes, _inside(low, high, mean[:, col]).mean(0).tolist(), strict=True)
            ),
            "constant_coverage": dict(
                zip(
                    outcomes,
                    _inside(centre - const, centre + const, drawn[:, col]).mean(0).tolist(),
                    strict=True,
                )
            ),
            "mean_halfwidth": dict(zip(outcomes, half.mean(0).tolist(), strict=True)),
            "halfwidth_cv": dict(
                zip(outcomes, (half.std(0) / np.maximum(half.mean(0), 1e-12)).tolist(), strict=True)
            ),
            "bias": dict(zip(outcomes, (centre - mean[:, col]).mean(0).tolist(), strict=True)),
        }
    # the exchangeable case: fresh logged rows at their logged actions
    log = world.simulate(heldout, seed=LOGGED_SEED + seed)
    rows = policy.builder.build(log)
    pred = policy.predict_outcomes(rows)
    order = list(policy.predictor.outcomes)
    pred = pred[:, [order.index(o) for o in outcomes]]
    if policy.interval_model is not None:
        iv = policy.interval_model
        widths = iv.halfwidths(rows)[:, [iv.outcomes.index(o) for o in outcomes]]
    else:
        widths = np.tile([policy.interval_halfwidth.get(o, 0.0) for o in outcomes], (len(rows), 1))
    observed = log[outcomes].to_numpy(float)
    out["logged"] = {
        "rows": len(rows),
        "coverage": dict(
            zip(outcomes, (np.abs(observed - pred) <= widths).mean(0).tolist(), strict=True)
        ),
    }
    out["level"] = float(
        policy.interval_model.level if policy.interval_model is not None else policy.interval_level
    )
    out["interval_model"] = policy.interval_model is not None
    return out


def value_coverage(result, policy, world, oracle, heldout: int, seed: int) -> dict[str, Any]:
    """(b) and (c): the DR intervals against the truth (see the module docstring)."""
    metrics, values = result.metrics, result.values
    policies: dict[str, Any] = {}
    for name, estimates in values.items():
        if "dr" not in estimates or f"true.{name}" not in metrics:
            continue
        v, lo, hi = (float(x) for x in estimates["dr"])
        truth = float(metrics[f"true.{name}"])
        policies[name] = {
            "dr": v,
            "low": lo,
            "high": hi,
            "true": truth,
            "covered": bool(lo <= truth <= hi),
            "rel_error": (v - truth) / abs(truth) if truth else math.nan,
        }
        if "range" in estimates:  # the DR value's interval allowing for extrapolation
            _, r_lo, r_hi = (float(x) for x in estimates["range"])
            policies[name].update(
                range_low=r_lo, range_high=r_hi, range_covered=bool(r_lo <= truth <= r_hi)
            )
    gains: dict[str, Any] = {}
    for key in metrics:
        prefix = next((p for p in GAIN_PREFIXES if key.startswith(p)), None)
        if prefix is None or key.endswith(("_low", "_high")):
            continue
        # ``<prefix><ref>`` is the learned policy's gain, ``<prefix><ref>.<p>`` p's
        ref, _, who = key.removeprefix(prefix).partition(".")
        who = who or "learned"
        ref_truth = {"constant": "best_constant"}.get(ref, ref)
        label = f"{GAIN_PREFIXES[prefix]}{who} vs {ref}"
        lo, hi = metrics.get(f"{key}_low"), metrics.get(f"{key}_high")
        if (
            lo is None
            or hi is None
            or f"true.{who}" not in metrics
            or f"true.{ref_truth}" not in metrics
        ):
            gains[label] = {"measurable": False}
            continue
        truth = float(metrics[f"true.{who}"]) - float(metrics[f"true.{ref_truth}"])
        gains[label] = {
            "measurable": True,
            "dr": float(metrics[key]),
            "low": float(lo),
            "high": float(hi),
            "true": truth,
            "covered": bool(lo <= truth <= hi),
        }
    # the shipped policy's population value, on fresh profiles
    rng = np.random.default_rng(HELDOUT_SEED + 7 * seed + 1)
    profiles = world.sample_profiles(heldout, rng)
    idx = policy.choose(policy.builder.encode_context(profiles))
    spec = policy.spec
    actions = policy.candidates.frame.iloc[np.asarray(idx)].reset_index(drop=True)[
        spec.decision_names
    ]
    population = oracle.policy_value(profiles, actions, result.objective_weights)
    shipped = policies.get("shipped", {})
    if shipped:
        shipped["population_true"] = population
        shipped["covers_population"] = bool(shipped["low"] <= population <= shipped["high"])
        shipped["rel_error_population"] = (shipped["dr"] - population) / abs(population)
    return {
        "policies": policies,
        "gains": gains,
        "mode": result.mode,
        "regret_shipped": metrics.get("regret.shipped"),
    }


def run_one(world_name: str, n: int, seed: int, heldout: int, trials: int | None) -> dict[str, Any]:
    """Train on one simulated log and measure (a), (b), (c)."""
    _quiet()
    from engage.simulation.families import make_world, parse_world_name
    from engage.simulation.oracle import WorldOracle
    from engage.simulation.world import write_log
    from engage.training.pipeline import TrainSettings, train
    from engage.training.report import artifacts

    artifacts.PICTURE = False  # no PNG of the run report: seconds per run

    family, difficulty = parse_world_name(world_name)
    world = make_world(family, difficulty, "full")
    description = {
        "family": family,
        "difficulty": difficulty,
        "decisions": "full",
        "rows": n,
        "seed": seed,
    }
    oracle = WorldOracle(world, description)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="engage-intervals-") as tmp:
        path = write_log(world.simulate(n, seed=seed), Path(tmp) / "log.parquet", world=description)
        settings: dict[str, Any] = dict(
            data=path,
            experiment="bench-intervals",
            model_name="bench-intervals",
            seed=seed,
            register_model=False,
            progress=False,
        )
        if trials is not None:
            settings["trials"] = trials
        with temporary_store(Path(tmp)) as store:
            result = train(TrainSettings(**settings, mlruns=store), oracle=oracle)
    train_s = time.perf_counter() - start
    policy = result.policy
    row = {
        "world": world_name,
        "n": n,
        "seed": seed,
        "train_seconds": round(train_s, 1),
        "prediction": prediction_coverage(policy, world, heldout, seed),
        "value": value_coverage(result, policy, world, oracle, heldout, seed),
        "logged_interval_metrics": {
            k: v for k, v in result.metrics.items() if k.startswith("intervals.")
        },
    }
    return row


# ---------------------------------------------------------------------- summary


def _mean_sd(xs: list[float]) -> tuple[float, float]:
    a = np.asarray([x for x in xs if x is not None and math.isfinite(x)], dtype=float)
    if len(a) == 0:
        return math.nan, math.nan
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per (world, n): mean coverage per outcome, DR coverage counts, relative errors."""
    out: dict[str, Any] = {}
    for key in sorted({(r["world"], r["n"]) for r in rows}):
        part = [r for r in rows if (r["world"], r["n"]) == key]
        outcomes = part[0]["prediction"]["outcomes"]
        pred: dict[str, Any] = {}
        for label in ("recommended", "shown_top3", "logged"):
            entry: dict[str, Any] = {}
            fields = (
                ("coverage",)
                if label == "logged"
                else (
                    "coverage",
                    "constant_coverage",
                    "coverage_of_mean",
                    "mean_halfwidth",
                    "halfwidth_cv",
                    "bias",
                )
            )
            for field in fields:
                entry[field] = {
                    o: _mean_sd([r["prediction"][label][field][o] for r in part]) for o in outcomes
                }
            pred[label] = entry
        names = sorted({p for r in part for p in r["value"]["policies"]})
        value: dict[str, Any] = {}
        for p in names:
            got = [r["value"]["policies"][p] for r in part if p in r["value"]["policies"]]
            ranged = [g for g in got if "range_covered" in g]
            value[p] = {
                "runs": len(got),
                "covered": sum(g["covered"] for g in got),
                "range_runs": len(ranged),
                "range_covered": sum(g["range_covered"] for g in ranged),
                "width": _mean_sd([g["high"] - g["low"] for g in got])[0],
                "range_width": _mean_sd([g["range_high"] - g["range_low"] for g in ranged])[0]
                if ranged
                else math.nan,
                "mean_rel_error": _mean_sd([g["rel_error"] for g in got]),
                "mean_abs_rel_error": _mean_sd([abs(g["rel_error"]) for g in got]),
            }
            if p == "shipped":
                value[p]["covers_population"] = sum(g.get("covers_population", False) for g in got)
                value[p]["mean_rel_error_population"] = _mean_sd(
                    [g.get("rel_error_population") for g in got]
                )
        gains: dict[str, Any] = {}
        for ref in sorted({g for r in part for g in r["value"]["gains"]}):
            got = [r["value"]["gains"][ref] for r in part if ref in r["value"]["gains"]]
            ok = [g for g in got if g.get("measurable")]
            gains[ref] = {
                "runs": len(ok),
                "covered": sum(g["covered"] for g in ok),
                "unmeasurable": len(got) - len(ok),
            }
        out[f"{key[0]}/{key[1]}"] = {
            "world": key[0],
            "n": key[1],
            "seeds": len(part),
            "level": part[0]["prediction"]["level"],
            "interval_model_runs": sum(r["prediction"]["interval_model"] for r in part),
            "prediction": pred,
            "value": value,
            "gains": gains,
            "modes": {
                m: sum(r["value"]["mode"] == m for r in part)
                for m in sorted({r["value"]["mode"] for r in part})
            },
            "mean_train_seconds": _mean_sd([r["train_seconds"] for r in part])[0],
        }
    return out


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{100 * x:.1f}%"


def render(results: dict[str, Any]) -> str:
    """The results as markdown."""
    m = results["machine"]
    lines = [
        "# Interval honesty: coverage of engage's prediction and value intervals",
        "",
        f"Measured {m['finished']} on {m['cpus']} CPUs, Python {m['python']}; {m['jobs']} run(s) at a time; "
        f"load average (1, 5, 15 min) {m['load_average_at_start']} at the start, {m['load_average_at_end']} at the end; "
        f"wall time {m['wall_seconds']:.0f} s; code at {m['git']}; "
        f"{m['runs_done']} of {m['runs_planned']} planned runs done.",
        f"Command: `{results['command']}`",
        "",
        *([f"> {results['note']}", ""] if results.get("note") else []),
        "Method: see the docstring of `benchmarks/intervals.py`. Every run trains with the product's "
        "default settings (report picture, registration and progress bar off) on a fresh simulated "
        "log; coverage is measured on fresh profiles and fresh outcome draws from the same world.",
        "",
    ]
    for cell in results["summary"].values():
        outcomes = list(cell["prediction"]["recommended"]["coverage"])
        lines += [
            f"## World `{cell['world']}` (full track), n = {cell['n']:,}, {cell['seeds']} seeds",
            "",
            f"Shipped mode: {cell['modes']}; interval model present in {cell['interval_model_runs']} of "
            f"{cell['seeds']} runs; mean training time {cell['mean_train_seconds']:.0f} s.",
            "",
            f"### (a) Per-recommendation {cell['level']:.0%} prediction intervals (mean over seeds ± sd)",
            "",
            "| outcome | recommended action | all shown (top 3) | constant half-width, recommended | "
            "logged action (exchangeable) | true mean inside | mean half-width | half-width sd/mean | bias of ŷ at the recommended action |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        p = cell["prediction"]
        for o in outcomes:

            def ms(label: str, field: str, pct: bool = True, p=p, o=o) -> str:
                mu, sd = p[label][field][o]
                return f"{_pct(mu)} ± {100 * sd:.1f}" if pct else f"{mu:.3g} ± {sd:.2g}"

            lines.append(
                f"| {o} | {ms('recommended', 'coverage')} | {ms('shown_top3', 'coverage')} | "
                f"{ms('recommended', 'constant_coverage')} | {ms('logged', 'coverage')} | "
                f"{ms('recommended', 'coverage_of_mean')} | {ms('recommended', 'mean_halfwidth', False)} | "
                f"{ms('recommended', 'halfwidth_cv', False)} | {ms('recommended', 'bias', False)} |"
            )
        lines += [
            "",
            f"### (b) {LEVEL_VALUE:.0%} DR value intervals containing the true value, and (c) DR relative error",
            "",
            "| policy | runs | DR interval contains the truth | coverage | its mean width | "
            "range contains the truth | coverage | its mean width | "
            "mean relative error (DR − true)/|true| ± sd | mean absolute relative error |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name, v in cell["value"].items():
            mu, sd = v["mean_rel_error"]
            r_runs = v.get("range_runs", 0)
            ranged = (
                f"{v['range_covered']} | {_pct(v['range_covered'] / r_runs)} | {v['range_width']:.3f}"
                if r_runs
                else "n/a | n/a | n/a"
            )
            width = v.get("width", math.nan)
            lines.append(
                f"| {name} | {v['runs']} | {v['covered']} | {_pct(v['covered'] / v['runs'])} | {width:.3f} | "
                f"{ranged} | {100 * mu:+.2f}% ± {100 * sd:.2f} | {100 * v['mean_abs_rel_error'][0]:.2f}% |"
            )
        s = cell["value"].get("shipped")
        if s:
            mu, sd = s["mean_rel_error_population"]
            lines += [
                "",
                f"Shipped policy against its value on fresh profiles (the population value): interval "
                f"contains it in {s['covers_population']} of {s['runs']} runs "
                f"({_pct(s['covers_population'] / s['runs'])}); relative error {100 * mu:+.2f}% ± {100 * sd:.2f}.",
            ]
        if cell["gains"]:
            lines += [
                "",
                "| gain interval | runs | contains the true gain | unmeasurable runs |",
                "|---|---|---|---|",
            ]
            for ref, g in cell["gains"].items():
                cov = _pct(g["covered"] / g["runs"]) if g["runs"] else "n/a"
                lines.append(
                    f"| {ref} | {g['runs']} | {g['covered']} ({cov}) | {g['unmeasurable']} |"
                )
        lines.append("")
    lines += [
        "## Reading the figures",
        "",
        "- The conformal guarantee covers rows exchangeable with the training log, i.e. the logged "
        "actions (column 'logged action'). At the recommended action the outcome model extrapolates "
        "and has been selected for a high prediction (a winner's curse), so its error there can exceed "
        "the log's; the 'bias' column is the mean of ŷ − E[y] at the recommended action.",
        "- The simulated world's noise is Gaussian with the same sd for every profile and action "
        "(`NOISE_SD`), so the honest interval width hardly varies there: the scale models find little "
        "to learn (small half-width sd/mean) and the intervals stay close to the constant ones. The "
        "unit tests (`tests/unit/training/test_conformal.py`) show the widths following the noise "
        "where it does vary.",
        "- 'true mean inside' is the share of true expected outcomes within the prediction interval; "
        "it is near 100% unless the point prediction is biased.",
        "- Value intervals: `true.<policy>` is the oracle's value on the evaluation profiles training "
        "scored (`engage.training.oracle.measure_truth`); the population value uses fresh profiles.",
        "- The *range* is the interval the product reports with the DR value "
        "(`engage.ope.extrapolation_range`): DR's 95% interval where the policy's "
        "action is the logged one on every style-matched row, else the span of the DR and DM "
        "intervals, which also allows for the valuing models' error at actions marketers did not take.",
        "",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------- main


def _git() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=5,
            check=True,
        ).stdout.strip()
        return f"{sha}{' + uncommitted changes' if dirty else ''}"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_facts(
    started: dt.datetime,
    t0: float,
    load_start: list[float],
    jobs: int,
    git: str,
    done: int,
    planned: int,
) -> dict[str, Any]:
    """Where and when a benchmark ran, how loaded the machine was, and how far it got."""
    return {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"),
        "finished": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "jobs": jobs,
        "load_average_at_start": load_start,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "git": git,
        "runs_done": done,
        "runs_planned": planned,
    }


def write_results(
    out: Path, results: dict[str, Any], render: Callable[[dict[str, Any]], str]
) -> None:
    """``out``.json (the results) and ``out``.md (``render`` of them), the folder made if need be."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=float))
    out.with_suffix(".md").write_text(render(results))


def rerender(path: Path, render: Callable[[dict[str, Any]], str]) -> None:
    """Write the markdown of the results JSON at ``path`` again (after a change of ``render``)."""
    path.with_suffix(".md").write_text(render(json.loads(path.read_text())))


def main(argv: list[str] | None = None) -> int:
    from engage.simulation.families import world_names

    parser = argparse.ArgumentParser(
        description="Coverage of engage's prediction and value intervals."
    )
    parser.add_argument(
        "--world",
        default="hard",
        choices=world_names(),
        help="simulated world: a classic difficulty or <family>-<difficulty> "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--seeds", type=int, default=20, help="seeds (logs) per size (default: %(default)s)"
    )
    parser.add_argument(
        "--first-seed", type=int, default=0, help="first seed (default: %(default)s)"
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[5000], help="log sizes n (default: %(default)s)"
    )
    parser.add_argument(
        "--heldout",
        type=int,
        default=2000,
        help="fresh profiles per run for the coverage draws (default: %(default)s)",
    )
    parser.add_argument(
        "--trials", type=int, default=None, help="Optuna trials (default: the product's default)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="3 seeds at n = 2,000 (a few minutes)")
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS / "intervals",
        help="results path without suffix: .json and .md are written (default: %(default)s)",
    )
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        help="only re-render the markdown of an existing results JSON (default: run)",
    )
    args = parser.parse_args(argv)
    if args.render is not None:
        rerender(args.render, render)
        return 0
    if args.quick:
        args.seeds, args.sizes = 3, [2000]
    _quiet()
    started, t0 = dt.datetime.now(dt.UTC), time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]
    jobs = [
        (args.world, n, args.first_seed + s, args.heldout, args.trials)
        for n in args.sizes
        for s in range(args.seeds)
    ]
    rows: list[dict[str, Any]] = []
    command = "python benchmarks/intervals.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )

    def write() -> dict[str, Any]:
        """The results so far (written after every run: an interrupted benchmark keeps its
        finished seeds, and the markdown says how many there are)."""
        results = {
            "command": command,
            "machine": machine_facts(started, t0, load_start, args.jobs, git, len(rows), len(jobs)),
            "settings": {
                "world": args.world,
                "seeds": args.seeds,
                "first_seed": args.first_seed,
                "sizes": args.sizes,
                "heldout": args.heldout,
                "trials": args.trials,
            },
            "summary": summarise(rows),
            "runs": sorted(rows, key=lambda r: (r["n"], r["seed"])),
        }
        write_results(args.out, results, render)
        return results

    git = _git()
    if args.jobs <= 1:
        for job in jobs:
            rows.append(run_one(*job))
            print(f"done {job[:3]} in {rows[-1]['train_seconds']} s", flush=True)
            write()
    else:
        if str(REPO) not in sys.path:  # run as a script: benchmarks/ is on the path, not REPO
            sys.path.insert(0, str(REPO))
        from benchmarks.support.pools import tied_to_parent

        with cf.ProcessPoolExecutor(args.jobs, **tied_to_parent()) as pool:
            futures = [pool.submit(run_one, *job) for job in jobs]
            for future in cf.as_completed(futures):
                rows.append(future.result())
                print(f"done n={rows[-1]['n']} seed={rows[-1]['seed']}", flush=True)
                write()
    print(render(write()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
