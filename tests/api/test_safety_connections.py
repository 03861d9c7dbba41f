"""Idle or partial connections are closed (issue 12, item 7).

A body that stops arriving gets a 408 from the ``RequestGuard`` middleware; a connection that
sends nothing, or a request head that never finishes, is closed by the serving protocol.
uvicorn runs in a thread on a loopback port with the serving options and a tiny guarded app,
so these tests cost about a second.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from engage.serving import server
from engage.serving.metrics import ServingMetrics
from engage.serving.middleware import RequestGuard
from engage.serving.settings import ServeSettings

URL = "/v1/recommendations"


def test_a_body_that_stops_arriving_gets_408_and_closes():
    async def app(scope, receive, send):  # never reached: the guard answers first
        raise AssertionError("the app must not see a partial body")

    guard = RequestGuard(
        app, metrics=ServingMetrics(), max_body_bytes=1_000, known_paths={URL}, body_timeout_s=0.2
    )
    scope = {
        "type": "http",
        "method": "POST",
        "path": URL,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
    }
    sent: list[dict[str, Any]] = []
    parts = [{"type": "http.request", "body": b"{}", "more_body": True}]

    async def receive():
        if parts:
            return parts.pop()
        await asyncio.sleep(3_600)  # the client sends nothing more

    async def send(message):
        sent.append(message)

    asyncio.run(asyncio.wait_for(guard(scope, receive, send), timeout=5))
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]
    assert json.loads(sent[1]["body"])["error"]["code"] == "request_timeout"


@pytest.fixture
def tiny_server() -> Iterator[int]:
    """uvicorn with the serving protocol (0.3 s head deadline) and a guarded echo app."""

    async def echo(scope, receive, send):
        if scope["type"] != "http":
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})

    app = RequestGuard(
        echo, metrics=ServingMetrics(), max_body_bytes=1_000, known_paths={"/"}, body_timeout_s=0.3
    )
    options = server.uvicorn_options(
        ServeSettings(
            header_timeout_s=0.3, keep_alive_timeout_s=5, access_log=False, log_level="critical"
        )
    )
    for name in ("host", "port", "workers", "log_config"):  # the socket is ours; logging too
        options.pop(name)
    options["lifespan"] = "off"
    uv = uvicorn.Server(uvicorn.Config(app, **options))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield sock.getsockname()[1]
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


def closed_within(conn: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed ``conn`` within ``seconds``, and what it sent before."""
    conn.settimeout(seconds)
    received = b""
    try:
        while chunk := conn.recv(4096):
            received += chunk
        return True, received
    except TimeoutError:
        return False, received
    except ConnectionResetError:
        return True, received


@pytest.mark.parametrize(
    ("payload", "answer"),
    [
        (b"", b""),  # connects and says nothing
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le", b""),  # a head that never finishes
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{}",
            b" 408 ",
        ),
    ],
)
def test_idle_or_partial_connections_are_closed(tiny_server, payload, answer):
    with socket.create_connection(("127.0.0.1", tiny_server)) as conn:
        conn.sendall(payload)
        closed, received = closed_within(conn, 3.0)
    assert closed, f"connection still open after 3 s; got {received[:200]!r}"
    assert answer in received
