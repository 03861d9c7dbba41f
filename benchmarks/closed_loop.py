"""Closed-loop benchmark: engage's loop with full-action exploration against Vowpal Wabbit
learning online, on the same simulated world and the same stream of businesses.

Not a test: run it by hand (under the bench lock) and commit the results it writes.

    flock /tmp/engage-bench.lock .venv/bin/python benchmarks/closed_loop.py \\
        --worlds hard --seeds 0 --rounds 3 --rows 2000             # the reduced run
    .venv/bin/python benchmarks/closed_loop.py                      # the full spec (hours)

For each world and seed, from the same confounded log of ``--rows`` campaigns:

* **engage**: train (``trials=0``) the first champion; then each round serve ``--rows`` new
  businesses through the real service (``create_app`` under uvicorn on loopback, decisions in
  SQLite) with full-action exploration (epsilon over styles, mix and cadence drawn around the
  policy's with recorded densities, a service budget); the world draws outcomes, posted to
  ``POST /v1/outcomes``; ``engage decisions export``; value the previous round's candidate on
  these decisions (style-matched DR and kernel DR from the recorded densities) against the
  truth; retrain on everything; training's gate promotes if better.
* **vw**: :class:`benchmarks.support.loop_vw.OnlineVW` (``--cb_explore_adf`` over a discretised
  action set) learns from the same log, then online from each business of the same stream.

Reported per round: each contender's true normalised regret of what it would serve greedily,
``(oracle - value) / (oracle - logging policy)`` on 2,000 fixed evaluation profiles; engage's
exploration cost (true: the greedy champion's value less the served actions', in the same
regret units; and the model-estimated cost the service recorded) and the DR intervals against
the truth. A last phase measures serving with full-action exploration on against off (HTTP
p50/p99 at concurrency 1, requests per second, alternating blocks).

Writes ``benchmarks/results/closed_loop.{json,md}`` and ``closed_loop.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks.support.loop_report import markdown, plot  # noqa: E402
from benchmarks.support.loop_service import overhead, post_outcomes, serve_round, serving  # noqa: E402
from benchmarks.support.loop_vw import OnlineVW  # noqa: E402
from engage.contract.spec import load_spec  # noqa: E402
from engage.decisions.export import export_decisions  # noqa: E402
from engage.decisions.settings import DecisionSettings  # noqa: E402
from engage.decisions.store import open_store  # noqa: E402
from engage.simulation.families import parse_world_name  # noqa: E402
from engage.simulation.oracle import WorldOracle  # noqa: E402
from engage.simulation.vocabulary import OUTCOMES  # noqa: E402
from engage.simulation.world import Actions, write_log  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
TARGETS = {
    "regret_after_8_rounds_max": 0.10,
    "regret_vs_vw_from_round_2_max": 0.5,
    "regret_rise_max": 0.02,
    "exploration_cost_per_round_max": 0.05,
    "dr_coverage_min": 0.9,
    "http_p99_c1_ms_max": 25.0,
    "throughput_ratio_min": 0.9,
}
#: the service's exploration budget per decision, in the benchmark's regret units (the
#: operator's choice, set at the target's level; converted to objective units per world)
BUDGET_REGRET = 0.05


# ---------------------------------------------------------------------- one world and seed


class Stage:
    """One world and seed: the starting log, the stream of businesses, the truth."""

    def __init__(self, world_name: str, seed: int, rows: int, rounds: int, tmp: Path) -> None:
        family, difficulty = parse_world_name(world_name)
        self.name, self.seed = world_name, seed
        self.settings = {"family": family, "difficulty": difficulty, "decisions": "full"}
        self.oracle = WorldOracle.from_settings({**self.settings, "seed": seed, "rows": rows})
        self.world = self.oracle.world
        self.spec = load_spec()
        self.weights = self.spec.outcome_weights()
        self.w = np.array([self.weights[o] for o in OUTCOMES])
        self.log0 = self.world.simulate(rows, seed=seed)
        self.first = tmp / f"log0-{world_name}-{seed}.parquet"
        write_log(self.log0, self.first, world={**self.settings, "seed": seed, "rows": rows})
        evaluation = self.world.simulate(2000, seed=10_000 + seed, with_truth=True)
        self.eval_profiles = evaluation[self.spec.context_names]
        self.best = self.oracle.best_value(self.eval_profiles, self.weights)
        self.logging_value = float(evaluation["true_objective"].mean())
        rng = np.random.default_rng(seed + 1)
        self.stream = [self.world.sample_profiles(rows, rng) for _ in range(rounds)]
        self.noise = np.random.default_rng(seed + 2)

    @property
    def unit(self) -> float:
        """The objective points of one unit of normalised regret."""
        return self.best - self.logging_value

    def regret(self, actions: pd.DataFrame) -> float:
        value = self.oracle.policy_value(self.eval_profiles, actions, self.weights)
        return (self.best - value) / self.unit

    def outcomes(self, profiles: pd.DataFrame, actions: Actions) -> tuple[np.ndarray, float]:
        """Observed outcomes of ``actions`` and their true mean objective."""
        truth = self.world.expected_outcomes(profiles, actions, self.w)
        observed = self.world._observe(truth[OUTCOMES].to_numpy(), profiles, self.noise)
        return observed, float(truth["objective"].mean())

    def value(self, profiles: pd.DataFrame, actions: pd.DataFrame) -> float:
        return self.oracle.policy_value(profiles, actions, self.weights)


# ---------------------------------------------------------------------- engage's loop


def greedy_actions(policy, profiles: pd.DataFrame) -> pd.DataFrame:
    """The policy's own (unexplored) choice for each profile, as decision columns."""
    choice = policy.choose(policy.builder.encode_context(profiles))
    return policy.candidates.frame.iloc[choice].reset_index(drop=True)


def ope_on_round(stage: Stage, policy, frame: pd.DataFrame, n_boot: int) -> dict[str, Any]:
    """Style-matched DR and kernel DR of ``policy`` on the round's decisions, against the truth:
    the world's value of the policy's greedy actions on the round's businesses, and (the kernel
    estimators' estimand) of those actions smoothed by the estimators' kernel."""
    from engage import ope
    from engage.cli.evaluate import logged_data, value_of
    from engage.decisions.export import recorded_actions
    from engage.decisions.valuation import chosen_actions, full_action_value

    spec = stage.spec
    profiles = frame[spec.context_names]
    truth = stage.value(profiles, chosen_actions(policy, frame))
    data = logged_data(policy, frame, spec)
    style_only, agreement = value_of(policy, frame, data, n_boot=n_boot, seed=0)
    full, missing = full_action_value(policy, frame, spec, data, n_boot=n_boot, seed=0)
    out: dict[str, Any] = {"truth": truth, "agreement": agreement, "missing_densities": missing}
    values = {"dr": style_only["dr"], "range": style_only["range"]}
    if full is not None:
        values.update(ope.as_triples(full))
        actions, _ = recorded_actions(spec, frame)
        target = chosen_actions(policy, frame)
        draws = 8
        mixes, nums = ope.kernel_samples(
            actions,
            target[spec.mix_columns].to_numpy(float),
            target[["posts_per_week"]].to_numpy(float),
            draws=draws,
            seed=1,
        )
        smoothed = target.loc[target.index.repeat(draws)].reset_index(drop=True)
        smoothed[spec.mix_columns] = mixes
        smoothed["posts_per_week"] = nums[:, 0]
        many = profiles.loc[profiles.index.repeat(draws)].reset_index(drop=True)
        out["smoothed_truth"] = stage.value(many, smoothed)
    for name, (v, lo, hi) in values.items():
        out[name] = [v, lo, hi]
        out[f"{name}.covers"] = bool(lo <= truth <= hi)
        if name.startswith("k") and "smoothed_truth" in out:
            out[f"{name}.covers_smoothed"] = bool(lo <= out["smoothed_truth"] <= hi)
    return out


def run_engage(stage: Stage, args: argparse.Namespace, tmp: Path, tracking: str) -> list[dict]:
    from engage.serving.model import ModelLoader
    from engage.training import oracle as oracle_module
    from engage.training.pipeline import TrainSettings, train

    name = f"loop-{stage.name}-{stage.seed}"
    loader = ModelLoader(tracking)

    def fit(data: Path, spec: Path | None):
        oracle_module.ORACLE_ROWS = 500  # the run's true.* values on 500 profiles (a constant)
        return train(
            TrainSettings(
                data=data,
                spec=spec,
                experiment=f"closed-loop-{stage.name}-{stage.seed}",
                model_name=name,
                trials=0,
                n_boot=100,
                progress=False,
                mlruns=tmp / "mlruns",
                seed=stage.seed,
            ),
            oracle=stage.oracle,
        )

    def policy(version: str):
        return loader.load(f"models:/{name}/{version}").policy

    def judged(result) -> dict[str, Any]:
        """What the run's gate made of its candidate: the mode, whether it was promoted, the
        personalised policy's true regret and its DR gain over the logging policy (interval)."""
        m = result.metrics
        key = "gate.gain_vs_logged.learned"
        return {
            "mode": result.mode,
            "promoted": bool(result.promoted),
            "candidate_regret": stage.regret(
                greedy_actions(
                    dataclasses.replace(result.policy, mode="personalized"), stage.eval_profiles
                )
            ),
            "learned_gain": [m.get(key), m.get(f"{key}_low"), m.get(f"{key}_high")],
            "gate_rows": m.get("gate.rows"),
        }

    result = fit(stage.first, None)
    # the first champion serves even when the gate kept the logging policy: the loop needs a
    # serving policy to start from (the product then serves the logging distribution)
    champion = candidate = result.version
    row0 = {"contender": "engage", "world": stage.name, "seed": stage.seed, "round": 0}
    rows = [
        {
            **row0,
            "regret": stage.regret(greedy_actions(policy(champion), stage.eval_profiles)),
            "champion": champion,
            **judged(result),
        }
    ]
    exploration = {"method": "epsilon", "epsilon": args.epsilon, "full": True}
    logs = [stage.log0[stage.spec.declared_columns]]
    for r, profiles in enumerate(stage.stream, start=1):
        started = time.perf_counter()
        db = DecisionSettings(url=f"sqlite:///{tmp / f'{name}-round{r}.db'}")
        serve = {"exploration_service_budget": BUDGET_REGRET * stage.unit}
        with serving(f"models:/{name}/{champion}", tracking, db, **serve) as base:
            ids, actions = serve_round(base, profiles, exploration)
            observed, served_value = stage.outcomes(profiles, Actions.from_frame(actions))
            post_outcomes(base, ids, observed)
        store = open_store(db.store_url())
        model_cost = float(np.mean([d.exploration.get("cost", 0.0) for d, _ in store.joined()]))
        exported = export_decisions(store, stage.spec, tmp / f"{name}-r{r}.parquet")
        store.close()
        frame = pd.read_parquet(exported.log)
        greedy_value = stage.value(profiles, greedy_actions(policy(champion), profiles))
        evaluated_version, evaluated = candidate, policy(candidate)
        ope_result = ope_on_round(stage, evaluated, frame, args.n_boot)
        logs.append(frame)
        combined = tmp / f"{name}-upto{r}.parquet"
        pd.concat(logs, ignore_index=True).to_parquet(combined, index=False)
        result = fit(combined, exported.spec)  # the export's spec: densities kept, passthrough
        champion = result.version if result.promoted else champion
        candidate = result.version
        rows.append(
            {
                **row0,
                "round": r,
                "regret": stage.regret(greedy_actions(policy(champion), stage.eval_profiles)),
                "exploration_cost": (greedy_value - served_value) / stage.unit,
                "exploration_cost_model": model_cost / stage.unit,
                "ope_on_round": ope_result,
                "evaluated_version": evaluated_version,
                **judged(result),
                "champion": champion,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(f"engage {stage.name} seed {stage.seed} round {r}: {_brief(rows[-1])}", flush=True)
    return rows


def _brief(row: dict) -> str:
    o = row.get("ope_on_round", {})
    kdr = o.get("kdr", [float("nan")] * 3)
    return (
        f"regret {row['regret']:.3f}, cost {row.get('exploration_cost', 0):.3f}, "
        f"kDR {kdr[0]:.3f} [{kdr[1]:.3f}, {kdr[2]:.3f}] truth {o.get('truth', float('nan')):.3f}"
    )


# ---------------------------------------------------------------------- VW online


def run_vw(stage: Stage) -> list[dict]:
    log = stage.log0.copy()
    log["reward"] = log[OUTCOMES].to_numpy(float) @ stage.w
    vw = OnlineVW(log, stage.seed)
    row0 = {"contender": "vw", "world": stage.name, "seed": stage.seed}
    rows = [{**row0, "round": 0, "regret": stage.regret(vw.greedy(stage.eval_profiles))}]
    for r, profiles in enumerate(stage.stream, start=1):
        started = time.perf_counter()
        greedy_value = stage.value(profiles, vw.greedy(profiles))
        action, prob = vw.explore(profiles)
        observed, served_value = stage.outcomes(profiles, vw.joint.actions(action))
        vw.learn(vw.features.transform(profiles), action, observed @ stage.w, prob)
        rows.append(
            {
                **row0,
                "round": r,
                "regret": stage.regret(vw.greedy(stage.eval_profiles)),
                "exploration_cost": (greedy_value - served_value) / stage.unit,
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(f"vw {stage.name} seed {stage.seed} round {r}: regret {rows[-1]['regret']:.3f}")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", nargs="+", default=["hard", "edge-hard"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--rows", type=int, default=5000, help="first log and businesses/round")
    parser.add_argument(
        "--epsilon", type=float, default=0.05, help="engage's style epsilon (VW's too)"
    )
    parser.add_argument("--n-boot", dest="n_boot", type=int, default=200)
    parser.add_argument("--overhead-blocks", type=int, default=10, help="0 skips the phase")
    parser.add_argument("--reduced", default="", help="what this run leaves out of the spec")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.getLogger("engage.decisions").setLevel(logging.WARNING)
    import mlflow

    machine = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="engage-loop-") as name:
        tmp = Path(name)
        tracking = f"sqlite:///{tmp / 'mlruns' / 'mlflow.db'}"
        (tmp / "mlruns").mkdir()
        os.environ["MLFLOW_TRACKING_URI"] = tracking
        mlflow.set_tracking_uri(tracking)
        rows: list[dict] = []
        for world in args.worlds:
            for seed in args.seeds:
                stage = Stage(world, seed, args.rows, args.rounds, tmp)
                rows += run_vw(stage)
                rows += run_engage(stage, args, tmp, tracking)
        res: dict[str, Any] = {
            "command": "python benchmarks/closed_loop.py " + " ".join(sys.argv[1:]),
            "reduced": args.reduced,
            "machine": machine,
            "params": {k: v for k, v in vars(args).items() if k != "out"},
            "targets": TARGETS,
            "budget_regret_units": BUDGET_REGRET,
            "rows": rows,
        }
        if args.overhead_blocks:
            last = [r for r in rows if r["contender"] == "engage"][-1]
            uri = f"models:/loop-{last['world']}-{last['seed']}/{last['champion']}"
            res["overhead"] = overhead(uri, tracking, tmp, args.overhead_blocks, 100, args.epsilon)
    res["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    res["machine"]["wall_seconds"] = round(time.perf_counter() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "closed_loop.json").write_text(json.dumps(res, indent=2, default=str))
    (args.out / "closed_loop.md").write_text(markdown(res))
    plot(res, args.out / "closed_loop.png")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
