"""Outage benchmark: does every decision answered with an id reach the store?

Not a test: run it by hand and commit the results it writes (about four minutes).

    .venv/bin/python benchmarks/outage.py

A real ``engage serve`` (the committed fixture policy, registered in a temporary MLflow store)
answers ``--clients`` keep-alive clients posting single recommendations; every answered
``decision_id`` is kept. Three scenarios, each with a fresh store and spool:

1. ``postgresql``: the store is a PostgreSQL server of our own (``tests/postgres.py``); after a
   warm-up it is stopped (``pg_ctl -m immediate``) for ``--pg-down`` seconds, then started;
2. ``sqlite``: the store is an SQLite file; another connection holds an exclusive transaction
   on it (``BEGIN EXCLUSIVE``) for ``--sqlite-lock`` seconds;
3. ``sigkill``: SQLite store, healthy; the server is killed with SIGKILL under load
   ``--kills`` times, restarted each time on the same store and spool.

After each, the load stops, the benchmark waits until the server's ``/metrics`` shows no
backlog (``engage_decisions_queued`` + ``engage_decisions_spooled`` = 0), and compares the
answered ids with the ids in the store. Target: 0 lost in the outages; for SIGKILL, the loss
is bounded by what was still in the memory queue (not yet fsynced to the spool), measured.
An outcome posted for a decision answered during the outage gets 503 while the store is down
(never 404) and 200 once it is back. Writes ``benchmarks/results/outage.{json,md}`` with the
machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.load import fixture_model  # noqa: E402
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
TARGETS = {"lost_in_outages": 0}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Server:
    """``engage serve`` on a free port with the given decision store and spool."""

    def __init__(self, uri: str, tmp: Path, store_url: str, name: str) -> None:
        self.uri, self.tmp, self.store_url, self.name = uri, tmp, store_url, name
        self.starts = 0
        self.proc: Any = None
        self.base = ""

    def start(self) -> None:
        self.starts += 1
        port = free_port()
        env = {
            **os.environ,
            "ENGAGE_SERVE_RELOAD_INTERVAL_S": "0",
            "ENGAGE_SERVE_ACCESS_LOG": "false",
            "ENGAGE_DECISIONS_URL": self.store_url,
            "ENGAGE_DECISIONS_SPOOL_DIR": str(self.tmp / f"spool-{self.name}"),
        }
        cmd = [str(BIN / "engage"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--model-uri", self.uri]
        self.log_path = self.tmp / f"serve-{self.name}-{self.starts}.log"
        self.proc = start(cmd, env, self.log_path)
        self.base = f"http://127.0.0.1:{port}"
        wait_ready(f"{self.base}/readyz", self.proc, 120)

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        stop(self.proc)

    def metrics(self) -> dict[str, float]:
        text = httpx.get(f"{self.base}/metrics", timeout=10).text
        out: dict[str, float] = {}
        for line in text.splitlines():
            m = re.match(r"^(engage_decisions_\w+) ([0-9.e+-]+)$", line)
            if m:
                out[m.group(1)] = float(m.group(2))
        return out

    def drain(self, timeout_s: float) -> float:
        """Wait until the server's decision backlog is empty and its store up; seconds taken."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            m = self.metrics()
            backlog = m.get("engage_decisions_queued", 1) + m.get("engage_decisions_spooled", 1)
            if backlog == 0 and m.get("engage_decisions_store_up") == 1:
                return time.monotonic() - t0
            time.sleep(0.5)
        raise TimeoutError(f"backlog not drained after {timeout_s} s: {self.metrics()}")

    def alarms(self) -> list[str]:
        lines: list[str] = []
        for path in sorted(self.tmp.glob(f"serve-{self.name}-*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if "decision" in line and any(
                    w in line for w in ("unavailable", "back after", "spool", "replay")
                ):
                    lines.append(line.strip()[:300])
        return lines


class Load:
    """``clients`` keep-alive clients posting single recommendations until stopped; the ids
    answered (200) are kept, other statuses counted."""

    def __init__(self, server: Server, clients: int) -> None:
        self.server, self.clients = server, clients
        self.ids: list[str] = []
        self.statuses: dict[str, int] = {}
        self.lock = threading.Lock()
        self.running = threading.Event()
        self.pool = profile_pool()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        self.running.set()
        self.threads = [
            threading.Thread(target=self._client, args=(i,), daemon=True)
            for i in range(self.clients)
        ]
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.running.clear()
        for t in self.threads:
            t.join(timeout=60)

    def _client(self, index: int) -> None:
        i = index * 37
        client: KeepAliveClient | None = None
        while self.running.is_set():
            try:
                if client is None:
                    client = KeepAliveClient(self.server.base + "/v1/recommendations", 30)
                raw = client.request(
                    json.dumps(
                        {"profile": self.pool[i % len(self.pool)], "explain": False}
                    ).encode()
                )
                i += 1
                status, body, _ = client.send(raw)
            except (OSError, RuntimeError):  # the server killed or restarting
                with self.lock:
                    self.statuses["connection error"] = self.statuses.get("connection error", 0) + 1
                if client is not None:
                    client.close()
                client = None
                time.sleep(0.2)
                continue
            with self.lock:
                self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
                if status == 200:
                    self.ids.append(json.loads(body)["decision_id"])
        if client is not None:
            client.close()

    def answered(self) -> int:
        with self.lock:
            return len(self.ids)


def post_outcome(server: Server, decision_id: str) -> int:
    r = httpx.post(
        f"{server.base}/v1/outcomes",
        json={"decision_id": decision_id, "outcomes": {"conversions": 1.0}},
        timeout=60,
    )
    return r.status_code


def stored_ids(store_url: str) -> set[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.text("SELECT decision_id FROM engage_decisions"))}
    finally:
        engine.dispose()


def outage(
    server: Server,
    load: Load,
    *,
    warmup_s: float,
    down_s: float,
    after_s: float,
    begin: Any,
    end: Any,
) -> dict[str, Any]:
    """Load, then ``begin()`` the outage for ``down_s``, ``end()`` it, load ``after_s`` more,
    stop, drain; answered vs stored, and what the server said."""
    load.start()
    time.sleep(warmup_s)
    before = load.answered()
    healthy_rate = before / warmup_s
    begin()
    t0 = time.monotonic()
    peak: dict[str, float] = {}
    outcome_during: list[int] = []
    poster: threading.Thread | None = None
    during_id: str | None = None
    while time.monotonic() - t0 < down_s:
        time.sleep(min(1.0, max(down_s - (time.monotonic() - t0), 0)))
        m = server.metrics()
        if m.get("engage_decisions_spooled", 0) >= peak.get("engage_decisions_spooled", 0):
            peak = m
        if poster is None and time.monotonic() - t0 > down_s / 2 and load.ids:
            during_id = load.ids[-1]  # answered during the outage
            # on its own thread: with SQLite it waits out the store's busy timeout (30 s)
            poster = threading.Thread(
                target=lambda did: outcome_during.append(post_outcome(server, did)),
                args=(during_id,),
                daemon=True,
            )
            poster.start()
    answered_during = load.answered() - before
    end()
    if poster is not None:
        poster.join(90)
    time.sleep(after_s)
    load.stop()
    drain_s = server.drain(180)
    outcome_after = post_outcome(server, during_id) if during_id else None
    final = server.metrics()
    server.stop()
    answered = set(load.ids)
    stored = stored_ids(server.store_url)
    return {
        "answered_ids": len(answered),
        "answered_during_outage": answered_during,
        "answered_per_s_before_outage": round(healthy_rate, 1),
        "stored_after_recovery": len(stored),
        "lost": len(answered - stored),
        "stored_not_answered": len(stored - answered),
        "statuses": load.statuses,
        "outcome_status_during_outage": outcome_during[0] if outcome_during else None,
        "outcome_status_after_recovery": outcome_after,
        "drain_s_after_load": round(drain_s, 1),
        "peak_metrics": peak,
        "final_metrics": final,
        "server_log": server.alarms(),
    }


def run_postgresql(uri: str, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    from tests.postgres import create_database, start_server, temporary_root

    pg, pg_stop = start_server(temporary_root())
    try:
        url = create_database(pg, "outage")
        server = Server(uri, tmp, url, "postgresql")
        server.start()
        log(f"postgresql: load, then the server stopped for {args.pg_down} s")
        res = outage(
            server,
            Load(server, args.clients),
            warmup_s=args.warmup,
            down_s=args.pg_down,
            after_s=args.after,
            begin=pg_stop,
            end=pg_stop.start_again,
        )
        return res
    finally:
        pg_stop()


def run_sqlite_lock(uri: str, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    path = tmp / "sqlite-lock" / "decisions.db"
    server = Server(uri, tmp, f"sqlite:///{path}", "sqlite")
    server.start()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def begin() -> None:
        holder.execute("BEGIN EXCLUSIVE")

    def end() -> None:
        holder.execute("ROLLBACK")

    log(f"sqlite: load, then the store file locked for {args.sqlite_lock} s")
    try:
        return outage(
            server,
            Load(server, args.clients),
            warmup_s=args.warmup,
            down_s=args.sqlite_lock,
            after_s=args.after,
            begin=begin,
            end=end,
        )
    finally:
        holder.close()


def run_sigkill(uri: str, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    path = tmp / "sigkill" / "decisions.db"
    server = Server(uri, tmp, f"sqlite:///{path}", "sigkill")
    rounds: list[dict[str, Any]] = []
    round_ids: list[set[str]] = []
    all_ids: set[str] = set()
    for k in range(args.kills):
        server.start()
        load = Load(server, args.clients)
        load.start()
        time.sleep(args.kill_after)
        server.kill9()
        load.stop()
        rounds.append({"answered": len(load.ids), "statuses": load.statuses})
        round_ids.append(set(load.ids))
        all_ids.update(load.ids)
        log(f"sigkill: round {k + 1}: {len(load.ids)} answered, then kill -9")
    server.start()  # replays what the killed servers left in the spool
    drain_s = server.drain(180)
    server.stop()
    stored = stored_ids(server.store_url)
    for r, ids in zip(rounds, round_ids, strict=True):
        r["lost"] = len(ids - stored)
    return {
        "kills": args.kills,
        "answered_ids": len(all_ids),
        "stored_after_restart": len(stored),
        "lost": len(all_ids - stored),
        "stored_not_answered": len(stored - all_ids),
        "rounds": rounds,
        "drain_s_after_restart": round(drain_s, 1),
        "server_log": server.alarms(),
    }


def markdown(res: dict[str, Any]) -> str:
    m, a = res["machine"], res["args"]
    pg, sq, kill = res["postgresql"], res["sqlite"], res["sigkill"]

    def verdict(lost: int) -> str:
        return "met" if lost <= TARGETS["lost_in_outages"] else "MISSED"

    def row(name: str, r: dict[str, Any]) -> str:
        return (
            f"| {name} | {r['answered_ids']} ({r['answered_per_s_before_outage']}/s before) | "
            f"{r['answered_during_outage']} | "
            f"{r['stored_after_recovery']} | **{r['lost']}** | {r['stored_not_answered']} | "
            f"{int(r['peak_metrics'].get('engage_decisions_spooled', 0))} | "
            f"{r['outcome_status_during_outage']} / {r['outcome_status_after_recovery']} | "
            f"{r['drain_s_after_load']} s | {verdict(r['lost'])} |"
        )

    lines = [
        "# Outage benchmark: decisions answered with an id vs decisions in the store",
        "",
        f"Run {m['date']} by `benchmarks/outage.py` on {m['nproc']} CPUs, load average "
        f"{m['load_average_at_start']} at the start and {m['load_average_at_end']} at the end "
        f"(other work shared the machine). `engage serve` on loopback (fixture policy), "
        f"{a['clients']} keep-alive clients posting single recommendations.",
        "",
        f"Outages: PostgreSQL stopped (`pg_ctl -m immediate`) for {a['pg_down']} s; an SQLite "
        f"store file held by another connection's `BEGIN EXCLUSIVE` for {a['sqlite_lock']} s. "
        f"Load {a['warmup']} s before and {a['after']} s after, then the benchmark waits for "
        "the server's backlog (`engage_decisions_queued` + `engage_decisions_spooled`) to reach "
        "0 and compares ids.",
        "",
        "| outage | answered ids | answered during the outage | in the store after | lost | "
        "in the store, never answered | peak spooled | outcome post during / after | "
        "drain after load | 0 lost |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        row(f"PostgreSQL stopped {a['pg_down']} s", pg),
        row(f"SQLite locked {a['sqlite_lock']} s", sq),
        "",
        "Before this change (issue #31): PostgreSQL stopped 20 s under 8 clients lost 3,483 of "
        "8,964 answered decisions; an SQLite lock of 100 s lost 44.",
        "",
        "## SIGKILL",
        "",
        f"The server killed with SIGKILL {kill['kills']} times under load "
        f"({a['kill_after']} s after each start), restarted on the same store and spool; the "
        "last start replays what the killed ones left in their spools.",
        "",
        f"- answered ids: {kill['answered_ids']} (per round: "
        f"{[r['answered'] for r in kill['rounds']]}; lost per round: "
        f"{[r['lost'] for r in kill['rounds']]})",
        f"- in the store after the restart: {kill['stored_after_restart']}; "
        f"**lost: {kill['lost']}**; in the store but never answered (in flight at the kill): "
        f"{kill['stored_not_answered']}",
        f"- backlog drained {kill['drain_s_after_restart']} s after the restart",
        "",
        "What a SIGKILL can lose is the writer's memory queue: records not yet appended to the "
        "spool. A recommendation is answered only once its record is fsynced there (at most "
        "2 s, `DURABLE_WAIT_S`), so the queue holds decisions whose id was not handed out yet; "
        "an answered id is lost only if the spool's fsync took longer than that. Before this "
        "change: 1-3 answered ids of ~4,000 per kill.",
        "",
        "## What the server said",
        "",
    ]
    for name, r in (("PostgreSQL", pg), ("SQLite", sq), ("SIGKILL", kill)):
        lines.append(f"{name}:")
        lines.append("")
        lines += [f"    {line}" for line in r["server_log"][:8]]
        lines.append("")
    lines.append(f"Statuses: PostgreSQL {pg['statuses']}; SQLite {sq['statuses']}.")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--after", type=float, default=5.0)
    parser.add_argument("--pg-down", type=float, default=20.0)
    parser.add_argument("--sqlite-lock", type=float, default=100.0)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--kill-after", type=float, default=6.0)
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
    with tempfile.TemporaryDirectory(prefix="engage-outage-") as tmp_name:
        tmp = Path(tmp_name)
        log("model")
        uri = fixture_model(tmp)
        res["postgresql"] = run_postgresql(uri, tmp, args)
        log(f"postgresql: {res['postgresql']['lost']} lost")
        res["sqlite"] = run_sqlite_lock(uri, tmp, args)
        log(f"sqlite: {res['sqlite']['lost']} lost")
        res["sigkill"] = run_sigkill(uri, tmp, args)
        log(f"sigkill: {res['sigkill']['lost']} lost")
    res["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "outage.json").write_text(json.dumps(res, indent=2) + "\n")
    md = markdown(res)
    (args.out / "outage.md").write_text(md)
    print(md)
    lost = res["postgresql"]["lost"] + res["sqlite"]["lost"]
    return 0 if lost <= TARGETS["lost_in_outages"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
