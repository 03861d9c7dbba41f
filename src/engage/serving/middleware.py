"""The ASGI guard in front of every route: body-size limit, request counts and latency.

Every response carries ``Server-Timing: app;dur=<ms>`` (time in the app, without the network),
so a client can tell server time from transport and queueing time.

Written as plain ASGI (not ``BaseHTTPMiddleware``) because it runs on every request and the
single-profile path has a latency budget. Before anything parses a body, the guard refuses:

* a body over ``max_body_bytes`` (413), from the ``Content-Length`` header when present and
  from the bytes actually received otherwise (chunked uploads);
* a body that does not arrive within ``body_timeout_s`` (408, and the connection is closed):
  a client that announces ``Content-Length: 100`` and sends 2 bytes must not hold a
  connection, and a task, for as long as it likes;
* a non-empty body whose ``Content-Type`` is not JSON (415): FastAPI would otherwise answer a
  confusing 422 about the body's type.

A body sent with a method whose routes never read one (``GET``, ``DELETE`` with a body) is
read and discarded, within the same size and time bounds, before the app answers: a response
sent while such a body is still arriving would promise keep-alive, and the server would then
have to close the connection (it cannot tell where the unread body ends and the next request
begins), failing the client's next request on it. Any response that starts before the
request's body was read to its end says ``Connection: close``, so no client is told it may
reuse a connection that is about to close.

Headers that never finish are the server's business (:mod:`engage.serving.server`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engage.serving.errors import error_body
from engage.serving.metrics import ServingMetrics

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_UTF8 = frozenset({"utf-8", "utf8"})


def declares_body(scope: Scope) -> bool:
    """Whether a request's head announces a body (a non-zero ``Content-Length``, or chunks)."""
    for key, value in scope.get("headers", ()):
        if key == b"content-length" and value.strip() not in (b"0", b""):
            return True
        if key == b"transfer-encoding":
            return True
    return False


class RequestGuard:
    """Refuse oversized (413), late (408) and non-JSON (415) bodies; discard bodies of methods
    that take none; record every request.

    Args:
        app: the application to guard.
        metrics: where each request is counted and timed.
        max_body_bytes: the largest body accepted.
        known_paths: route paths (others are recorded as ``<unmatched>``).
        body_timeout_s: seconds the whole body may take to arrive.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: ServingMetrics,
        max_body_bytes: int,
        known_paths: Collection[str],
        body_timeout_s: float = 20.0,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.known_paths = frozenset(known_paths)
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        status = 500  # what the client gets if the app raises past every handler
        body_read = not declares_body(scope)  # set once the body's last part has arrived

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                took = f"app;dur={(perf_counter() - start) * 1000:.2f}".encode()
                headers = [*message.get("headers", ()), (b"server-timing", took)]
                if not body_read and (b"connection", b"close") not in headers:
                    # the rest of the body will never be read: the connection cannot be reused
                    headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            if not body_read:
                json_body = scope["method"] in _BODY_METHODS
                refusal, receive = await self._read_body(scope, receive, check_type=json_body)
                if refusal is not None:
                    await self._respond(send_and_note, *refusal)
                    return
                body_read = True
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or (
                scope["path"] if scope["path"] in self.known_paths else "<unmatched>"
            )
            self.metrics.observe(path, scope["method"], status, perf_counter() - start)

    async def _read_body(
        self, scope: Scope, receive: Receive, check_type: bool = True
    ) -> tuple[tuple[int, str, str] | None, Receive]:
        """The whole body (bounded in size and time), replayed to the app; or why it is refused.

        ``check_type``: refuse a body that is not JSON (415); off for methods whose body is
        only discarded."""
        limit = self.max_body_bytes
        content_type = b""
        for key, value in scope.get("headers", ()):
            if key == b"content-type":
                content_type = value
            elif key == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return (400, "bad_request", "Content-Length is not an integer"), receive
                if declared > limit:
                    return (413, "payload_too_large", _too_large(declared, limit)), receive
        chunks: list[bytes] = []
        size = 0
        more = True
        try:
            async with asyncio.timeout(self.body_timeout_s):  # one deadline for the whole body
                while more:
                    message = await receive()
                    if message["type"] != "http.request":  # client went away
                        return None, _replay(b"", receive, message)
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        too_large = _too_large(size, limit, at_least=True)
                        return (413, "payload_too_large", too_large), receive
                    chunks.append(chunk)
                    more = message.get("more_body", False)
        except TimeoutError:
            return (408, "request_timeout", _too_slow(size, self.body_timeout_s)), receive
        if check_type and size and not is_json(content_type):
            return (415, "unsupported_media_type", _not_json(content_type)), receive
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


def is_json(content_type: bytes) -> bool:
    """Whether a ``Content-Type`` names JSON (``application/json`` or ``application/*+json``)
    in UTF-8, the only encoding JSON may travel in (RFC 8259)."""
    media, _, params = content_type.decode("latin-1").partition(";")
    kind, _, subtype = media.strip().lower().partition("/")
    if kind != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in _UTF8:
            return False
    return True


def _not_json(content_type: bytes) -> str:
    given = content_type.decode("latin-1")[:100] or "none"
    return f"send the body as JSON with `Content-Type: application/json` (got {given!r})"


def _too_slow(size: int, timeout_s: float) -> str:
    return (
        f"the request body did not arrive within {timeout_s:g} s ({size:,} bytes received; "
        "ENGAGE_SERVE_BODY_TIMEOUT_S); the connection is closed"
    )


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
