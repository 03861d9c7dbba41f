"""``engage serve``: run the API under uvicorn, one worker per process, with connection limits.

One worker because the model lives in process memory and several uvicorn workers add tens of
milliseconds to keep-alive requests here; scale out with more processes behind a balancer.
asyncio sets ``TCP_NODELAY`` on accepted sockets, so small responses are not held back by
Nagle's algorithm. uvloop is used when installed.

Connections are bounded in time as well as size: idle keep-alive connections close after
``keep_alive_timeout_s``; a request line and headers must arrive within ``header_timeout_s``
of a connection opening (or of a request's first byte on a kept-alive one), and may take at
most ``max_header_bytes``; a body must arrive within ``body_timeout_s`` (enforced by
:class:`~engage.serving.middleware.RequestGuard`, which answers 408). uvicorn has no timeout
for an unfinished request head, so the HTTP protocol here is uvicorn's h11 protocol with that
deadline added; h11 (pure Python) rather than httptools, so the guard is the same everywhere
(the Docker image installs neither httptools nor uvloop).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import importlib.util
import logging
import logging.config
from typing import Any

import h11
import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.h11_impl import H11Protocol

from engage.serving.access import open_access_warning
from engage.serving.app import create_app
from engage.serving.settings import ServeSettings, get_settings

logger = logging.getLogger("serving")


class HeadDeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing connections whose request head does not arrive in time.

    uvicorn arms its keep-alive timer only after a response and cancels it on any byte, so a
    client that connects and sends nothing, or sends a request head one byte at a time, holds
    the connection forever. Here a deadline runs from the connection's start, and from the
    first byte of each later request, until the head is complete. A response to a request
    whose body is still arriving and was never read closes the connection, since waiting
    for that body would hold the connection at the client's pace; such a response already
    says ``Connection: close`` (:class:`~engage.serving.middleware.RequestGuard` reads every
    body, of any method, before the app answers, and marks any earlier answer so), so no
    client is promised a connection that then closes.
    """

    header_timeout_s = 10.0  # set per server by :func:`protocol_class`

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._arm_head_deadline()  # part of a head: the clock runs (or keeps running)
        else:
            self._cancel_head_deadline()  # the head is complete

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            self._close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        super().connection_lost(exc)

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is None and not self.transport.is_closing():
            self._head_deadline = self.loop.call_later(self.header_timeout_s, self._head_too_late)

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_late(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._close()  # no complete request, so nothing to answer

    def _close(self) -> None:
        with contextlib.suppress(h11.LocalProtocolError):
            self.conn.send(h11.ConnectionClosed())
        self.transport.close()


def protocol_class(header_timeout_s: float) -> type[H11Protocol]:
    """The guarded h11 protocol with its head deadline set (uvicorn instantiates the class)."""

    class Configured(HeadDeadlineH11Protocol):
        pass

    Configured.header_timeout_s = header_timeout_s
    return Configured


def resolve_settings(
    host: str | None = None, port: int | None = None, model_uri: str | None = None
) -> ServeSettings:
    """The process's settings with command-line values (those not None) on top."""
    base = get_settings()
    overrides = {
        k: v
        for k, v in {"host": host, "port": port, "model_uri": model_uri}.items()
        if v is not None
    }
    if not overrides:
        return base
    return ServeSettings.model_validate({**base.model_dump(), **overrides})


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging set-up, with the app's ``serving`` and ``engage.decisions`` loggers
    on the same handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["serving"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    # the decision writer's outage, backlog and recovery lines, formatted alike and at INFO
    config["loggers"]["engage.decisions"] = {**config["loggers"]["serving"]}
    return config


def uvicorn_options(settings: ServeSettings) -> dict[str, Any]:
    """Everything ``uvicorn.run`` is given besides the app."""
    return {
        "host": settings.host,
        "port": settings.port,
        "workers": 1,
        "http": protocol_class(settings.header_timeout_s),
        "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        "lifespan": "on",
        "log_level": settings.log_level,
        "log_config": log_config(settings.log_level),
        "access_log": settings.access_log,
        "server_header": False,
        "timeout_keep_alive": settings.keep_alive_timeout_s,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }


def run(host: str | None = None, port: int | None = None, model_uri: str | None = None) -> None:
    """Serve until interrupted (arguments left as None come from :class:`ServeSettings`)."""
    settings = resolve_settings(host, port, model_uri)
    options = uvicorn_options(settings)
    logging.config.dictConfig(options["log_config"])  # so the warning below is formatted alike
    keyed = bool(settings.api_key_list()) or settings.api_keys_file is not None
    if (warning := open_access_warning(settings.host, keyed)) is not None:
        logger.warning(warning)
    uvicorn.run(create_app(settings), **options)
