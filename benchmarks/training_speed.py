"""Training speed: the whole ``engage train`` versus the raw LightGBM fits it contains.

Run: ``.venv/bin/python benchmarks/training_speed.py [--rows 1000000]``

1. simulates N campaigns (hard world) into a temporary Parquet file;
2. runs the whole training pipeline with DEFAULT settings (validation, split, propensity,
   Optuna tuning, cross-fitted outcome models, candidates, OPE with bootstrap, oracle regret,
   plots, MLflow logging, registration) into a temporary MLflow store, timed end to end;
3. replays every LightGBM fit the run recorded — same parameters, same number of boosting
   rounds, same number of rows and features, drawn from the same encoded training data —
   directly with ``lightgbm.train`` (no validation sets, no early stopping), timed;
4. prints both times and the ratio and writes ``benchmarks/results/training_speed.{json,md}``.

Targets: pipeline ≤ 2× the raw fits, and ≤ 600 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd

from engage.contract.spec import load_spec
from engage.policy.encoding import FeatureBuilder

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "lightgbm": lgb.__version__,
        "mlflow": mlflow.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def replay(
    fits: list[dict],
    X: np.ndarray,
    ys: dict[str, np.ndarray],
    styles: np.ndarray,
    n_context: int,
    categorical: list[int],
    seed: int,
) -> float:
    """Refit every recorded fit directly with lightgbm.train; return the total seconds.

    Each fit's replay time is stored in it as ``replay_seconds`` (next to ``seconds``, its
    time inside the pipeline), so a gap can be traced to the fits or to the rest."""
    rng = np.random.default_rng(seed)
    total = 0.0
    for fit in fits:
        label = fit["label"]
        rows = rng.choice(len(X), size=fit["rows"], replace=False)
        if label.startswith("propensity"):
            data, y = X[rows, :n_context], styles[rows]
            cats = [c for c in categorical if c < n_context]
        elif label.startswith(
            "correction"
        ):  # per-style residual corrections: one custom-objective model
            from engage.training.models import correction_objective

            data, y = X[rows, :n_context], np.zeros(len(rows))
            cats = [c for c in categorical if c < n_context]
            k = fit["params"]["num_class"] // len(ys)
            mask = np.tile((styles[rows][:, None] == np.arange(k)[None, :]).astype(float), len(ys))
            target = np.hstack([np.repeat(v[rows][:, None], k, axis=1) for v in ys.values()])
            params = {
                **fit["params"],
                "objective": correction_objective(target - target.mean(0), mask),
            }
            start = time.perf_counter()
            lgb.train(
                params,
                lgb.Dataset(data, y, categorical_feature=cats),
                num_boost_round=fit["rounds"],
            )
            fit["replay_seconds"] = time.perf_counter() - start
            total += fit["replay_seconds"]
            continue
        else:
            outcome = label.split("/")[-1] if label.startswith("tuning") else label.split("/")[1]
            data, y = X[rows], ys[outcome][rows]
            cats = categorical
        params = {k: v for k, v in fit["params"].items()}
        start = time.perf_counter()
        lgb.train(
            params, lgb.Dataset(data, y, categorical_feature=cats), num_boost_round=fit["rounds"]
        )
        fit["replay_seconds"] = time.perf_counter() - start
        total += fit["replay_seconds"]
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    from engage.simulation.oracle import oracle_for_log
    from engage.simulation.world import SimulatedWorld, write_log
    from engage.training.pipeline import TrainSettings, split_log, train
    from engage.training.split import EVAL_FRACTION

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        data = tmp_path / "campaigns.parquet"
        log = SimulatedWorld("hard").simulate(args.rows, seed=args.seed)
        write_log(
            log,
            data,
            world={"difficulty": "hard", "decisions": "full", "seed": args.seed, "rows": args.rows},
        )
        del log
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
        mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
        mlflow.create_experiment("speed", artifact_location=(tmp_path / "artifacts").as_uri())
        settings = TrainSettings(
            data=data,
            experiment="speed",
            model_name="speed-policy",
            mlruns=tmp_path,
            seed=args.seed,
        )
        load_start = [round(x, 2) for x in os.getloadavg()]
        start = time.perf_counter()
        result = train(settings, oracle=oracle_for_log(data))  # regret.learned is reported
        pipeline_s = time.perf_counter() - start
        print(
            f"engage train: {pipeline_s:.1f} s ({len(result.fit_log.fits)} LightGBM fits, {result.fit_log.seconds:.1f} s inside them)"
        )

        spec = load_spec()
        builder = FeatureBuilder(spec)
        full = pd.read_parquet(data)
        tr, _, _ = split_log(full, spec, EVAL_FRACTION, settings.seed)
        train_log = full.iloc[tr].reset_index(drop=True)
        del full
        X = builder.build(train_log)
        ys = {o: train_log[o].to_numpy(float) for o in spec.outcome_names}
        styles = X[:, len(builder.context_names)].astype(int)
        raw_s = replay(
            result.fit_log.fits,
            X,
            ys,
            styles,
            len(builder.context_names),
            builder.categorical_indices,
            args.seed,
        )
    ratio = pipeline_s / raw_s
    figures = {
        "rows": args.rows,
        "pipeline_seconds": round(pipeline_s, 1),
        "raw_lightgbm_seconds": round(raw_s, 1),
        "in_pipeline_fit_seconds": round(result.fit_log.seconds, 1),
        "ratio": round(ratio, 3),
        "fits": len(result.fit_log.fits),
        "stage_seconds": {k: round(v, 1) for k, v in result.timings.items()},
        "targets": {"ratio_max": 2.0, "pipeline_seconds_max": 600},
        "met": {"ratio": ratio <= 2.0, "seconds": pipeline_s <= 600},
        "regret_learned": result.metrics.get("regret.learned"),
        "machine": machine(),
        "load_average_at_start": load_start,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "fit_records": [
            {k: (round(v, 2) if isinstance(v, float) else v) for k, v in f.items() if k != "params"}
            for f in result.fit_log.fits
        ],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "training_speed.json").write_text(json.dumps(figures, indent=2))
    stages = "\n".join(f"| {k} | {v} |" for k, v in figures["stage_seconds"].items())
    fits = "\n".join(
        f"| {f['label']} | {f['rows']:,} | {f['rounds']} | {f['seconds']:.1f} | {f['replay_seconds']:.1f} |"
        for f in result.fit_log.fits
    )
    (args.out / "training_speed.md").write_text(
        f"""# Training speed ({args.rows:,} simulated campaigns, default settings)

Measured {figures["machine"]["date"]} on {figures["machine"]["cpus"]} CPUs ({figures["machine"]["cpu"]}),
Python {figures["machine"]["python"]}, LightGBM {figures["machine"]["lightgbm"]}, MLflow {figures["machine"]["mlflow"]};
load average (1, 5, 15 min) {load_start} at the start, {figures["load_average_at_end"]} at the end.
Command: `.venv/bin/python benchmarks/training_speed.py --rows {args.rows}`

| measure | value | target |
|---|---|---|
| whole `engage train` | {pipeline_s:.1f} s | ≤ 600 s |
| the same {len(result.fit_log.fits)} LightGBM fits replayed directly | {raw_s:.1f} s | |
| ratio | **{ratio:.2f}×** | ≤ 2× |
| time inside LightGBM during the run | {result.fit_log.seconds:.1f} s | |

The replay fits each recorded model with `lightgbm.train` on the same number of rows and
features drawn from the same encoded training data, with the same parameters and number of
boosting rounds, without validation sets (so early-stopping evaluation counts as pipeline
overhead).

Stage times of the run (s):

| stage | seconds |
|---|---|
{stages}

Every fit, in the run and replayed (s):

| fit | rows | rounds | in the run | replayed |
|---|---|---|---|---|
{fits}
"""
    )
    print(
        json.dumps(
            {k: figures[k] for k in ("pipeline_seconds", "raw_lightgbm_seconds", "ratio", "met")},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
