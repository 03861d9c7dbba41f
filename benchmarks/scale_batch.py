"""Batch scoring at scale: ``engage recommend-batch`` in one process versus a 2-worker Dask cluster.

Run: ``.venv/bin/python benchmarks/scale_batch.py [--rows 1000000] [--files 20]``

1. trains a small policy (4,000 simulated campaigns, default parameters) into a temporary
   MLflow store, unless ``--model-uri`` (with ``MLFLOW_TRACKING_URI``) names one;
2. simulates N business profiles (``engage.simulation``) as a partitioned Parquet folder;
3. runs ``engage recommend-batch`` on it twice, as separate processes, side by side: one process
   (streaming chunks), then ``--dask local`` with 2 workers (one thread each);
4. samples every process of each run (the CLI, which also hosts the Dask scheduler and nannies,
   and each worker) every 0.5 s for its resident memory, and the load average;
5. writes ``benchmarks/results/scale_batch.{json,md}`` (profiles per second, the Dask / single
   ratio, peak RSS per process, load average, and whether the two outputs hold the same rows).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil

RESULTS = Path(__file__).resolve().parent / "results"
BIN = Path(sys.executable).parent
MODEL = "scale-batch-bench"


def _engage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(BIN / "engage"), *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"engage {args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done


def train_model(root: Path, env: dict[str, str]) -> str:
    log = root / "train.parquet"
    _engage("simulate", "--rows", "4000", "--seed", "3", "--out", str(log), env=env)
    _engage(
        "train",
        "--data",
        str(log),
        "--trials",
        "0",
        "--model-name",
        MODEL,
        "--no-progress",
        env=env,
    )
    return f"models:/{MODEL}@champion"


def write_profiles(folder: Path, rows: int, files: int, row_group: int, seed: int = 7) -> None:
    from engage.simulation.profiles import sample_profiles

    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    per_file = -(-rows // files)
    for i in range(files):
        n = min(per_file, rows - i * per_file)
        if n <= 0:
            break
        frame = sample_profiles(n, rng)
        frame.insert(0, "account_id", np.arange(i * per_file, i * per_file + n))
        frame.to_parquet(
            folder / f"profiles-{i:04d}.parquet", row_group_size=row_group, index=False
        )


def _role(proc: psutil.Process, root_pid: int) -> str:
    if proc.pid == root_pid:
        return "client (CLI; with Dask also scheduler and nannies)"
    cmd = " ".join(proc.cmdline())
    if "resource_tracker" in cmd:
        return "multiprocessing resource tracker"
    if "spawn_main" in cmd:
        return "dask worker"
    return cmd[:60]


def run_measured(args: list[str], env: dict[str, str]) -> dict:
    """Run ``engage *args``, sampling RSS of every process of its tree and the load average."""
    peaks: dict[int, dict] = {}
    loads: list[float] = []
    start = time.monotonic()
    proc = subprocess.Popen(
        [str(BIN / "engage"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stop = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for p in tree:
                try:
                    rss = p.memory_info().rss
                    entry = peaks.setdefault(p.pid, {"role": _role(p, proc.pid), "peak_rss": 0})
                    entry["peak_rss"] = max(entry["peak_rss"], rss)
                except psutil.Error:
                    pass
            loads.append(os.getloadavg()[0])
            stop.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.monotonic() - start
    stop.set()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"recommend-batch failed:\n{out[-2000:]}\n{err[-3000:]}")
    return {
        "wall_s": wall,
        "summary": out.strip(),
        "processes": sorted(
            (
                {"role": v["role"], "peak_rss_mib": round(v["peak_rss"] / 2**20, 1)}
                for v in peaks.values()
            ),
            key=lambda d: d["role"],
        ),
        "load_avg_1m_mean": round(float(np.mean(loads)), 2) if loads else None,
        "load_avg_1m_max": round(float(np.max(loads)), 2) if loads else None,
    }


def same_rows(a: Path, b: Path) -> bool:
    cols = ["_row", "rank", "style", "predicted_objective"]
    left = pd.read_parquet(a / "recommendations", columns=cols).sort_values(["_row", "rank"])
    right = pd.read_parquet(b / "recommendations", columns=cols).sort_values(["_row", "rank"])
    return left.reset_index(drop=True).equals(right.reset_index(drop=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="profiles to score")
    parser.add_argument("--files", type=int, default=20, help="Parquet files of the input")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers")
    parser.add_argument("--chunk-rows", type=int, default=10_000, help="rows per chunk / task")
    parser.add_argument("--model-uri", default=None, help="score this model (default: train one)")
    parser.add_argument("--note", default="", help="a sentence added to the results")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="engage-scale-batch-") as tmp:
        root = Path(tmp)
        env = dict(os.environ)  # the model's run report has a picture only if Chromium is installed
        if args.model_uri is None:
            env["MLFLOW_TRACKING_URI"] = f"sqlite:///{root / 'mlflow.db'}"
            uri = train_model(root, env)
        else:
            uri = args.model_uri
        t = time.monotonic()
        write_profiles(root / "profiles", args.rows, args.files, args.chunk_rows)
        print(f"wrote {args.rows:,} profiles in {time.monotonic() - t:.0f} s", flush=True)
        common = [
            "recommend-batch",
            "--model-uri",
            uri,
            "--input",
            str(root / "profiles"),
            "--chunk-rows",
            str(args.chunk_rows),
            "--id-column",
            "account_id",
        ]
        load_before = os.getloadavg()
        runs = {}
        runs["one_process"] = run_measured([*common, "--output", str(root / "single")], env)
        print(runs["one_process"]["summary"], flush=True)
        runs["dask"] = run_measured(
            [
                *common,
                "--output",
                str(root / "dask"),
                "--dask",
                "local",
                "--workers",
                str(args.workers),
            ],
            env,
        )
        print(runs["dask"]["summary"], flush=True)
        identical = same_rows(root / "single", root / "dask")
    for run in runs.values():
        run["profiles_per_s"] = round(args.rows / run["wall_s"], 1)
        run["wall_s"] = round(run["wall_s"], 1)
    ratio = runs["dask"]["profiles_per_s"] / runs["one_process"]["profiles_per_s"]
    result = {
        "rows": args.rows,
        "files": args.files,
        "workers": args.workers,
        "chunk_rows": args.chunk_rows,
        "runs": runs,
        "dask_over_one_process": round(ratio, 2),
        "same_rows": identical,
        "load_avg_before": [round(x, 2) for x in load_before],
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "note": args.note,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale_batch.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "scale_batch.md").write_text(markdown(result))
    print(json.dumps({k: result[k] for k in ("rows", "dask_over_one_process", "same_rows")}))


def markdown(r: dict) -> str:
    lines = [
        "# Batch scoring: one process versus Dask",
        "",
        f"`engage recommend-batch` on {r['rows']:,} simulated profiles in {r['files']} Parquet "
        f"files, chunks of {r['chunk_rows']:,} rows; one process, then a Dask LocalCluster of "
        f"{r['workers']} workers (1 thread each), run one after the other on the same machine "
        f"({r['machine']['cpus']} cores, shared). Wall time includes process start, model "
        "loading and, for Dask, starting the cluster. Produced by `benchmarks/scale_batch.py`.",
        "",
        "| engine | wall s | profiles/s | min for 1,000,000 at this rate | load avg (1 min, "
        "mean / max) |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, run in r["runs"].items():
        lines.append(
            f"| {name} | {run['wall_s']} | {run['profiles_per_s']:,} | "
            f"{1_000_000 / run['profiles_per_s'] / 60:.0f} | "
            f"{run['load_avg_1m_mean']} / {run['load_avg_1m_max']} |"
        )
    lines += [
        "",
        f"Dask / one process throughput: **{r['dask_over_one_process']}×**. "
        f"Both outputs hold the same rows: **{r['same_rows']}**. "
        f"Load average before: {r['load_avg_before']}.",
        "",
        "Peak resident memory per process:",
        "",
        "| engine | process | peak RSS MiB |",
        "|---|---|---:|",
    ]
    for name, run in r["runs"].items():
        for p in run["processes"]:
            lines.append(f"| {name} | {p['role']} | {p['peak_rss_mib']} |")
    if r["note"]:
        lines += ["", r["note"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
