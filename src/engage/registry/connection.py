"""How a process talks to an MLflow tracking server: bounded retries, and failures named.

MLflow retries every HTTP call up to 7 times with exponential backoff and a 120 s timeout,
about four minutes before a call to an unreachable tracking server fails. A process that retries
itself (``engage serve`` retries a failed load, ``ENGAGE_SERVE_LOAD_RETRY_S``) or must answer
promptly (``engage recommend``) uses a short MLflow policy instead, set while it runs unless the
user set these variables: MLflow reads them on every request (``mlflow/environment_variables.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

import requests

from engage.contract.redaction import redact

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
