"""The ASGI guard in front of every route: body-size limit, request counts and latency.

Every response carries ``Server-Timing: app;dur=<ms>`` (time in the app, without the network),
so a client can tell server time from transport and queueing time.

Written as plain ASGI (not ``BaseHTTPMiddleware``) because it runs on every request and the
single-profile path has a latency budget. Oversized bodies are refused from the
``Content-Length`` header when present, and from the bytes actually received otherwise
(chunked uploads), before anything parses them.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engage.serving.errors import error_body
from engage.serving.metrics import ServingMetrics

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestGuard:
    """Refuse bodies over ``max_body_bytes`` (413) and record every request in ``metrics``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ServingMetrics,
        max_body_bytes: int,
        known_paths: Collection[str],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.known_paths = frozenset(known_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        status = 500  # what the client gets if the app raises past every handler

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                took = f"app;dur={(perf_counter() - start) * 1000:.2f}".encode()
                message = {
                    **message,
                    "headers": [*message.get("headers", ()), (b"server-timing", took)],
                }
            await send(message)

        try:
            if scope["method"] in _BODY_METHODS:
                refusal, receive = await self._read_body(scope, receive)
                if refusal is not None:
                    await self._respond(send_and_note, *refusal)
                    return
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or (
                scope["path"] if scope["path"] in self.known_paths else "<unmatched>"
            )
            self.metrics.observe(path, scope["method"], status, perf_counter() - start)

    async def _read_body(
        self, scope: Scope, receive: Receive
    ) -> tuple[tuple[int, str, str] | None, Receive]:
        """The whole body (bounded), replayed to the app; or why it is refused."""
        limit = self.max_body_bytes
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return (400, "bad_request", "Content-Length is not an integer"), receive
                if declared > limit:
                    return (413, "payload_too_large", _too_large(declared, limit)), receive
                break
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                return None, _replay(b"", receive, message)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return (413, "payload_too_large", _too_large(size, limit, at_least=True)), receive
            chunks.append(chunk)
            more = message.get("more_body", False)
        return None, _replay(b"".join(chunks), receive)

    @staticmethod
    async def _respond(send: Send, status: int, code: str, message: str) -> None:
        body = json.dumps(error_body(code, message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _too_large(size: int, limit: int, at_least: bool = False) -> str:
    qualifier = "at least " if at_least else ""
    return (
        f"request body of {qualifier}{size:,} bytes is over the limit of {limit:,} bytes "
        "(ENGAGE_SERVE_MAX_BODY_BYTES)"
    )


def _replay(body: bytes, receive: Receive, first: Any = None) -> Receive:
    """A ``receive`` that hands the buffered body over once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            if first is not None:
                return first
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
