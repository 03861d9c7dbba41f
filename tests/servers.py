"""A real ``engage serve`` process on a free loopback port, for the tests that need one.

Started with the test's environment, waited for until a path answers 200 (or the process dies,
or the timeout passes: the test fails with the end of the server's log), and always stopped:
SIGTERM, then SIGKILL if it lingers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

ENGAGE = str(Path(sys.executable).parent / "engage")


def stop_process_group(proc: subprocess.Popen, timeout_s: float = 15) -> None:
    """SIGTERM to the process group a test started (a server and its children), then SIGKILL
    if it lingers past ``timeout_s``."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def free_port() -> int:
    """A TCP port nothing listens on now, on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 now."""
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def mlflow_server(
    root: Path, backend_store_uri: str, *, artifacts: Path | None = None, timeout_s: float = 180
) -> Iterator[str]:
    """A real ``mlflow server`` (one worker) on a free loopback port, logging to
    ``root/server.log``; yields ``127.0.0.1:PORT`` once ``/health`` answers, fails the test with
    the end of the log if it does not, and always stops its process group."""
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", "1", "--backend-store-uri", backend_store_uri]
    if artifacts is not None:
        cmd += ["--artifacts-destination", str(artifacts)]
    log_path = root / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while not answers(f"http://{address}/health"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"mlflow server not ready (exit {proc.poll()}):\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.5)
        yield address
    finally:
        stop_process_group(proc, timeout_s=30)


@contextmanager
def engage_serve(
    workdir: Path,
    env: Mapping[str, str],
    args: Sequence[str] = (),
    *,
    ready_path: str = "/readyz",
    timeout_s: float = 60,
) -> Iterator[str]:
    """``engage serve --host 127.0.0.1 --port <free> *args``; yields its base URL once
    ``ready_path`` answers 200. The log is ``workdir/server.log``."""
    port = free_port()
    log_path = workdir / "server.log"
    cmd = [ENGAGE, "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, env=dict(env), stdout=log, stderr=subprocess.STDOUT, cwd=workdir
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while not answers(base + ready_path):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"server not ready (exit code {proc.poll()}):\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(0.25)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


class _EchoHeaders(BaseHTTPRequestHandler):
    """Every request gets a 500 whose body is the request line and headers (as some proxies'
    and frameworks' error pages do: ``Authorization: Basic ...`` included)."""

    def _echo(self) -> None:
        body = f"Internal Server Error\n{self.command} {self.path}\n{self.headers}".encode()
        self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _echo

    def log_message(self, *args: object) -> None:  # quiet
        pass


@contextmanager
def echo_headers_server() -> Iterator[int]:
    """A loopback HTTP server answering every request with a 500 echoing its headers; its port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHeaders)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
