"""Serving benchmark: policy overhead, HTTP latency, and throughput against ``mlflow models serve``.

Not a test: run it by hand on an otherwise idle machine and commit the results it writes.

    .venv/bin/python benchmarks/serving_latency.py                 # trains a model first (~1 min)
    .venv/bin/python benchmarks/serving_latency.py --model-uri models:/engage-simulated_world@champion

Phases (each bounded in time; every subprocess is killed in ``finally``):

1. model: ``--model-uri``, or simulate 20,000 hard rows and train one (``trials=0``) into a
   temporary MLflow store, registered as ``bench-policy``;
2. in-process: median time of ``Policy.recommend`` for one profile (all candidates scored,
   explanation included) against the raw LightGBM calls the same answer needs, made on
   prepared numpy arrays; when the ratio is over target, where the time goes;
3. HTTP: the real ``engage serve`` process (one uvicorn worker) on loopback, single-profile
   p50/p99 latency at concurrency 1 and 8 (keep-alive clients, one per thread);
4. throughput against ``mlflow models serve`` of the same model, concurrency 8, both servers
   sent the same cycle of 500 distinct simulated profiles (no server can answer from a cache);
5. writes ``benchmarks/results/serving_latency.{json,md}`` and prints the table.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import json
import os
import platform
import pstats
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Import the working tree's ``features`` before MLflow loads a model: the artifact ships a copy
# of the package in ``code_paths``, and the first import wins, so this measures today's code.
import engage.policy.policy  # noqa: E402,F401
from engage.serving.examples import EXAMPLE_PROFILE  # noqa: E402
from engage.serving.settings import ServeSettings  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = REPO / "benchmarks" / "results"
TARGETS = {"overhead_ratio_max": 1.5, "http_p99_c1_ms_max": 25.0, "throughput_ratio_min": 3.0}
PROFILE = EXAMPLE_PROFILE  # the same profile the API documents
POOL_SIZE, POOL_SEED = 500, 2026  # distinct profiles the HTTP phases cycle through


def profile_pool() -> list[dict[str, Any]]:
    """Distinct simulated business profiles (JSON-ready), so no server can answer from a cache
    and every request costs a full scoring; the documented example profile comes first."""
    from engage.simulation.world import SimulatedWorld

    log_ = SimulatedWorld("hard").simulate(POOL_SIZE - 1, seed=POOL_SEED)
    records = json.loads(log_[list(PROFILE)].to_json(orient="records"))
    return [dict(PROFILE), *records]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------- machine


def machine() -> dict[str, Any]:
    import fastapi
    import lightgbm
    import mlflow
    import numpy
    import pandas
    import uvicorn

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        nproc = int(
            subprocess.run(["nproc"], capture_output=True, text=True, timeout=5).stdout.strip()
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        nproc = os.cpu_count() or 0
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": nproc,
        "cpu_model": cpu,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "lightgbm": lightgbm.__version__,
        "mlflow": mlflow.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "fastapi": fastapi.__version__,
        "uvicorn": uvicorn.__version__,
        "http_parser": "httptools" if importlib.util.find_spec("httptools") else "h11",
        "serve_policy_threads": ServeSettings().microbatch_workers,
    }


# ---------------------------------------------------------------------- phase 1: a model


def prepare_model(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    if args.model_uri:
        os.environ.setdefault(
            "MLFLOW_TRACKING_URI", f"sqlite:///{Path.cwd() / 'mlruns' / 'mlflow.db'}"
        )
        return {
            "uri": args.model_uri,
            "trained_here": False,
            "tracking_uri": os.environ["MLFLOW_TRACKING_URI"],
        }
    import mlflow

    from engage.simulation.world import SimulatedWorld, write_log
    from engage.training.pipeline import TrainSettings, train

    store = tmp / "mlruns"
    store.mkdir()
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store / 'mlflow.db'}"
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.create_experiment("bench", artifact_location=(store / "artifacts").as_uri())
    data = tmp / "campaigns.parquet"
    t0 = time.perf_counter()
    world = SimulatedWorld("hard")
    write_log(
        world.simulate(args.rows, seed=1),
        data,
        world={"difficulty": "hard", "decisions": "full", "seed": 1, "rows": args.rows},
    )
    result = train(
        TrainSettings(
            data=data,
            experiment="bench",
            model_name="bench-policy",
            trials=0,
            progress=False,
            mlruns=store,
            seed=0,
        )
    )
    uri = (
        "models:/bench-policy@champion"
        if result.promoted
        else f"models:/bench-policy/{result.version}"
    )
    return {
        "uri": uri,
        "trained_here": True,
        "rows": args.rows,
        "train_s": round(time.perf_counter() - t0, 1),
        "mode": result.mode,
        "tracking_uri": os.environ["MLFLOW_TRACKING_URI"],
    }


# ---------------------------------------------------------------------- phase 2: in-process


def _interleaved_medians(
    fns: dict[str, Callable[[], object]], calls: int, budget_s: float
) -> dict[str, float]:
    """Median ms of each function, called in turn each round so all see the same machine load."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    end = time.perf_counter() + budget_s
    for _ in range(calls):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
        if time.perf_counter() > end:
            break
    return {name: round(statistics.median(ts) * 1000, 3) for name, ts in times.items()}


def in_process(uri: str, calls: int, budget_s: float) -> dict[str, Any]:
    import mlflow.pyfunc
    import numpy as np
    import pandas as pd

    policy = mlflow.pyfunc.load_model(uri).get_raw_model()
    frame = pd.DataFrame([PROFILE])
    answer = policy.recommend(frame, top_k=3, explain=True)[0]
    recs = answer.recommendations
    chosen, runner_up = recs[0].candidate_index, recs[min(1, len(recs) - 1)].candidate_index

    # Everything the raw calls need, prepared once as numpy arrays.
    ctx = policy.builder.encode_context(frame)
    # the profile's own candidates (the shared grid and its cluster's searched actions)
    index, valid = policy.candidate_index(ctx)
    own = policy.candidates.encoded[index[0][valid[0]]]
    cand_rows = np.ascontiguousarray(policy.builder.cross(ctx, own))
    explained = np.ascontiguousarray(
        policy.builder.cross(ctx, policy.candidates.encoded[[chosen, runner_up]])
    )
    prop = policy.propensities(ctx)
    typical = np.ascontiguousarray(np.hstack([ctx, policy._typical_rows(ctx, prop)]))
    boosters = list(policy.predictor.boosters)  # the outcome models in outcome order
    weights = policy.weights(None)

    corrections = policy.style_corrections
    n_ctx = ctx.shape[1]

    def raw() -> None:
        for b in boosters:
            b.predict(cand_rows, num_threads=1)
            b.predict(explained, pred_contrib=True, num_threads=1)
            b.predict(typical, num_threads=1)
        policy.propensity_model.predict(ctx, raw_score=True, num_threads=1)
        if corrections is not None:  # the per-style corrections: one booster for all styles
            corrections.booster.predict(ctx, raw_score=True, num_threads=1)
            corrections.booster.predict(explained[:, :n_ctx], pred_contrib=True, num_threads=1)
            corrections.booster.predict(typical[:, :n_ctx], raw_score=True, num_threads=1)

    def recommend() -> None:
        policy.recommend(frame, top_k=3, explain=True)

    def recommend_pre_encoded() -> None:
        policy.builder.encode_context = lambda _: ctx  # the profile's encoding, done once
        try:
            policy.recommend(frame, top_k=3, explain=True)
        finally:
            del policy.builder.encode_context

    fns: dict[str, Callable[[], object]] = {
        "raw LightGBM calls": raw,
        "Policy.recommend": recommend,
        "Policy.recommend, profile pre-encoded": recommend_pre_encoded,
        "FeatureBuilder.encode_context (1 row)": lambda: policy.builder.encode_context(frame),
        "score_candidates (predict on all candidates)": lambda: policy.score_candidates(ctx),
        "explain (pred_contrib on 2 rows + text)": lambda: policy.explain(
            ctx[0], chosen, runner_up, weights
        ),
        "build a 1-profile DataFrame": lambda: pd.DataFrame([PROFILE]),
    }
    for fn in fns.values():  # warm caches
        for _ in range(10):
            fn()
    medians = _interleaved_medians(fns, calls, budget_s)
    raw_ms, rec_ms = medians["raw LightGBM calls"], medians["Policy.recommend"]
    out: dict[str, Any] = {
        "candidates": int(valid[0].sum()),
        "outcome_models": len(boosters),
        "trees_per_outcome_model": boosters[0].num_trees(),
        "policy_mode": policy.mode,
        "recommend_median_ms": rec_ms,
        "raw_lightgbm_median_ms": raw_ms,
        "ratio": round(rec_ms / raw_ms, 3),
        "ratio_profile_pre_encoded": round(
            medians["Policy.recommend, profile pre-encoded"] / raw_ms, 3
        ),
        "breakdown_median_ms": medians,
    }
    if out["ratio"] > TARGETS["overhead_ratio_max"]:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(100):
            recommend()
        prof.disable()
        stats = pstats.Stats(prof)
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(r"features", 12)
        out["profile_top_cumulative"] = _trim_profile(buf.getvalue())
        out["own_time_by_area_ms"] = _by_area(stats, 100)
    return out


def _by_area(stats: pstats.Stats, calls: int) -> dict[str, float]:
    """Profiled own time per call, summed by library (profiling inflates small Python calls)."""
    areas: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        area = next(
            (
                a
                for a in ("features/encoding", "features/policy", "lightgbm", "pandas", "numpy")
                if a in filename
            ),
            "other",
        )
        areas[area] = areas.get(area, 0.0) + tottime
    return {k: round(v / calls * 1000, 3) for k, v in sorted(areas.items(), key=lambda kv: -kv[1])}


def _trim_profile(text: str) -> list[str]:
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    return [
        ln.replace(str(REPO) + "/", "").replace(sys.prefix + "/", "")
        for ln in lines[start : start + 16]
    ]


# ---------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], env: dict[str, str], logfile: Path) -> subprocess.Popen[bytes]:
    fh = logfile.open("wb")
    return subprocess.Popen(
        cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    """Terminate the process group we started (the server and any worker it spawned)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by process ``root`` and all its descendants.

    Less sensitive to a shared machine than wall-clock throughput: another process can
    delay a server, but not make it spend more CPU per request (beyond cache effects)."""
    stats: dict[int, tuple[int, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    family, total, grew = {root}, 0.0, True
    while grew:
        grew = False
        for pid, (ppid, _) in stats.items():
            if ppid in family and pid not in family:
                family.add(pid)
                grew = True
    for pid in family:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def measured_load(
    proc: subprocess.Popen[bytes],
    url: str,
    bodies: list[dict[str, Any]],
    concurrency: int,
    requests: int,
    budget_s: float,
) -> dict[str, Any]:
    """:func:`load`, plus the server's CPU milliseconds per request (its whole process tree)."""
    before = tree_cpu_s(proc.pid)
    out = load(url, bodies, concurrency, requests, budget_s)
    used = tree_cpu_s(proc.pid) - before  # includes the warm-up requests of each client
    out["server_cpu_ms_per_request"] = round(used * 1000 / (out["requests"] + 5 * concurrency), 2)
    return out


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float) -> float:
    import httpx

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before it was ready")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{url} not ready after {timeout_s:.0f} s")


class KeepAliveClient:
    """A minimal HTTP/1.1 keep-alive client on a raw socket, for load generation only.

    The servers under test share the machine's 2 CPUs with the client, so the client must cost
    little: httpx spends about 1.4 ms of CPU per request here, this about 0.1 ms, leaving the
    servers the cores. It sends pre-encoded requests and reads ``Content-Length`` bodies (both
    servers send them; anything else is an error, never a silent misread).
    """

    _LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
    _TIMING = re.compile(rb"\r\nserver-timing:[ \t]*app;dur=([0-9.]+)", re.IGNORECASE)

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port, self.path = (
            parts.hostname or "127.0.0.1",
            parts.port or 80,
            parts.path,
        )
        self.sock = socket.create_connection((self.host, self.port), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def request(self, payload: bytes) -> bytes:
        """The raw bytes of one POST of a JSON ``payload`` (built once, sent many times)."""
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        return head.encode() + payload

    def send(self, raw: bytes) -> tuple[int, bytes, float | None]:
        """Send one request; its status, body and Server-Timing ``app`` duration (ms) if any."""
        self.sock.sendall(raw)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._read()
        head = self.buffer[:end]
        length = self._LENGTH.search(head)
        if length is None:
            raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
        stop = end + 4 + int(length.group(1))
        while len(self.buffer) < stop:
            self._read()
        body, self.buffer = self.buffer[end + 4 : stop], self.buffer[stop:]
        timing = self._TIMING.search(head)
        return int(head[9:12]), body, float(timing.group(1)) if timing else None

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def load(
    url: str, bodies: list[dict[str, Any]], concurrency: int, requests: int, budget_s: float
) -> dict[str, Any]:
    """Send ``requests`` POSTs (fewer if ``budget_s`` runs out) from ``concurrency`` keep-alive
    clients, cycling through ``bodies``; the client's own CPU per request is reported."""
    payloads = [json.dumps(body).encode() for body in bodies]
    lock = threading.Lock()
    issued = 0
    errors: list[str] = []
    server_ms: list[float] = []  # time inside the app, from the Server-Timing header (engage only)
    deadline = time.perf_counter() + budget_s

    def worker() -> list[float]:
        nonlocal issued
        times: list[float] = []
        client = KeepAliveClient(url)
        raws = [client.request(p) for p in payloads]
        try:
            for raw in raws[-5:]:  # open the connection and warm up (not timed)
                client.send(raw)
            while True:
                with lock:
                    if issued >= requests or time.perf_counter() > deadline:
                        return times
                    raw = raws[issued % len(raws)]
                    issued += 1
                t = time.perf_counter()
                status, body, app_ms = client.send(raw)
                times.append(time.perf_counter() - t)
                if app_ms is not None:
                    server_ms.append(app_ms)
                if status != 200:
                    with lock:
                        errors.append(f"{status}: {body[:200].decode(errors='replace')}")
        finally:
            client.close()

    cpu0, t0 = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        per_thread = list(pool.map(lambda _: worker(), range(concurrency)))
    wall = time.perf_counter() - t0
    client_cpu = time.process_time() - cpu0
    times = sorted(t for ts in per_thread for t in ts)
    if not times:
        raise RuntimeError("no request completed")

    def q(p: float) -> float:
        return round(times[min(len(times) - 1, int(p * len(times)))] * 1000, 2)

    return {
        "concurrency": concurrency,
        "requests": len(times),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "p50_ms": q(0.50),
        "p90_ms": q(0.90),
        "p99_ms": q(0.99),
        "max_ms": round(times[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(times) * 1000, 2),
        "rps": round(len(times) / wall, 1),
        "wall_s": round(wall, 2),
        "client_cpu_ms_per_request": round(client_cpu * 1000 / (len(times) + 5 * concurrency), 3),
        "server_p50_ms": round(statistics.median(server_ms), 2) if server_ms else None,
    }


def server_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # mlflow models serve runs `uvicorn`
    env["ENGAGE_SERVE_RELOAD_INTERVAL_S"] = "0"
    return env


# ---------------------------------------------------------------------- phases 3 and 4


def engage_serve_command(uri: str, port: int) -> list[str]:
    """The `engage serve` command line both HTTP phases start."""
    return [
        str(BIN / "engage"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--model-uri",
        uri,
    ]


def http_latency(uri: str, tmp: Path, requests: int, budget_s: float) -> dict[str, Any]:
    port = free_port()
    example = json.loads((REPO / "examples" / "recommendation_request.json").read_text())
    proc = start(
        engage_serve_command(uri, port),
        server_env(),
        tmp / "engage-serve.log",
    )
    try:
        ready_s = wait_ready(f"http://127.0.0.1:{port}/readyz", proc, 90)
        url = f"http://127.0.0.1:{port}/v1/recommendations"
        out = {
            "startup_s": round(ready_s, 1),
            "request": f"examples/recommendation_request.json with {POOL_SIZE} distinct profiles",
        }
        bodies = [{**example, "profile": p} for p in profile_pool()]
        for c in (1, 8):
            log(f"HTTP latency, concurrency {c}")
            out[f"c{c}"] = load(url, bodies, c, requests, budget_s)
        return out
    finally:
        stop(proc)


def throughput(
    uri: str,
    tmp: Path,
    requests: int,
    budget_s: float,
    concurrencies: tuple[int, ...] = (8, 32),
    rounds: int = 3,
) -> dict[str, Any]:
    """Requests per second of both servers at each concurrency, measured in alternating rounds.

    Both servers run for the whole phase (an idle server costs nothing) and take turns, round
    after round: at each concurrency, engage then mlflow; so a change in the machine's load
    hits both alike. Each turn sends ``requests / rounds`` requests (at most ``budget_s /
    (2 * rounds)`` seconds). A server's throughput is its best over the concurrencies (its
    requests per second when saturated); the ratio at each concurrency is reported too.
    """
    pool = profile_pool()
    out: dict[str, Any] = {
        "distinct_profiles": len(pool),
        "rounds": rounds,
        "concurrencies": list(concurrencies),
    }
    env = server_env()
    servers: dict[str, tuple[subprocess.Popen[bytes], str, list[dict[str, Any]]]] = {}
    try:
        port = free_port()
        proc = start(engage_serve_command(uri, port), env, tmp / "engage-serve-2.log")
        servers["engage"] = (
            proc,
            f"http://127.0.0.1:{port}/v1/recommendations",
            [{"profile": p} for p in pool],
        )
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc, 90)
        port = free_port()
        proc = start(
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                uri,
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            env,
            tmp / "mlflow-serve.log",
        )
        servers["mlflow"] = (
            proc,
            f"http://127.0.0.1:{port}/invocations",
            [{"dataframe_records": [p]} for p in pool],
        )
        out["mlflow_startup_s"] = round(wait_ready(f"http://127.0.0.1:{port}/ping", proc, 120), 1)
        per_turn = max(max(concurrencies) * 10, requests // rounds)
        runs: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for r in range(rounds):
            for c in concurrencies:
                for name, (proc, url, bodies) in servers.items():
                    log(f"throughput round {r + 1}/{rounds}, concurrency {c}: {name}")
                    runs.setdefault((c, name), []).append(
                        measured_load(proc, url, bodies, c, per_turn, budget_s / (2 * rounds))
                    )
    finally:
        for proc, _, _ in servers.values():
            stop(proc)
    by_c: dict[str, dict[str, Any]] = {}
    for c in concurrencies:
        e, m = runs[(c, "engage")], runs[(c, "mlflow")]
        by_c[str(c)] = {
            "engage": _pooled(e),
            "mlflow": _pooled(m),
            "round_ratios": [round(a["rps"] / b["rps"], 2) for a, b in zip(e, m, strict=True)],
        }
        by_c[str(c)]["ratio"] = round(
            by_c[str(c)]["engage"]["rps"] / by_c[str(c)]["mlflow"]["rps"], 2
        )
    out["by_concurrency"] = by_c
    for name in servers:
        best = max(concurrencies, key=lambda c: by_c[str(c)][name]["rps"])
        out[name] = {**by_c[str(best)][name], "concurrency": best}
    out["ratio"] = round(out["engage"]["rps"] / out["mlflow"]["rps"], 2)
    out["cpu_ratio"] = round(
        out["mlflow"]["server_cpu_ms_per_request"] / out["engage"]["server_cpu_ms_per_request"], 2
    )
    return out


def _pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One server's rounds together: requests over wall time, CPU and latency weighted by requests."""
    n = sum(r["requests"] for r in runs)

    def mean(key: str) -> float:
        return round(sum(r[key] * r["requests"] for r in runs) / n, 3)

    return {
        "requests": n,
        "errors": sum(r["errors"] for r in runs),
        "first_error": next((r["first_error"] for r in runs if r["first_error"]), None),
        "rps": round(n / sum(r["wall_s"] for r in runs), 1),
        "rps_by_round": [r["rps"] for r in runs],
        "mean_ms": mean("mean_ms"),
        "p99_ms_worst_round": max(r["p99_ms"] for r in runs),
        "server_cpu_ms_per_request": round(mean("server_cpu_ms_per_request"), 2),
        "client_cpu_ms_per_request": mean("client_cpu_ms_per_request"),
    }


# ---------------------------------------------------------------------- report


def verdict(value: float, bound: float, upper: bool) -> str:
    ok = value <= bound if upper else value >= bound
    return "met" if ok else "MISSED"


def markdown(res: dict[str, Any]) -> str:
    m, ip, h, tp = res["machine"], res["in_process"], res["http"], res["throughput"]
    t = TARGETS
    lines = [
        "# Serving latency benchmark",
        "",
        f"Run {m['date']} by `benchmarks/serving_latency.py` on {m['nproc']} CPUs ({m['cpu_model']}), "
        f"load average at start {m['load_average_at_start']}; Python {m['python']}, LightGBM {m['lightgbm']}, "
        f"MLflow {m['mlflow']}, numpy {m['numpy']}, pandas {m['pandas']}, FastAPI {m['fastapi']}, "
        f"uvicorn {m['uvicorn']}.",
        "",
        f"Model: `{res['model']['uri']}`"
        + (
            f", trained here on {res['model']['rows']:,} simulated hard rows in {res['model']['train_s']} s"
            if res["model"].get("trained_here")
            else ""
        )
        + f"; policy mode `{ip['policy_mode']}`, {ip['candidates']} candidate actions, "
        f"{ip['outcome_models']} outcome models of {ip['trees_per_outcome_model']} trees.",
        "",
        "| measure | value | target | |",
        "| --- | --- | --- | --- |",
        f"| `Policy.recommend`, 1 profile, explained (median) | {ip['recommend_median_ms']} ms | | |",
        f"| raw LightGBM calls for the same answer (median) | {ip['raw_lightgbm_median_ms']} ms | | |",
        f"| overhead ratio | {ip['ratio']} | <= {t['overhead_ratio_max']} | "
        f"{verdict(ip['ratio'], t['overhead_ratio_max'], True)} |",
        f"| HTTP p50 / p99, concurrency 1 | {h['c1']['p50_ms']} / {h['c1']['p99_ms']} ms | p99 <= "
        f"{t['http_p99_c1_ms_max']} ms | {verdict(h['c1']['p99_ms'], t['http_p99_c1_ms_max'], True)} |",
        f"| time inside the app (Server-Timing), p50 at concurrency 1 | {h['c1']['server_p50_ms']} ms | | |",
        f"| HTTP p50 / p99, concurrency 8 | {h['c8']['p50_ms']} / {h['c8']['p99_ms']} ms | | |",
        *[
            f"| throughput at concurrency {c}: `engage serve` / `mlflow models serve` | "
            f"{v['engage']['rps']} / {v['mlflow']['rps']} req/s = {v['ratio']}x | | |"
            for c, v in tp.get("by_concurrency", {}).items()
        ],
        f"| throughput, each server at its best concurrency | {tp['engage']['rps']} req/s "
        f"(c={tp['engage'].get('concurrency', 8)}) / {tp['mlflow']['rps']} req/s "
        f"(c={tp['mlflow'].get('concurrency', 8)}) | | |",
        f"| throughput ratio | {tp['ratio']}x | >= {t['throughput_ratio_min']}x | "
        f"{verdict(tp['ratio'], t['throughput_ratio_min'], False)} |",
        f"| server CPU per request, `engage serve` / `mlflow models serve` | "
        f"{tp['engage']['server_cpu_ms_per_request']} / {tp['mlflow']['server_cpu_ms_per_request']} ms "
        f"({tp['cpu_ratio']}x) | | |",
        "",
        "Requests: "
        f"c=1 {h['c1']['requests']}, c=8 {h['c8']['requests']} (errors: {h['c1']['errors'] + h['c8']['errors']}); "
        + "; ".join(
            f"throughput c={c}: engage {v['engage']['requests']}, mlflow {v['mlflow']['requests']} "
            f"(errors: {v['engage']['errors']}, {v['mlflow']['errors']}; ratio by round "
            + ", ".join(f"{r}x" for r in v["round_ratios"])
            + ")"
            for c, v in tp.get("by_concurrency", {}).items()
        )
        + ". Both servers run one uvicorn worker. The load client (raw keep-alive sockets, one "
        "thread per connection) runs on the same CPUs and used "
        f"{tp['engage']['client_cpu_ms_per_request']} / {tp['mlflow']['client_cpu_ms_per_request']} ms "
        f"of CPU per request. Throughput was measured in {tp.get('rounds', 1)} rounds; in each, "
        "at each concurrency, engage then mlflow, so both see the same machine.",
        "",
        "## Where `Policy.recommend` spends its time (median ms per call, interleaved)",
        "",
        "| part | ms |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in ip["breakdown_median_ms"].items()],
    ]
    lines += [
        "",
        f"Ratio with the profile already encoded: {ip['ratio_profile_pre_encoded']} (all of "
        "`Policy.recommend` except `FeatureBuilder.encode_context`). Each row above is a median "
        "of calls interleaved round by round, so all parts see the same machine load.",
    ]
    if "profile_top_cumulative" in ip:
        areas = ", ".join(f"{k} {v}" for k, v in ip["own_time_by_area_ms"].items())
        lines += [
            "",
            f"cProfile of 100 calls; own time by area, ms per call (profiling inflates it): {areas}.",
            "",
            "```",
            *ip["profile_top_cumulative"],
            "```",
        ]
    if res.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in res["notes"]]]
    return "\n".join(lines) + "\n"


def _notes(res: dict[str, Any]) -> list[str]:
    m = res["machine"]
    notes = [
        "`engage serve` ran with its defaults (one uvicorn worker, "
        f"{m.get('serve_policy_threads', '?')} policy threads, {m.get('http_parser', 'h11')} HTTP parser, "
        "access log on, alias polling off); `mlflow models serve` with its own (one uvicorn worker, "
        "the same uvicorn and parser).",
    ]
    ip = res["in_process"]
    explain_ms = next(
        (v for k, v in ip["breakdown_median_ms"].items() if k.startswith("explain")), None
    )
    if explain_ms is not None:
        notes.append(
            "Both servers run the same `Policy.recommend` for each profile, and the explanation's "
            f"LightGBM `pred_contrib` alone takes {explain_ms} ms of it; a server can only win by "
            "what it does around that call (parsing, validation, encoding, serialisation) and, "
            "for `engage serve`, by answering concurrent requests in one micro-batched call."
        )
    tp = res.get("throughput", {})
    if "cpu_ratio" in tp:
        notes.append(
            f"Server CPU per request: `engage serve` {tp['engage']['server_cpu_ms_per_request']} ms, "
            f"`mlflow models serve` {tp['mlflow']['server_cpu_ms_per_request']} ms ({tp['cpu_ratio']}x), "
            "read from /proc for each server's process tree; unlike requests per second it does not "
            "depend on what else runs on the machine. Both run the same LightGBM calls per profile "
            f"({ip['raw_lightgbm_median_ms']} ms for a lone profile in process); `engage serve` spends less "
            "around them, and under load its micro-batches share the per-call costs. Requests per second "
            "also depend on how many cores each server keeps busy (CPU per request x requests per "
            f"second): `engage serve` {_cores(tp['engage']):.2f}, `mlflow models serve` "
            f"{_cores(tp['mlflow']):.2f} of {m['nproc']}; both hand the model call to threads, and "
            "LightGBM releases the GIL while it scores, but `mlflow models serve` spends more of each "
            "request outside those calls (input parsing into pandas, schema enforcement, output "
            "conversion), in Python that holds the GIL."
        )
    busiest = max(m["load_average_at_start"][0], m["load_average_at_end"][0])
    if busiest > 0.5 * m["nproc"]:
        notes.append(
            f"The machine was shared: 1-minute load average {m['load_average_at_start'][0]} at the "
            f"start and {m['load_average_at_end'][0]} at the end on {m['nproc']} CPUs, so the "
            "absolute times are pessimistic; the ratios, measured under the same load, hold better."
        )
    return notes


def _cores(run: dict[str, Any]) -> float:
    """Cores a server kept busy during a load run."""
    return float(run["server_cpu_ms_per_request"]) * float(run["rps"]) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model-uri", default=None, help="serve this model instead of training one"
    )
    parser.add_argument("--rows", type=int, default=20_000, help="simulated rows to train on")
    parser.add_argument("--requests", type=int, default=2_000, help="requests per HTTP phase")
    parser.add_argument("--calls", type=int, default=300, help="in-process calls per measure")
    parser.add_argument(
        "--phase-budget", type=float, default=60.0, help="seconds per measured phase"
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite the .md from the existing .json"
    )
    args = parser.parse_args(argv)
    if args.report_only:
        res = json.loads((args.out / "serving_latency.json").read_text())
        res["notes"] = _notes(res)
        (args.out / "serving_latency.json").write_text(json.dumps(res, indent=2) + "\n")
        (args.out / "serving_latency.md").write_text(markdown(res))
        print(markdown(res))
        return 0

    res: dict[str, Any] = {"machine": machine(), "targets": TARGETS}
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as tmp_name:
        tmp = Path(tmp_name)
        log("phase 1: model")
        res["model"] = prepare_model(args, tmp)
        uri = res["model"]["uri"]
        log(f"phase 2: in-process ({uri})")
        res["in_process"] = in_process(uri, args.calls, args.phase_budget)
        log("phase 3: HTTP latency")
        res["http"] = http_latency(uri, tmp, args.requests, args.phase_budget)
        log("phase 4: throughput against mlflow models serve")
        res["throughput"] = throughput(uri, tmp, args.requests, args.phase_budget)
    res["model"].pop("tracking_uri", None)  # a temporary path, meaningless afterwards
    res["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    res["notes"] = _notes(res)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serving_latency.json").write_text(json.dumps(res, indent=2) + "\n")
    md = markdown(res)
    (args.out / "serving_latency.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
