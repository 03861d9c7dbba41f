"""Closed-loop benchmark: serve with exploration, record, take outcomes back, evaluate, retrain.

Not a test: run it by hand and commit the results it writes.

    .venv/bin/python benchmarks/closed_loop.py                      # defaults below (~10-20 min)
    .venv/bin/python benchmarks/closed_loop.py --rounds 5 --rows 5000 --seeds 0 1 2

For each seed, and for each arm (``epsilon``: exploration on, ``greedy``: off), starting from
the same confounded simulated log of ``--rows`` campaigns:

1. train (``trials=0``) into a temporary MLflow store: the first champion;
2. for each of ``--rounds`` rounds: run the real service (``create_app`` under uvicorn on
   loopback, decisions recorded in SQLite), send ``--rows`` new simulated businesses to
   ``POST /v1/recommendations/batch`` with the arm's exploration, let the world draw each
   served action's outcomes (expected outcomes plus the world's noise) and post them one by one
   to ``POST /v1/outcomes``; ``engage decisions export`` the round (``--complete-only``);
3. off-policy value of the policy trained at the end of the previous round (the one a team
   would consider promoting) on this round's recorded decisions: IPS, SNIPS and DR with the
   **recorded** propensities, and IPS/DR with propensities **estimated** by a logistic model
   of the served style on the profile; against the truth (the world's expected objective of that
   policy's greedy actions on the same profiles);
4. retrain on everything so far (the first log plus every export); training's own gate
   promotes it if it beats the champion; report the champion's true normalised regret,
   ``(oracle - champion) / (oracle - logging policy)`` on a fixed set of 2,000 profiles.

A last phase measures what recording costs the request path: single-profile requests at
concurrency 1 against two servers of the same model, recording on and off, in alternating
blocks (side by side), HTTP p50/p99 and requests per second.

Writes ``benchmarks/results/closed_loop.{json,md}`` and a plot ``closed_loop.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from engage.contract.spec import load_spec  # noqa: E402
from engage.decisions.export import export_decisions  # noqa: E402
from engage.decisions.settings import DecisionSettings  # noqa: E402
from engage.decisions.store import open_store  # noqa: E402
from engage.serving.app import create_app  # noqa: E402
from engage.serving.settings import ServeSettings  # noqa: E402
from engage.simulation.oracle import WorldOracle  # noqa: E402
from engage.simulation.vocabulary import OUTCOMES  # noqa: E402
from engage.simulation.world import Actions, SimulatedWorld, write_log  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
TARGETS = {"coverage_min": 0.9, "http_p99_c1_ms_max": 25.0, "throughput_ratio_min": 0.9}
BATCH = 500


# ---------------------------------------------------------------------- the real service


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(
    model_uri: str, tracking: str, decisions: DecisionSettings, **settings: Any
) -> Iterator[str]:
    """The app under uvicorn on a loopback port, in a thread; yields its base URL."""
    import uvicorn

    port = _free_port()
    app = create_app(
        ServeSettings(
            model_uri=model_uri,
            tracking_uri=tracking,
            reload_interval_s=0,
            startup_wait_s=60,
            max_batch=BATCH,
            access_log=False,
            **settings,
        ),
        decisions,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        time.sleep(0.2)
    else:
        server.should_exit = True
        raise RuntimeError("the service did not become ready in 120 s")
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(30)


# ---------------------------------------------------------------------- one round


def serve_round(
    base: str, profiles: pd.DataFrame, exploration: dict[str, Any]
) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    """Decision ids, served actions and their probabilities for ``profiles``."""
    ids, actions, probs = [], [], []
    records = profiles.to_dict("records")
    with httpx.Client(timeout=120) as client:
        for start in range(0, len(records), BATCH):
            r = client.post(
                f"{base}/v1/recommendations/batch",
                json={
                    "profiles": records[start : start + BATCH],
                    "top_k": 1,
                    "explain": False,
                    "exploration": exploration,
                },
            )
            r.raise_for_status()
            for item in r.json()["results"]:
                rec = item["recommendations"][0]
                ids.append(item["decision_id"])
                probs.append(rec["probability"])
                actions.append(
                    {
                        "style": rec["style"],
                        **{f"mix_{k}": v for k, v in rec["posting_mix"].items()},
                        "posts_per_week": rec["decisions"]["posts_per_week"],
                    }
                )
    return ids, pd.DataFrame(actions), np.array(probs)


def post_outcomes(base: str, ids: list[str], observed: np.ndarray) -> None:
    with httpx.Client(timeout=30) as client:
        for did, values in zip(ids, observed, strict=True):
            r = client.post(
                f"{base}/v1/outcomes",
                json={
                    "decision_id": did,
                    "outcomes": dict(zip(OUTCOMES, map(float, values), strict=True)),
                },
            )
            r.raise_for_status()


def greedy_actions(policy, profiles: pd.DataFrame) -> pd.DataFrame:
    """The policy's own (unexplored) choice for each profile, as decision columns."""
    choice = policy.choose(policy.builder.encode_context(profiles))
    return policy.candidates.frame.iloc[choice].reset_index(drop=True)


def estimated_propensity(frame: pd.DataFrame, spec) -> np.ndarray:
    """P(logged style | profile) from a logistic model fitted on the log itself."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from engage.policy.encoding import FeatureBuilder

    X = FeatureBuilder(spec).encode_context(frame)
    X = (X - X.mean(0)) / (X.std(0) + 1e-9)
    y = frame[spec.style.name].map({s: i for i, s in enumerate(spec.styles)}).to_numpy()
    if len(np.unique(y)) == 1:
        return np.ones(len(y))
    proba = cross_val_predict(LogisticRegression(max_iter=500), X, y, cv=3, method="predict_proba")
    classes = np.unique(y)
    col = {c: j for j, c in enumerate(classes)}
    return proba[np.arange(len(y)), [col[c] for c in y]]


def ope_on_round(policy, frame: pd.DataFrame, spec, truth: float, n_boot: int) -> dict[str, Any]:
    from engage import ope
    from engage.cli.evaluate import logged_data, value_of

    data = logged_data(policy, frame, spec)
    known, agreement = value_of(policy, frame, data, n_boot=n_boot, seed=0)
    est_p = np.clip(estimated_propensity(frame, spec), 0.01, 1.0)
    data_est = ope.LoggedData(
        reward=data.reward, style=data.style, propensity=est_p, q_logged=data.q_logged
    )
    estimated, _ = value_of(policy, frame, data_est, n_boot=n_boot, seed=0)
    out: dict[str, Any] = {
        "truth": truth,
        "agreement": agreement,
        "logged_observed": float(data.reward.mean()),
    }
    for label, values in (("known", known), ("estimated", estimated)):
        for est in ("ips", "snips", "dr"):
            v, lo, hi = values[est]
            out[f"{label}.{est}"] = [v, lo, hi]
            out[f"{label}.{est}.covers"] = bool(lo <= truth <= hi)
            out[f"{label}.{est}.error"] = v - truth
    return out


# ---------------------------------------------------------------------- one arm


def run_arm(
    arm: str, seed: int, args: argparse.Namespace, tmp: Path, tracking: str
) -> dict[str, Any]:
    from engage.serving.model import ModelLoader
    from engage.training import oracle as oracle_module
    from engage.training.pipeline import TrainSettings, train

    world = SimulatedWorld("hard")
    settings_world = {"difficulty": "hard", "decisions": "full", "seed": seed, "rows": args.rows}
    oracle = WorldOracle.from_settings(settings_world)
    spec = load_spec()
    weights = spec.outcome_weights()
    w = np.array([weights[o] for o in OUTCOMES])
    log0 = world.simulate(args.rows, seed=seed)
    first = tmp / f"log0-{seed}.parquet"
    write_log(log0, first, world=settings_world)

    evaluation = world.simulate(2000, seed=10_000 + seed, with_truth=True)
    eval_profiles = evaluation[spec.context_names]
    best = oracle.best_value(eval_profiles, weights)
    logging_value = float(evaluation["true_objective"].mean())
    name = f"loop-{arm}-{seed}"
    loader = ModelLoader(tracking)

    def fit(data: Path):
        oracle_module.ORACLE_ROWS = 500  # the run's true.* values on 500 profiles (a constant)
        return train(
            TrainSettings(
                data=data,
                spec=None,
                experiment=f"closed-loop-{seed}",
                model_name=name,
                trials=0,
                n_boot=100,
                progress=False,
                mlruns=tmp / "mlruns",
                seed=seed,
            ),
            oracle=oracle,
        )

    def regret_of(version: str) -> float:
        policy = loader.load(f"models:/{name}/{version}").policy
        value = oracle.policy_value(eval_profiles, greedy_actions(policy, eval_profiles), weights)
        return (best - value) / (best - logging_value)

    result = fit(first)
    champion = result.version
    rounds: list[dict[str, Any]] = [
        {
            "round": 0,
            "trained_version": result.version,
            "promoted": True,
            "champion": champion,
            "champion_regret": regret_of(champion),
        }
    ]
    candidate = result.version
    logs = [log0[spec.declared_columns]]
    exploration = (
        {"method": "epsilon", "epsilon": args.epsilon} if arm == "epsilon" else {"method": "greedy"}
    )
    rng = np.random.default_rng(seed + 1)
    for r in range(1, args.rounds + 1):
        started = time.perf_counter()
        profiles = world.sample_profiles(args.rows, rng)
        db = DecisionSettings(url=f"sqlite:///{tmp / f'{name}-round{r}.db'}")
        with serving(f"models:/{name}/{champion}", tracking, db) as base:
            ids, actions, probs = serve_round(base, profiles, exploration)
            truth = world.expected_outcomes(profiles, Actions.from_frame(actions), w)
            observed = world._observe(truth[OUTCOMES].to_numpy(), profiles, rng)
            post_outcomes(base, ids, observed)
        store = open_store(db.store_url())
        exported = export_decisions(
            store, spec, tmp / f"{name}-round{r}.parquet", complete_only=True
        )
        store.close()
        frame = pd.read_parquet(exported.log)
        # OPE of the latest candidate on this round's recorded decisions, against the truth
        evaluated = candidate
        policy = loader.load(f"models:/{name}/{candidate}").policy
        true_value = oracle.policy_value(profiles, greedy_actions(policy, profiles), weights)
        ope_result = ope_on_round(policy, frame, spec, true_value, args.n_boot)
        logs.append(frame)
        combined = tmp / f"{name}-upto{r}.parquet"
        pd.concat(logs, ignore_index=True).to_parquet(combined, index=False)
        result = fit(combined)
        if result.promoted:
            champion = result.version
        candidate = result.version
        rounds.append(
            {
                "round": r,
                "served_with": exploration,
                "decisions": len(frame),
                "probability_min": float(probs.min()),
                "probability_mean": float(probs.mean()),
                "realised_objective": float(truth["objective"].mean()),
                "evaluated_version": evaluated,
                "ope": ope_result,
                "trained_version": result.version,
                "promoted": bool(result.promoted),
                "champion": champion,
                "champion_regret": regret_of(champion),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        print(
            f"seed {seed} {arm} round {r}: regret {rounds[-1]['champion_regret']:.3f} "
            f"promoted {result.promoted}; DR known {ope_result['known.dr'][0]:.3f} "
            f"truth {true_value:.3f}",
            flush=True,
        )
    return {
        "arm": arm,
        "seed": seed,
        "oracle_value": best,
        "logging_value": logging_value,
        "rounds": rounds,
    }


# ---------------------------------------------------------------------- recording overhead


def overhead(
    model_uri: str, tracking: str, tmp: Path, blocks: int, per_block: int
) -> dict[str, Any]:
    from engage.serving.examples import EXAMPLE_PROFILE

    world = SimulatedWorld("hard")
    profiles = world.sample_profiles(500, np.random.default_rng(99)).to_dict("records")
    times: dict[str, list[float]] = {"on": [], "off": []}
    walls: dict[str, float] = {"on": 0.0, "off": 0.0}
    on = DecisionSettings(url=f"sqlite:///{tmp / 'overhead.db'}")
    off = DecisionSettings(record=False)
    with (
        serving(model_uri, tracking, on) as base_on,
        serving(model_uri, tracking, off) as base_off,
        httpx.Client(timeout=30) as c_on,
        httpx.Client(timeout=30) as c_off,
    ):
        for client, base in ((c_on, base_on), (c_off, base_off)):  # warm up
            for _ in range(50):
                client.post(f"{base}/v1/recommendations", json={"profile": EXAMPLE_PROFILE})
        k = 0
        for b in range(blocks):
            order = (("on", c_on, base_on), ("off", c_off, base_off))
            for label, client, base in order if b % 2 == 0 else order[::-1]:
                t0 = time.perf_counter()
                for _ in range(per_block):
                    s = time.perf_counter()
                    r = client.post(
                        f"{base}/v1/recommendations", json={"profile": profiles[k % len(profiles)]}
                    )
                    times[label].append(time.perf_counter() - s)
                    r.raise_for_status()
                    k += 1
                walls[label] += time.perf_counter() - t0
    out: dict[str, Any] = {}
    for label in ("on", "off"):
        ms = sorted(1000 * t for t in times[label])
        out[label] = {
            "requests": len(ms),
            "p50_ms": statistics.median(ms),
            "p99_ms": ms[int(0.99 * (len(ms) - 1))],
            "rps": len(ms) / walls[label],
        }
    out["throughput_ratio_on_vs_off"] = out["on"]["rps"] / out["off"]["rps"]
    return out


# ---------------------------------------------------------------------- report


def summarise(arms: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for arm in ("epsilon", "greedy"):
        runs = [a for a in arms if a["arm"] == arm]
        evaluated = [r["ope"] for a in runs for r in a["rounds"] if "ope" in r]
        cov = {
            f"{p}.{e}": float(np.mean([o[f"{p}.{e}.covers"] for o in evaluated]))
            for p in ("known", "estimated")
            for e in ("ips", "snips", "dr")
        }
        mae = {
            f"{p}.{e}": float(np.mean([abs(o[f"{p}.{e}.error"]) for o in evaluated]))
            for p in ("known", "estimated")
            for e in ("ips", "snips", "dr")
        }
        regret = np.mean([[r["champion_regret"] for r in a["rounds"]] for a in runs], axis=0)
        out[arm] = {
            "coverage": cov,
            "mean_abs_error": mae,
            "mean_regret_by_round": regret.tolist(),
            "evaluations": len(evaluated),
        }
    return out


def markdown(res: dict[str, Any]) -> str:
    s = res["summary"]
    lines = [
        "# Closed loop: serve with exploration, record, take outcomes back, evaluate, retrain",
        "",
        f"Run {res['machine']['date']} on {res['machine']['nproc']} CPUs (load average at start "
        f"{res['machine']['load_average_at_start']}, at end {res['machine'].get('load_average_at_end')}); "
        f"`{res['command']}`.",
        f"Seeds {res['params']['seeds']}, {res['params']['rounds']} rounds of "
        f"{res['params']['rows']:,} businesses, epsilon {res['params']['epsilon']}, first log "
        f"{res['params']['rows']:,} confounded campaigns; training `trials=0`.",
        "",
        "## The champion's true normalised regret by round (mean over seeds; 0 = oracle, 1 = logging policy)",
        "",
        "| round | "
        + " | ".join(str(i) for i in range(len(s["epsilon"]["mean_regret_by_round"])))
        + " |",
        "|---" * (1 + len(s["epsilon"]["mean_regret_by_round"])) + "|",
    ]
    for arm in ("epsilon", "greedy"):
        lines.append(
            f"| {arm} | " + " | ".join(f"{v:.3f}" for v in s[arm]["mean_regret_by_round"]) + " |"
        )
    lines += [
        "",
        "## Off-policy estimates of each new model on the next round's recorded decisions",
        "",
        "Share of rounds x seeds whose 95% interval covers the true value, and mean absolute error "
        f"(target coverage >= {TARGETS['coverage_min']:.0%} with recorded propensities).",
        "",
        "| arm | propensities | IPS cover | SNIPS cover | DR cover | IPS err | SNIPS err | DR err |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for arm in ("epsilon", "greedy"):
        for p in ("known", "estimated"):
            c, e = s[arm]["coverage"], s[arm]["mean_abs_error"]
            lines.append(
                f"| {arm} | {'recorded' if p == 'known' else 'estimated'} | "
                + " | ".join(f"{c[f'{p}.{x}']:.0%}" for x in ("ips", "snips", "dr"))
                + " | "
                + " | ".join(f"{e[f'{p}.{x}']:.3f}" for x in ("ips", "snips", "dr"))
                + " |"
            )
    lines += [
        "",
        "## Per round",
        "",
        "| seed | arm | round | promoted | champion regret | truth | DR (recorded) | DR (estimated) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for a in res["arms"]:
        for r in a["rounds"][1:]:
            o = r["ope"]
            k, e = o["known.dr"], o["estimated.dr"]
            lines.append(
                f"| {a['seed']} | {a['arm']} | {r['round']} | {'yes' if r['promoted'] else 'no'} | "
                f"{r['champion_regret']:.3f} | {o['truth']:.3f} | {k[0]:.3f} [{k[1]:.3f}, {k[2]:.3f}] | "
                f"{e[0]:.3f} [{e[1]:.3f}, {e[2]:.3f}] |"
            )
    if "overhead" in res:
        o = res["overhead"]
        lines += [
            "",
            "## What recording costs the request path",
            "",
            "Single-profile `POST /v1/recommendations` at concurrency 1, the same model served "
            "twice under uvicorn on loopback, recording on (SQLite) and off, alternating blocks.",
            "",
            "| recording | requests | p50 ms | p99 ms | requests/s |",
            "|---|---|---|---|---|",
            *[
                f"| {lab} | {o[lab]['requests']} | {o[lab]['p50_ms']:.2f} | {o[lab]['p99_ms']:.2f} | "
                f"{o[lab]['rps']:.0f} |"
                for lab in ("on", "off")
            ],
            "",
            f"Throughput on/off: {o['throughput_ratio_on_vs_off']:.3f} (target >= "
            f"{TARGETS['throughput_ratio_min']}); p99 with recording {o['on']['p99_ms']:.1f} ms "
            f"(target <= {TARGETS['http_p99_c1_ms_max']:.0f} ms).",
        ]
    return "\n".join(lines) + "\n"


def plot(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for arm, style in (("epsilon", "-o"), ("greedy", "--s")):
        regret = res["summary"][arm]["mean_regret_by_round"]
        ax.plot(
            range(len(regret)),
            regret,
            style,
            label=f"exploration {'on' if arm == 'epsilon' else 'off'}",
        )
    ax.set_xlabel("round")
    ax.set_ylabel("champion's true normalised regret")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=5000, help="campaigns in the first log and businesses per round"
    )
    parser.add_argument("--rounds", type=int, default=5, help="serve/retrain rounds")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0], help="seeds (each runs both arms)"
    )
    parser.add_argument("--epsilon", type=float, default=0.2, help="epsilon of the exploring arm")
    parser.add_argument("--n-boot", dest="n_boot", type=int, default=200, help="bootstrap draws")
    parser.add_argument(
        "--overhead-blocks",
        type=int,
        default=10,
        help="alternating blocks of the overhead phase (0 skips)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
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
    with tempfile.TemporaryDirectory(prefix="engage-loop-") as name:
        tmp = Path(name)
        tracking = f"sqlite:///{tmp / 'mlruns' / 'mlflow.db'}"
        (tmp / "mlruns").mkdir()
        os.environ["MLFLOW_TRACKING_URI"] = tracking
        mlflow.set_tracking_uri(tracking)
        arms = [
            run_arm(arm, seed, args, tmp, tracking)
            for seed in args.seeds
            for arm in ("epsilon", "greedy")
        ]
        res: dict[str, Any] = {
            "command": "python benchmarks/closed_loop.py " + " ".join(sys.argv[1:]),
            "machine": machine,
            "params": {k: v for k, v in vars(args).items() if k != "out"},
            "targets": TARGETS,
            "arms": arms,
            "summary": summarise(arms),
        }
        if args.overhead_blocks:
            first = arms[0]
            uri = f"models:/loop-{first['arm']}-{first['seed']}/{first['rounds'][-1]['champion']}"
            res["overhead"] = overhead(uri, tracking, tmp, args.overhead_blocks, 100)
    res["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "closed_loop.json").write_text(json.dumps(res, indent=2, default=str))
    (args.out / "closed_loop.md").write_text(markdown(res))
    plot(res, args.out / "closed_loop.png")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
