"""The closed-loop benchmark's service side: the real app under uvicorn on loopback, a round of
businesses served through it and their outcomes posted back, and serving with full-action
exploration on against off."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from engage.decisions.settings import DecisionSettings
from engage.serving.app import create_app
from engage.serving.settings import ServeSettings
from engage.simulation.vocabulary import OUTCOMES

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


def serve_round(
    base: str, profiles: pd.DataFrame, exploration: dict[str, Any]
) -> tuple[list[str], pd.DataFrame]:
    """Decision ids and served actions for ``profiles``."""
    ids, actions = [], []
    records = profiles.to_dict("records")
    with httpx.Client(timeout=300) as client:
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
                actions.append(
                    {
                        "style": rec["style"],
                        **{f"mix_{k}": v for k, v in rec["posting_mix"].items()},
                        "posts_per_week": rec["decisions"]["posts_per_week"],
                    }
                )
    return ids, pd.DataFrame(actions)


def post_outcomes(base: str, ids: list[str], observed: np.ndarray) -> None:
    with httpx.Client(timeout=30) as client:
        for did, values in zip(ids, observed, strict=True):
            outcomes = dict(zip(OUTCOMES, map(float, values), strict=True))
            r = client.post(f"{base}/v1/outcomes", json={"decision_id": did, "outcomes": outcomes})
            r.raise_for_status()


# ---------------------------------------------------------------------- serving on vs off


def overhead(
    model_uri: str, tracking: str, tmp: Path, blocks: int, per_block: int, epsilon: float
) -> dict:
    """Single-profile requests at concurrency 1, full-action exploration on against off, on two
    servers of the same model (both recording), alternating blocks."""
    from engage.simulation.profiles import sample_profiles

    profiles = sample_profiles(500, np.random.default_rng(99)).to_dict("records")
    arms = {
        "on": {"method": "epsilon", "epsilon": epsilon, "full": True},
        "off": {"method": "greedy", "full": False},
    }
    times: dict[str, list[float]] = {"on": [], "off": []}
    walls = {"on": 0.0, "off": 0.0}
    with (
        serving(model_uri, tracking, DecisionSettings(url=f"sqlite:///{tmp / 'on.db'}")) as b_on,
        serving(model_uri, tracking, DecisionSettings(url=f"sqlite:///{tmp / 'off.db'}")) as b_off,
        httpx.Client(timeout=30) as client,
    ):
        bases = {"on": b_on, "off": b_off}
        for label, base in bases.items():  # warm up
            for k in range(30):
                body = {"profile": profiles[k], "exploration": arms[label]}
                client.post(f"{base}/v1/recommendations", json=body).raise_for_status()
        k = 0
        for b in range(blocks):
            for label in ("on", "off") if b % 2 == 0 else ("off", "on"):
                t0 = time.perf_counter()
                for _ in range(per_block):
                    body = {"profile": profiles[k % len(profiles)], "exploration": arms[label]}
                    s = time.perf_counter()
                    client.post(f"{bases[label]}/v1/recommendations", json=body).raise_for_status()
                    times[label].append(time.perf_counter() - s)
                    k += 1
                walls[label] += time.perf_counter() - t0
    out: dict[str, Any] = {}
    for label in ("on", "off"):
        ms = sorted(1000 * t for t in times[label])
        out[label] = {
            "requests": len(ms),
            "p50_ms": ms[len(ms) // 2],
            "p99_ms": ms[int(0.99 * (len(ms) - 1))],
            "rps": len(ms) / walls[label],
        }
    out["throughput_ratio_on_vs_off"] = out["on"]["rps"] / out["off"]["rps"]
    return out
