"""Idle or partial connections are closed (issue 12, item 7); a body nobody reads does not
break the connection it came on (issue 31, item 5).

A body that stops arriving gets a 408 from the ``RequestGuard`` middleware; a connection that
sends nothing, or a request head that never finishes, is closed by the serving protocol.
uvicorn runs in a thread on a loopback port with the serving options and a tiny guarded app,
so these tests cost about a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import select
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


@contextlib.contextmanager
def guarded_server(body_timeout_s: float) -> Iterator[int]:
    """uvicorn with the serving protocol (0.3 s head deadline) and a guarded echo app, in a
    thread on a loopback port; yields the port."""

    async def echo(scope, receive, send):
        if scope["type"] != "http":
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})

    app = RequestGuard(
        echo,
        metrics=ServingMetrics(),
        max_body_bytes=1_000,
        known_paths={"/"},
        body_timeout_s=body_timeout_s,
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
    try:
        yield sock.getsockname()[1]
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def tiny_server() -> Iterator[int]:
    """The guarded echo server with a 0.3 s body deadline."""
    with guarded_server(body_timeout_s=0.3) as port:
        yield port


@pytest.fixture
def patient_server() -> Iterator[int]:
    """The guarded echo server with a 10 s body deadline (a body sent late is still read)."""
    with guarded_server(body_timeout_s=10) as port:
        yield port


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


def read_response(conn: socket.socket) -> bytes:
    """One response with a ``Content-Length`` body, read from ``conn`` (b"" if it closed)."""
    conn.settimeout(5)
    received = b""
    while b"\r\n\r\n" not in received:
        try:
            chunk = conn.recv(4096)
        except ConnectionResetError:
            return b""
        if not chunk:
            return b""
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def answered_before(conn: socket.socket, seconds: float) -> bool:
    """Whether the server sent anything on ``conn`` within ``seconds`` (nothing is consumed)."""
    ready, _, _ = select.select([conn], [], [], seconds)
    return bool(ready)


@pytest.mark.parametrize("method", [b"GET", b"DELETE"])
def test_a_body_nobody_reads_does_not_break_the_next_request_on_the_connection(
    patient_server, method
):
    # Issue 31, item 5: the server answered a GET or DELETE before its body had arrived,
    # promising keep-alive, then closed the connection (the unread body could not be told
    # from the next request), so the client's next request on it failed. The head and the
    # body are sent apart here, as a network may deliver them, to make that order certain.
    body = b'{"ignored": true}'
    head = (
        method + b" / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", patient_server)) as conn:
        conn.sendall(head)
        early = answered_before(conn, 0.3)  # a server that answers now never reads the body
        conn.sendall(body)
        first = read_response(conn)
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        second = read_response(conn)
    assert first.startswith(b"HTTP/1.1 200 "), first
    assert not early or b"connection: close" in first.lower(), first
    assert second.startswith(b"HTTP/1.1 200 "), f"the next request failed: {second!r}"


def test_a_response_before_the_body_ends_says_the_connection_closes(tiny_server):
    # A POST refused by its declared size (413) is answered before its body is read: the
    # response must say so rather than promise a connection the server then closes.
    head = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 5000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", tiny_server)) as conn:
        conn.sendall(head)
        answer = read_response(conn)
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert b"connection: close" in answer.lower()
