"""How the serving process talks to the MLflow store: bounded retries, and failures named.

MLflow retries every HTTP call up to 7 times with exponential backoff and a 120 s timeout,
about four minutes before a call to an unreachable tracking server fails. The server retries
a failed load itself (``ENGAGE_SERVE_LOAD_RETRY_S``), so its own calls use a short MLflow
policy, set while the app runs unless the user set these variables: MLflow reads them on
every request (``mlflow/environment_variables.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar
from urllib.parse import urlparse

import requests

from engage.contract.redaction import redact

T = TypeVar("T")

# Connection refused fails in milliseconds; a silent host costs at most 2 x 10 s.
MLFLOW_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
}


@contextmanager
def bounded_mlflow_http() -> Iterator[dict[str, str]]:
    """Set :data:`MLFLOW_HTTP_DEFAULTS` the user did not set; restore them on exit.

    Yields:
        The variables this call set (those the user had set are left alone).
    """
    added = {k: v for k, v in MLFLOW_HTTP_DEFAULTS.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield added
    finally:
        for key, value in added.items():
            if os.environ.get(key) == value:
                del os.environ[key]


def network_failure(exc: BaseException) -> str | None:
    """``"Timeout"`` or ``"ConnectionError"`` when ``exc`` (or what caused it) is one, else None.

    MLflow wraps the ``requests`` error in an ``MlflowException``, sometimes only as the
    implicit context, so the whole chain is searched.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, requests.exceptions.Timeout):
            return "Timeout"
        if isinstance(current, requests.exceptions.ConnectionError):
            return "ConnectionError"
        current = current.__cause__ or current.__context__
    return None


def server_address(tracking_uri: str) -> str:
    """``scheme://user:***@host:port`` of an HTTP tracking URI (the path dropped), redacted."""
    parsed = urlparse(tracking_uri)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return redact(f"{parsed.scheme}://{parsed.netloc}")
    return redact(tracking_uri)


async def in_daemon_thread(fn: Callable[..., T], *args: object) -> T:
    """Run ``fn(*args)`` in a daemon thread and await its result.

    Not the loop's default executor: Python joins those threads at exit, so a load stuck on
    an unreachable store would hold up shutdown; a daemon thread is simply abandoned.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return  # the awaiting task was cancelled
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            outcome: tuple[T | None, BaseException | None] = (fn(*args), None)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            outcome = (None, exc)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name="engage-model-load", daemon=True).start()
    return await future
