"""A real, throwaway PostgreSQL server on loopback for the tests that need one.

The server comes from the distribution's package (``apt-get install postgresql``; ``.ci/run``
installs it). ``initdb`` refuses to run as root, so as root the cluster is created and started
as the ``postgres`` system user. Where no server binaries can be found the tests that need one
skip, printing why (``pytest -ra`` lists the reason), never silently.

Use the session fixture ``postgres_server`` (in ``tests/conftest.py``) and
:func:`create_database` for a database of one's own:

    url = create_database(postgres_server, "decisions")  # postgresql+psycopg://...
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class PostgresServer:
    """A running server: where it listens and how to reach it as its superuser."""

    host: str
    port: int
    user: str
    password: str
    bin_dir: Path

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """SQLAlchemy URL of ``database`` on this server (``driver`` ``postgresql`` for MLflow)."""
        return f"{driver}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"


def find_bin_dir() -> Path | None:
    """The directory of ``initdb``/``pg_ctl``: on PATH, or Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(versions[0]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str], owner: str | None, **kw: object) -> subprocess.CompletedProcess[str]:
    if owner:
        cmd = ["runuser", "-u", owner, "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


def start_server(root: Path) -> tuple[PostgresServer, callable]:  # type: ignore[valid-type]
    """Create a cluster under ``root`` and start it; return the server and its stop function
    (``stop.start_again()`` starts the stopped cluster again, as it was: an outage's end).

    Raises:
        pytest.skip.Exception: no PostgreSQL server binaries on this machine.
    """
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries not found (apt-get install postgresql; .ci/run does it)"
        )
    owner = "postgres" if os.geteuid() == 0 else None
    data, sockets = root / "data", root / "sockets"
    data.mkdir(parents=True)
    sockets.mkdir()
    password = secrets.token_hex(12)
    pwfile = root / "pw"
    pwfile.write_text(password)
    if owner:
        shutil.chown(root, owner)
        for p in (data, sockets, pwfile):
            shutil.chown(p, owner)
    user = "engage_test"
    _as_owner(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            user,
            "--pwfile",
            str(pwfile),
            "-A",
            "scram-sha-256",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        owner,
    )
    port = _free_port()
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off"
    start_command = [
        str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts,
        "-l", str(root / "server.log"), "-w", "-t", "60", "start",
    ]  # fmt: skip
    _as_owner(start_command, owner)
    server = PostgresServer("127.0.0.1", port, user, password, bin_dir)

    def stop() -> None:
        subprocess.run(
            (["runuser", "-u", owner, "--"] if owner else [])
            + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )

    def start_again() -> None:  # after stop(): the same cluster, port and password
        _as_owner(start_command, owner)
        _wait_ready(server)

    stop.start_again = start_again  # type: ignore[attr-defined]
    _wait_ready(server)
    return server, stop


def _wait_ready(server: PostgresServer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((server.host, server.port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def create_database(server: PostgresServer, name: str) -> str:
    """Create database ``name`` (dropping an old one) and return its SQLAlchemy URL."""
    import psycopg

    with psycopg.connect(
        server.url().replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)


def temporary_root() -> Path:
    """A fresh directory for a cluster (readable by the ``postgres`` user when root)."""
    root = Path(tempfile.mkdtemp(prefix="engage-pg-"))
    root.chmod(0o755)
    return root
