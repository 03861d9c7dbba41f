"""Settings of the serving process: one typed class, read once from the environment.

Every field can be set as ``ENGAGE_SERVE_<FIELD>``; ``.env.example`` documents each one, and
an unknown ``ENGAGE_SERVE_*`` variable is an error (a typo must not be silently ignored). Tests build :class:`ServeSettings` directly
and pass it to :func:`engage.serving.app.create_app`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engage.contract.settings_env import reject_unknown_variables

DEFAULT_MODEL_URI = "models:/engage-policy@champion"
MAX_TOP_K = 10


def default_tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the embedded SQLite store under ``./mlruns``."""
    return (
        os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlruns' / 'mlflow.db'}"
    )


def default_workers() -> int:
    """Policy threads: one per usable CPU, plus one. LightGBM releases the GIL while it scores,
    so the extra thread's Python work (shaping answers, explaining) overlaps the others' model
    calls; measured on 2 CPUs, 3 threads answered 8-16% more requests per second than 2."""
    try:
        cpus = len(os.sched_getaffinity(0))  # the CPUs this process may run on (containers)
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus + 1, 64)


class ServeSettings(BaseSettings):
    """Settings of ``engage serve``; each field is ``ENGAGE_SERVE_<FIELD>`` in the environment."""

    # No env_file: a .env may hold other tools' variables (MLFLOW_TRACKING_URI), which
    # extra="forbid" would refuse; load it with `docker run --env-file` or `set -a; . ./.env`.
    model_config = SettingsConfigDict(env_prefix="ENGAGE_SERVE_", extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", description="interface to bind")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port")
    model_uri: str = Field(
        default=DEFAULT_MODEL_URI,
        min_length=1,
        description="models:/NAME@ALIAS, models:/NAME/VERSION, runs:/..., or an exported model directory",
    )
    tracking_uri: str = Field(
        default_factory=default_tracking_uri,
        min_length=1,
        description="MLflow tracking/registry store (default: MLFLOW_TRACKING_URI, else ./mlruns/mlflow.db)",
    )
    reload_interval_s: float = Field(
        default=30.0, ge=0, le=86_400, description="seconds between alias polls (0 disables)"
    )
    admin_token: SecretStr | None = Field(
        default=None, description="bearer token of POST /v1/admin/reload (unset: endpoint disabled)"
    )
    max_batch: int = Field(
        default=100, ge=1, le=10_000, description="most profiles per batch request"
    )
    microbatch_max: int = Field(
        default=16,
        ge=1,
        le=1_000,
        description="most concurrent single-profile requests answered by one policy call (1 disables micro-batching)",
    )
    microbatch_workers: int = Field(
        default_factory=default_workers,
        ge=1,
        le=64,
        description=(
            "policy calls in flight at once (threads); default: the CPUs this process may use, plus one"
        ),
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1_024, le=64 * 1_048_576, description="largest request body accepted"
    )
    default_top_k: int = Field(
        default=3, ge=1, le=MAX_TOP_K, description="alternatives returned by default"
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        default="info", description="uvicorn and application log level"
    )
    access_log: bool = Field(default=True, description="log one line per request")

    @model_validator(mode="after")
    def _no_unknown_variables(self) -> ServeSettings:
        # pydantic-settings ignores unknown prefixed variables; a typo must not pass silently.
        reject_unknown_variables("ENGAGE_SERVE_", type(self).model_fields)
        return self


@lru_cache(maxsize=1)
def get_settings() -> ServeSettings:
    """The process's settings, read from the environment once."""
    return ServeSettings()
