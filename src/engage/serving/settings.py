"""Settings of the serving process: one typed class, read once from the environment.

Every field can be set as ``ENGAGE_SERVE_<FIELD>``; ``.env.example`` documents each one, and
an unknown ``ENGAGE_SERVE_*`` variable is an error (a typo must not be silently ignored). Tests build :class:`ServeSettings` directly
and pass it to :func:`engage.serving.app.create_app`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from limits import parse
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from engage.contract.settings_env import reject_unknown_variables
from engage.registry import default_tracking_uri
from engage.serving.access import MIN_SECRET_CHARS, short_keys, split_keys

#: the champion of the default spec's model (``engage-<spec name>``, see ``contract.spec.tracking_name``)
DEFAULT_MODEL_URI = "models:/engage-simulated_world@champion"
MAX_TOP_K = 10


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
    # hide_input_in_errors: a refused secret (a short admin token) must not be echoed in the error.
    model_config = SettingsConfigDict(
        env_prefix="ENGAGE_SERVE_", extra="forbid", frozen=True, hide_input_in_errors=True
    )

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
    load_retry_s: float = Field(
        default=2.0,
        gt=0,
        le=3_600,
        description="seconds before retrying a failed first load; doubled after each failure",
    )
    load_retry_max_s: float = Field(
        default=15.0,
        gt=0,
        le=3_600,
        description="longest wait between first-load attempts (a store that comes back is used within it)",
    )
    startup_wait_s: float = Field(
        default=0.0,
        ge=0,
        le=600,
        description="seconds startup waits for the first load attempt before listening (0: listen at once)",
    )
    reload_allowed_dirs: Annotated[tuple[Path, ...], NoDecode] = Field(
        default=(),
        description=(
            "directories under which POST /v1/admin/reload may load an exported model "
            "(separated by ':' or ','; empty: none)"
        ),
    )
    admin_token: SecretStr | None = Field(
        default=None, description="bearer token of POST /v1/admin/reload (unset: endpoint disabled)"
    )
    api_keys: SecretStr | None = Field(
        default=None,
        description=(
            "comma list of API keys accepted on /v1/recommendations* (each >= 16 characters); "
            "unset, and no keys file: those routes are open"
        ),
    )
    api_keys_file: Path | None = Field(
        default=None,
        description="file of API keys, one per line (# comments), re-read when it changes",
    )
    rate_limit: str | None = Field(
        default="1200/minute",
        description=(
            "requests per API key in a moving window, e.g. 600/minute or 20/second "
            "(empty: no limit; applies only when API keys are configured)"
        ),
    )
    auth_failure_limit: str | None = Field(
        default="30/minute",
        description=(
            "failed API-key checks (no key or an unknown one) per client address in a moving "
            "window; over it, every keyed request from that address gets 429 with Retry-After "
            "until the window allows (empty: no limit; applies only when API keys are configured)"
        ),
    )
    public_docs: bool | None = Field(
        default=None,
        description=(
            "whether /openapi.json, /docs and /redoc answer without an API key (unset: only "
            "when no API keys are configured)"
        ),
    )
    public_metrics: bool | None = Field(
        default=None,
        description=(
            "whether /metrics (which names the served model's run id and version) answers "
            "without an API key (unset: only when no API keys are configured)"
        ),
    )
    keep_alive_timeout_s: int = Field(
        default=30,
        ge=1,
        le=3_600,
        description="idle keep-alive connections are closed after this many seconds",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="a request's line and headers must arrive within this many seconds",
    )
    body_timeout_s: float = Field(
        default=20.0,
        gt=0,
        le=600,
        description="a request's body must arrive within this many seconds (else 408)",
    )
    max_header_bytes: int = Field(
        default=16_384,
        ge=1_024,
        le=1_048_576,
        description="largest request line plus headers accepted (h11's incomplete-event limit)",
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
    exploration: Literal["greedy", "epsilon", "softmax"] = Field(
        default="greedy",
        description=(
            "how the served first recommendation is drawn among the allowed styles when a "
            "request names no exploration: greedy (the best, probability 1), epsilon, softmax"
        ),
    )
    exploration_epsilon: float = Field(
        default=0.1, ge=0, le=1, description="epsilon exploration: share of uniform draws"
    )
    exploration_temperature: float = Field(
        default=1.0, gt=0, le=1e6, description="softmax exploration: temperature in score units"
    )
    exploration_full: bool = Field(
        default=False,
        description=(
            "full-action exploration: also draw the posting mix and numeric decisions (cadence) "
            "around the policy's, recording the draw's density (when a request names none)"
        ),
    )
    exploration_budget: float | None = Field(
        default=None,
        ge=0,
        le=1e12,
        description=(
            "the most expected objective (model-estimated, objective units) one decision may give "
            "up by exploring, when a request names none; unset: no cap"
        ),
    )
    exploration_service_budget: float | None = Field(
        default=None,
        ge=0,
        le=1e12,
        description=(
            "the most expected objective given up by exploring per decision on average over the "
            "service's life (gauge engage_exploration_cost_mean); unset: no cap"
        ),
    )
    log_level: Literal["critical", "error", "warning", "info", "debug"] = Field(
        default="info", description="uvicorn and application log level"
    )
    access_log: bool = Field(default=True, description="log one line per request")

    @field_validator("admin_token", "api_keys", mode="after")
    @classmethod
    def _long_secrets(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        # Empty means unset (documented); a short secret is refused, never silently accepted.
        if value is None or not value.get_secret_value().strip():
            return None
        text = value.get_secret_value()
        variable = f"ENGAGE_SERVE_{str(info.field_name).upper()}"
        keys = split_keys(text) if info.field_name == "api_keys" else [text]
        if short := short_keys(keys):
            what = f"{short} of its {len(keys)} keys are" if len(keys) > 1 else "it is"
            raise ValueError(
                f"{variable}: {what} shorter than {MIN_SECRET_CHARS} characters; generate one "
                "with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @field_validator("reload_allowed_dirs", mode="before")
    @classmethod
    def _split_dirs(cls, value: object) -> object:
        # An environment variable is one string: split it like PATH (or on commas).
        if isinstance(value, str):
            parts = value.replace(",", os.pathsep).split(os.pathsep)
            return tuple(part.strip() for part in parts if part.strip())
        return value

    @field_validator("api_keys_file", "public_docs", "public_metrics", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_keys_file", mode="after")
    @classmethod
    def _keys_file_readable(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("rate_limit", "auth_failure_limit", mode="after")
    @classmethod
    def _rate_parses(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(
                f"not a rate limit ({exc}); write it like 600/minute, 20/second or 10000/hour"
            ) from None
        return value.strip()

    def api_key_list(self) -> list[str]:
        """The keys of ``api_keys`` (empty when unset)."""
        return split_keys(self.api_keys.get_secret_value()) if self.api_keys else []

    @model_validator(mode="after")
    def _no_unknown_variables(self) -> ServeSettings:
        # pydantic-settings ignores unknown prefixed variables; a typo must not pass silently.
        reject_unknown_variables("ENGAGE_SERVE_", type(self).model_fields)
        return self


@lru_cache(maxsize=1)
def get_settings() -> ServeSettings:
    """The process's settings, read from the environment once."""
    return ServeSettings()
