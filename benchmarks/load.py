"""Load benchmark: a real ``engage serve`` with API keys and rate limits on, under mixed traffic.

Not a test: run it by hand on an otherwise idle machine and commit the results it writes.

    .venv/bin/python benchmarks/load.py                     # the committed fixture policy
    .venv/bin/python benchmarks/load.py --model-uri models:/engage-simulated_world@champion

Bounded and loopback only; every subprocess is stopped in ``finally``:

1. model: ``--model-uri``, or the committed fixture policy (``tests/fixtures/policy``)
   logged, registered and promoted in a temporary MLflow store (seconds, no training);
2. the server: ``engage serve`` on a free loopback port with an API-keys file of two keys and
   a rate limit (``--rate-limit``, high enough that this traffic never reaches it: the limiter
   runs on every request without refusing any);
3. load: ``--concurrency`` keep-alive clients (raw sockets, cheap on a 2-core machine), each
   with one of the two keys, for ``--seconds``; every ``--batch-every``-th request of a client
   is a batch of ``--batch-size`` profiles, the others single profiles, cycling through 500
   distinct simulated profiles (no answer can come from a cache);
4. the server's resident memory (``VmRSS``) after a warm-up and at the end, sampled every
   5 s in between; targets: 0 failed requests, memory growth <= 10%;
5. writes ``benchmarks/results/load.{json,md}`` with the machine's load average.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.serving_latency import (  # noqa: E402
    BIN,
    KeepAliveClient,
    free_port,
    profile_pool,
    start,
    stop,
    wait_ready,
)

RESULTS = REPO / "benchmarks" / "results"
FIXTURE = REPO / "tests" / "fixtures" / "policy"
TARGETS = {"failed_max": 0, "memory_growth_max": 0.10}
KEYS = ("load-key-one-0123456789abcdef", "load-key-two-fedcba9876543210")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def fixture_model(tmp: Path) -> str:
    """The committed fixture policy, registered as ``load-policy@champion`` in a new store."""
    import mlflow
    import pandas as pd

    from engage import registry
    from engage.policy.artifact import load_policy

    store = tmp / "mlruns"
    store.mkdir()
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store / 'mlflow.db'}"
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.create_experiment("load", artifact_location=(store / "artifacts").as_uri())
    mlflow.set_experiment("load")
    example = pd.read_parquet(REPO / "tests" / "fixtures" / "snapshot_profiles.parquet").head(2)
    with mlflow.start_run():
        info = registry.log_policy_model(load_policy(FIXTURE), example)
    version = registry.register(info.model_uri, "load-policy", {}).version
    registry.promote("load-policy", version)
    return "models:/load-policy@champion"


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB, from ``/proc``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def raw_post(client: KeepAliveClient, path: str, body: dict[str, Any], key: str) -> bytes:
    """The bytes of one keep-alive POST with its API key (built once, sent many times)."""
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {client.host}:{client.port}\r\n"
        f"Content-Type: application/json\r\nX-API-Key: {key}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


@functools.cache
def _pool() -> list[dict[str, Any]]:
    return profile_pool()


def requests_of(
    client: KeepAliveClient, key: str, args: argparse.Namespace
) -> list[tuple[str, bytes]]:
    """The cycle of requests one client sends: singles with a batch every ``batch_every``."""
    pool = _pool()
    out: list[tuple[str, bytes]] = []
    for i in range(len(pool)):
        if i % args.batch_every == args.batch_every - 1:
            profiles = [pool[(i + j) % len(pool)] for j in range(args.batch_size)]
            out.append(
                (
                    "batch",
                    raw_post(client, "/v1/recommendations/batch", {"profiles": profiles}, key),
                )
            )
        else:
            out.append(
                ("single", raw_post(client, "/v1/recommendations", {"profile": pool[i]}, key))
            )
    return out


def drive(base: str, args: argparse.Namespace, until: float, on_tick: Any) -> dict[str, Any]:
    """``args.concurrency`` clients sending until ``until``; counts, failures and latencies."""
    lock = threading.Lock()
    statuses: dict[str, int] = {}
    failures: list[str] = []
    times: dict[str, list[float]] = {"single": [], "batch": []}

    def client_loop(index: int) -> None:
        client = KeepAliveClient(base + "/v1/recommendations")
        cycle = requests_of(client, KEYS[index % len(KEYS)], args)
        i = index * 37  # clients start at different places in the cycle
        try:
            while time.monotonic() < until:
                kind, raw = cycle[i % len(cycle)]
                i += 1
                t = time.perf_counter()
                try:
                    status, body, _ = client.send(raw)
                except (OSError, RuntimeError) as exc:  # a closed or broken connection
                    with lock:
                        statuses["connection error"] = statuses.get("connection error", 0) + 1
                        failures.append(f"{kind}: {type(exc).__name__}: {exc}")
                    client.close()
                    client = KeepAliveClient(base + "/v1/recommendations")
                    continue
                took = time.perf_counter() - t
                with lock:
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    times[kind].append(took)
                    if status != 200:
                        failures.append(f"{kind}: {status}: {body[:200].decode(errors='replace')}")
        finally:
            client.close()

    ticker = threading.Thread(target=on_tick, args=(until,), daemon=True)
    ticker.start()
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(client_loop, range(args.concurrency)))
    ticker.join(timeout=10)
    return {"statuses": statuses, "failures": failures, "times": times}


def _quantiles(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"requests": 0}
    ordered = sorted(values)

    def q(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 2)

    return {
        "requests": len(ordered),
        "p50_ms": q(0.5),
        "p99_ms": q(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def run_load(uri: str, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Start the keyed, rate-limited server, warm it, load it, and measure its memory."""
    keys_file = tmp / "api-keys"
    keys_file.write_text("# load benchmark keys\n" + "\n".join(KEYS) + "\n")
    env = {
        **os.environ,
        "ENGAGE_SERVE_API_KEYS_FILE": str(keys_file),
        "ENGAGE_SERVE_RATE_LIMIT": args.rate_limit,
        "ENGAGE_SERVE_RELOAD_INTERVAL_S": "0",
        "ENGAGE_SERVE_ACCESS_LOG": "false",
    }
    port = free_port()
    cmd = [
        str(BIN / "engage"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--model-uri",
        uri,
    ]
    proc = start(cmd, env, tmp / "engage-serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        startup_s = wait_ready(f"{base}/readyz", proc, 120)
        keyless = httpx.post(f"{base}/v1/recommendations", json={"profile": _pool()[0]}, timeout=10)
        if keyless.status_code != 401:  # the figures below must be those of a keyed server
            raise RuntimeError(f"a request without a key got {keyless.status_code}, not 401")
        log(f"server ready in {startup_s:.1f} s; keys enforced; warming up")
        drive(base, args, time.monotonic() + args.warmup, lambda until: None)
        rss_start = rss_mb(proc.pid)
        samples: list[tuple[float, float]] = []

        def sample(until: float) -> None:
            t0 = time.monotonic()
            while time.monotonic() < until:
                samples.append((round(time.monotonic() - t0, 1), round(rss_mb(proc.pid), 1)))
                time.sleep(5)

        log(f"load: {args.seconds} s at concurrency {args.concurrency}")
        t0 = time.monotonic()
        out = drive(base, args, t0 + args.seconds, sample)
        wall = time.monotonic() - t0
        rss_end = rss_mb(proc.pid)
    finally:
        stop(proc)
    singles, batches = out["times"]["single"], out["times"]["batch"]
    answered = len(singles) + len(batches)
    return {
        "startup_s": round(startup_s, 1),
        "keyless_request_status": keyless.status_code,
        "wall_s": round(wall, 1),
        "requests": sum(out["statuses"].values()),
        "requests_per_s": round(answered / wall, 1),
        "profiles_per_s": round((len(singles) + len(batches) * args.batch_size) / wall, 1),
        "statuses": out["statuses"],
        "failed": len(out["failures"]),
        "first_failures": out["failures"][:5],
        "single": _quantiles(singles),
        "batch": _quantiles(batches),
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(rss_end, 1),
        "rss_mb_max": round(max([rss_end, *[s[1] for s in samples]]), 1),
        "memory_growth": round((rss_end - rss_start) / rss_start, 4),
        "rss_samples": samples,
    }


def markdown(res: dict[str, Any]) -> str:
    m, r, a = res["machine"], res["load"], res["args"]
    growth_ok = r["memory_growth"] <= TARGETS["memory_growth_max"]
    failed_ok = r["failed"] <= TARGETS["failed_max"]
    return "\n".join(
        [
            "# Load benchmark",
            "",
            f"Run {m['date']} by `benchmarks/load.py` on {m['nproc']} CPUs, load average "
            f"{m['load_average_at_start']} at the start and {m['load_average_at_end']} at the end. "
            f"Model `{res['model_uri']}`; `engage serve` on loopback with an API-keys file of "
            f"{len(KEYS)} keys and a rate limit of `{a['rate_limit']}` per key (on for every "
            f"request, reached by none); a request without a key got {r['keyless_request_status']}.",
            "",
            f"Traffic: {a['concurrency']} keep-alive clients for {a['seconds']} s after a "
            f"{a['warmup']} s warm-up; every {a['batch_every']}th request of a client a batch of "
            f"{a['batch_size']} profiles, the others single profiles, from 500 distinct "
            "simulated profiles.",
            "",
            "| measure | value | target | |",
            "| --- | --- | --- | --- |",
            f"| requests answered (200) / failed | {r['statuses'].get('200', 0)} / {r['failed']} "
            f"| 0 failed | {'met' if failed_ok else 'MISSED'} |",
            f"| requests per second / profiles per second | {r['requests_per_s']} / "
            f"{r['profiles_per_s']} | | |",
            f"| single p50 / p99 | {r['single'].get('p50_ms')} / {r['single'].get('p99_ms')} ms | | |",
            f"| batch p50 / p99 | {r['batch'].get('p50_ms')} / {r['batch'].get('p99_ms')} ms | | |",
            f"| server RSS after warm-up / at the end (max) | {r['rss_mb_start']} / "
            f"{r['rss_mb_end']} MiB ({r['rss_mb_max']}) | | |",
            f"| memory growth | {r['memory_growth'] * 100:+.1f}% | <= "
            f"{TARGETS['memory_growth_max'] * 100:.0f}% | {'met' if growth_ok else 'MISSED'} |",
            "",
            f"Statuses: {r['statuses']}. "
            + (f"First failures: {r['first_failures']}." if r["first_failures"] else ""),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-uri", default=None, help="serve this model (default: the fixture)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-every", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--rate-limit", default="1000000/minute")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    res: dict[str, Any] = {
        "machine": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "nproc": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "args": {k: v for k, v in vars(args).items() if k != "out"},
        "targets": TARGETS,
    }
    with tempfile.TemporaryDirectory(prefix="engage-load-") as tmp_name:
        tmp = Path(tmp_name)
        log("model")
        uri = args.model_uri or fixture_model(tmp)
        res["model_uri"] = (
            uri if args.model_uri else "tests/fixtures/policy (registered in a temporary store)"
        )
        res["load"] = run_load(uri, tmp, args)
    res["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(res, indent=2) + "\n")
    md = markdown(res)
    (args.out / "load.md").write_text(md)
    print(md)
    ok = (
        res["load"]["failed"] <= TARGETS["failed_max"]
        and res["load"]["memory_growth"] <= TARGETS["memory_growth_max"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
