"""``engage serve``: run the API under uvicorn, one worker per process.

One worker because the model lives in process memory and several uvicorn workers add tens of
milliseconds to keep-alive requests here; scale out with more processes behind a balancer.
asyncio sets ``TCP_NODELAY`` on accepted sockets, so small responses are not held back by
Nagle's algorithm. httptools and uvloop are used when installed, h11 and asyncio otherwise.
"""

from __future__ import annotations

import copy
import importlib.util
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from engage.serving.app import create_app
from engage.serving.settings import ServeSettings, get_settings


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
    """uvicorn's logging set-up, with the app's ``serving`` logger on the same handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["serving"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def run(host: str | None = None, port: int | None = None, model_uri: str | None = None) -> None:
    """Serve until interrupted (arguments left as None come from :class:`ServeSettings`)."""
    settings = resolve_settings(host, port, model_uri)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        workers=1,
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        lifespan="on",
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
        access_log=settings.access_log,
        server_header=False,
        timeout_keep_alive=30,
    )
