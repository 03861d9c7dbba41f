"""Scale: ``engage train --dask local`` on a partitioned log versus one process on 1M rows.

Run: ``.venv/bin/python benchmarks/scale.py [--rows 10000000] [--partition-rows 250000]``

1. simulates N campaigns (hard world) in chunks of ``--partition-rows`` (seed = chunk index),
   each written as one Parquet file of a folder with the world's settings, so the run's
   oracle gives the learned policy's true regret;
2. runs ``engage train --data FOLDER --dask local`` (a LocalCluster of 2 single-thread
   workers; default settings otherwise) into a temporary MLflow store and samples, every
   0.5 s with psutil, the resident memory of the client process (which also hosts the
   LocalCluster's scheduler) and of each worker process; reports the wall time and each
   process's peak;
3. runs the single-machine ``engage train`` on a 1,000,000-row sample of the same log (the
   whole log when it has 1M rows), measured the same way;
4. writes ``benchmarks/results/scale.{json,md}`` with both runs side by side: wall time, peak
   memory per process, rows per second, the true regret of each learned policy (oracle:
   ``engage.simulation``), and the load average at the start and the end.
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

import mlflow
import pandas as pd
import psutil
from mlflow import MlflowClient

from engage.simulation.world import SimulatedWorld, write_log

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]
# ``engage train`` without the report's PNG (a Chromium process the memory sampler would count);
# the picture is a constant of the report module, not a setting
TRAIN = (
    "import sys; from engage.training.report import artifacts; artifacts.PICTURE = False; "
    "from engage.cli import main; sys.exit(main())"
)
SINGLE_ROWS = 1_000_000
GIB = 1 << 30


def write_partitioned(rows: int, partition_rows: int, folder: Path) -> list[Path]:
    """The simulated log as one Parquet file per chunk (chunk i simulated with seed i)."""
    folder.mkdir(parents=True, exist_ok=True)
    world, files, done, i = SimulatedWorld("hard"), [], 0, 0
    while done < rows:
        n = min(partition_rows, rows - done)
        path = folder / f"part-{i:05d}.parquet"
        write_log(
            world.simulate(n, seed=i),
            path,
            world={"difficulty": "hard", "decisions": "full", "seed": i, "rows": n},
        )
        files.append(path)
        done, i = done + n, i + 1
    return files


def single_machine_sample(files: list[Path], total: int, out: Path) -> Path:
    """A 1M-row sample of the log as one file (the same share of every part; all of a 1M log)."""
    share = min(1.0, SINGLE_ROWS / total)
    parts = []
    for k, f in enumerate(files):
        part = pd.read_parquet(f)
        parts.append(part if share >= 1.0 else part.sample(frac=share, random_state=k))
    log = pd.concat(parts, ignore_index=True).sort_values("started_at", kind="stable")
    write_log(
        log.reset_index(drop=True),
        out,
        world={"difficulty": "hard", "decisions": "full", "seed": 0, "rows": len(log)},
    )
    return out


class MemorySampler:
    """Peak RSS of a process and of each of its descendants, sampled every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.5, dask: bool = True) -> None:
        self.root = psutil.Process(pid)
        self.dask = dask
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self.roles: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            for p in procs:
                try:
                    rss = p.memory_info().rss
                    if p.pid not in self.roles:
                        self.roles[p.pid] = role(p, self.root, self.dask)
                except psutil.Error:
                    continue
                self.peaks[p.pid] = max(self.peaks.get(p.pid, 0), rss)
            self._stop.wait(self.interval)

    def by_role(self) -> dict[str, float]:
        """Peak GiB per process role (``client``, ``worker 1``, ``child 1``...), helpers left out."""
        out, counts = {}, {"worker": 0, "child": 0}
        for pid, peak in sorted(self.peaks.items()):
            name = self.roles.get(pid, "other")
            if name in counts:
                counts[name] += 1
                name = f"{name} {counts[name]}"
            if name != "helper":
                out[name] = round(peak / GIB, 3)
        return out


def role(p: psutil.Process, root: psutil.Process, dask: bool = True) -> str:
    """``client`` (the ``engage train`` process: client, LocalCluster scheduler and nannies),
    ``worker`` (a Dask worker process), ``child`` (another child of a run without Dask) or
    ``helper`` (multiprocessing's resource tracker)."""
    if p.pid == root.pid:
        return "client"
    cmd = " ".join(p.cmdline())
    if "resource_tracker" in cmd or "semaphore_tracker" in cmd:
        return "helper"
    return "worker" if dask else "child"


def run_train(data: Path, store: Path, name: str, dask: bool) -> dict:
    """One ``engage train`` in a subprocess, timed and sampled; the run's metrics."""
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{store / 'mlflow.db'}",
        "ENGAGE_TRAIN_MAX_INPUT_ROWS": str(50_000_000),
        "ENGAGE_TRAIN_MAX_INPUT_BYTES": str(64 * GIB),
    }
    cmd = [
        sys.executable,
        "-c",
        TRAIN,
        "train",
        "--data",
        str(data),
        "--experiment",
        name,
        "--model-name",
        name,
        "--no-progress",
    ]
    if dask:
        cmd += ["--dask", "local"]
    log = store / f"{name}.log"
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=store)
        with MemorySampler(proc.pid, dask=dask) as sampler:
            code = proc.wait()
    seconds = time.perf_counter() - start
    if code != 0:
        raise SystemExit(
            f"{' '.join(cmd)} failed ({code}); see the tail of {log}:\n" + log.read_text()[-3000:]
        )
    return {
        "command": " ".join(["engage", *cmd[1:]]).replace(str(data), data.name),
        "wall_seconds": round(seconds, 1),
        "peak_rss_gib": sampler.by_role(),
        **run_metrics(store, name),
    }


def run_metrics(store: Path, name: str) -> dict:
    """The latest training run of experiment ``name`` (not a tuning trial): its true values,
    regret, row counts, samples and stage times."""
    mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")
    client = MlflowClient()
    exp = client.get_experiment_by_name(name)
    runs = client.search_runs([exp.experiment_id], order_by=["start_time DESC"])
    run = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)  # not a tuning trial
    m, p = run.data.metrics, run.data.params
    return {
        "regret_learned": m.get("regret.learned"),
        "true_learned": m.get("true.learned"),
        "true_oracle": m.get("true.oracle"),
        "true_logged": m.get("true.logged"),
        "ope_dr_learned": m.get("ope.learned.dr"),
        "policy_personalized": m.get("policy.personalized"),
        "rows_clean": int(p.get("rows_clean", 0)),
        "rows_train": int(p.get("rows_train", 0)),
        "sample_rows": {k: int(v) for k, v in p.items() if k.startswith("dask.sample_rows.")},
        "stages_s": {
            k[5:-2]: round(v, 1) for k, v in m.items() if k.startswith("time.") and k.endswith("_s")
        },
    }


def style_agreement(
    store: Path, names: tuple[str, ...] = ("scale-dask", "scale-single"), profiles: int = 1_000
) -> dict[tuple[str, str], float]:
    """For each pair of the registered models ``names`` (version 1, loaded the way ``engage
    serve`` loads them), the share of ``profiles`` simulated profiles (hard world, seed 99)
    for which both recommend the same first style."""
    from itertools import combinations

    from engage.serving.model import ModelLoader

    loader = ModelLoader(f"sqlite:///{store / 'mlflow.db'}")
    policies = {name: loader.load(f"models:/{name}/1").policy for name in names}
    frame = SimulatedWorld("hard").simulate(profiles, seed=99)[
        policies[names[0]].spec.context_names
    ]
    styles = {
        name: [a.recommendations[0].style for a in p.recommend(frame, top_k=1, explain=False)]
        for name, p in policies.items()
    }
    return {
        (a, b): sum(x == y for x, y in zip(styles[a], styles[b], strict=True)) / profiles
        for a, b in combinations(names, 2)
    }


def machine() -> dict[str, str]:
    import dask
    import lightgbm

    return {
        "cpus": str(os.cpu_count()),
        "memory_gib": f"{psutil.virtual_memory().total / GIB:.1f}",
        "python": platform.python_version(),
        "lightgbm": lightgbm.__version__,
        "dask": dask.__version__,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def markdown(f: dict, previous: dict | None = None) -> str:
    d, s = f["dask"], f["single"]
    rows = f"{f['rows']:,}"
    lines = [
        f"# Scale: `engage train --dask local` on {rows} campaigns versus one process on {f['single_rows']:,}",
        "",
        f"Measured {f['machine']['date']} on {f['machine']['cpus']} CPUs, {f['machine']['memory_gib']} GiB, "
        f"Python {f['machine']['python']}, LightGBM {f['machine']['lightgbm']}, Dask {f['machine']['dask']}; "
        f"load average (1, 5, 15 min) {f['load_average_at_start']} at the start, {f['load_average_at_end']} at the end.",
        f"Command: `{f['command']}`. The log: {rows} simulated campaigns (hard world) in "
        f"{f['partitions']} Parquet files of {f['partition_rows']:,} rows.",
        "",
        "| measure | Dask (2 workers) | single process | ratio Dask / single |",
        "|---|---|---|---|",
        f"| rows trained on (clean log) | {d['rows_clean']:,} | {s['rows_clean']:,} | |",
        f"| wall time of `engage train` | {d['wall_seconds']:.0f} s | {s['wall_seconds']:.0f} s | "
        f"{d['wall_seconds'] / s['wall_seconds']:.2f}× |",
        f"| wall time per 1,000 rows | {1000 * d['wall_seconds'] / d['rows_clean']:.3f} s | "
        f"{1000 * s['wall_seconds'] / s['rows_clean']:.3f} s | |",
    ]
    single_peaks = {
        (k.replace("worker", "child") if k.startswith("worker") else k): v
        for k, v in s["peak_rss_gib"].items()
    }  # runs measured before children of a run without Dask were told apart called them workers
    peaks = sorted(set(d["peak_rss_gib"]) | set(single_peaks))
    for name in peaks:
        dv, sv = d["peak_rss_gib"].get(name), single_peaks.get(name)
        lines.append(
            f"| peak RSS, {name} | {'–' if dv is None else f'{dv:.2f} GiB'} | {'–' if sv is None else f'{sv:.2f} GiB'} | |"
        )
    lines += [
        f"| peak RSS, all processes together | {sum(d['peak_rss_gib'].values()):.2f} GiB | {sum(s['peak_rss_gib'].values()):.2f} GiB | |",
        f"| true regret of the learned policy | {d['regret_learned']:.4f} | {s['regret_learned']:.4f} | |",
        f"| same style as the other model, 1,000 profiles | {f['style_agreement_1000_profiles']:.1%} | | |",
        f"| true value learned / oracle / logged | {d['true_learned']:.3f} / {d['true_oracle']:.3f} / {d['true_logged']:.3f} | "
        f"{s['true_learned']:.3f} / {s['true_oracle']:.3f} / {s['true_logged']:.3f} | |",
        "",
        "The `client` process is `engage train` itself: the Dask client and, with `--dask local`, "
        "the LocalCluster's scheduler (it runs in the process that starts the cluster). Peaks are "
        "sampled every 0.5 s (psutil RSS), so a shorter spike can be missed. The machine has no swap.",
        "",
        f"Samples collected to the client by the Dask run (`dask.sample_rows.*`): {d['sample_rows']}. "
        "Regret = (oracle − learned) / (oracle − logged) on the run's evaluation profiles.",
        "",
        "Stage times (s):",
        "",
        "| stage | Dask | single |",
        "|---|---|---|",
    ]
    for stage in d["stages_s"]:
        if stage in s["stages_s"] or stage in {"validate", "split", "outcomes"}:
            lines.append(f"| {stage} | {d['stages_s'][stage]} | {s['stages_s'].get(stage, '–')} |")
    if previous is not None:
        lines += growth(previous, f)
    return "\n".join(lines) + "\n"


def growth(small: dict, large: dict) -> list[str]:
    """How the Dask run's cost grows from a smaller run of this benchmark to a larger one."""
    a, b = small["dask"], large["dask"]
    ratio = b["rows_clean"] / a["rows_clean"]

    def per_row(run: dict, seconds: float) -> str:
        return f"{1e6 * seconds / run['rows_clean']:.0f} µs"

    def mem(run: dict) -> float:
        return max(v for k, v in run["peak_rss_gib"].items() if k.startswith("worker"))

    lines = [
        "",
        f"How the Dask run's cost grows from {a['rows_clean']:,} rows (`{small['command']}`, "
        f"{small['machine']['date']}, load {small['load_average_at_start']} → {small['load_average_at_end']}) "
        f"to {b['rows_clean']:,} ({ratio:.0f}× the rows):",
        "",
        f"| measure | {a['rows_clean']:,} rows | {b['rows_clean']:,} rows | growth |",
        "|---|---|---|---|",
        f"| wall time | {a['wall_seconds']:.0f} s | {b['wall_seconds']:.0f} s | {b['wall_seconds'] / a['wall_seconds']:.2f}× |",
        f"| wall time per row | {per_row(a, a['wall_seconds'])} | {per_row(b, b['wall_seconds'])} | |",
        f"| outcome models (the stage that reads every row) | {a['stages_s']['outcomes']:.0f} s | "
        f"{b['stages_s']['outcomes']:.0f} s | {b['stages_s']['outcomes'] / a['stages_s']['outcomes']:.2f}× |",
        f"| everything else (samples, capped sets) | {a['stages_s']['total'] - a['stages_s']['outcomes']:.0f} s | "
        f"{b['stages_s']['total'] - b['stages_s']['outcomes']:.0f} s | "
        f"{(b['stages_s']['total'] - b['stages_s']['outcomes']) / (a['stages_s']['total'] - a['stages_s']['outcomes']):.2f}× |",
        f"| peak RSS, largest worker | {mem(a):.2f} GiB | {mem(b):.2f} GiB | {mem(b) / mem(a):.2f}× |",
        f"| peak RSS of the largest worker per 1,000 rows it holds | {1000 * mem(a) * 1024 / (a['rows_clean'] / 2):.2f} MiB | "
        f"{1000 * mem(b) * 1024 / (b['rows_clean'] / 2):.2f} MiB | |",
        f"| peak RSS, client | {a['peak_rss_gib']['client']:.2f} GiB | {b['peak_rss_gib']['client']:.2f} GiB | "
        f"{b['peak_rss_gib']['client'] / a['peak_rss_gib']['client']:.2f}× |",
        f"| true regret of the learned policy | {a['regret_learned']:.4f} | {b['regret_learned']:.4f} | |",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=10_000_000,
        help="campaigns in the partitioned log (default: 10,000,000)",
    )
    parser.add_argument(
        "--partition-rows",
        type=int,
        default=250_000,
        help="rows per Parquet file (default: 250,000)",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="results folder (default: benchmarks/results)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="work in this folder and keep it (default: a temporary one)",
    )
    parser.add_argument(
        "--previous",
        type=Path,
        default=None,
        help="results JSON of a smaller run of this benchmark: the markdown adds how the cost grows",
    )
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        help="only re-render the markdown of this results JSON (next to it) and stop",
    )
    args = parser.parse_args()
    previous = json.loads(args.previous.read_text()) if args.previous else None
    if args.render is not None:
        args.render.with_suffix(".md").write_text(
            markdown(json.loads(args.render.read_text()), previous)
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        load_start = [round(x, 2) for x in os.getloadavg()]
        files = write_partitioned(args.rows, args.partition_rows, work / "log")
        sample = single_machine_sample(files, args.rows, work / "sample.parquet")
        print(
            f"wrote {args.rows:,} rows in {len(files)} files; running engage train --dask local",
            flush=True,
        )
        dask_run = run_train(work / "log", work, "scale-dask", dask=True)
        print(json.dumps(dask_run, indent=2), flush=True)
        single_run = run_train(sample, work, "scale-single", dask=False)
        print(json.dumps(single_run, indent=2), flush=True)
        figures = {
            "style_agreement_1000_profiles": style_agreement(work)[("scale-dask", "scale-single")],
            "rows": args.rows,
            "partition_rows": args.partition_rows,
            "partitions": len(files),
            "single_rows": min(args.rows, SINGLE_ROWS),
            "command": f".venv/bin/python benchmarks/scale.py --rows {args.rows}",
            "machine": machine(),
            "load_average_at_start": load_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "dask": dask_run,
            "single": single_run,
            "ratio_wall_dask_over_single": round(
                dask_run["wall_seconds"] / single_run["wall_seconds"], 3
            ),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scale.json").write_text(json.dumps(figures, indent=2) + "\n")
    (args.out / "scale.md").write_text(markdown(figures, previous))
    print(markdown(figures, previous))


if __name__ == "__main__":
    main()
