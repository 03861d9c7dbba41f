"""What routes depend on: the app's store, settings, metrics and batcher, the served model, auth.

Each is a FastAPI dependency with an ``Annotated`` alias, so a route names what it needs
(``model: Model``) and tests can build the app with their own settings. :func:`require_api_key`
guards the recommendation routes with API keys and per-key rate limits
(:mod:`engage.serving.access`); :func:`require_admin` guards the admin reload.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from engage.serving.access import Access, ApiKeyring, RateLimiter
from engage.serving.batching import MicroBatcher
from engage.serving.errors import ApiError, ModelNotReady
from engage.serving.metrics import ServingMetrics
from engage.serving.model import LoadedModel, ModelStore
from engage.serving.schemas import ErrorResponse
from engage.serving.settings import ServeSettings

_ERROR_TEXTS = {
    400: "Malformed request framing (a Content-Length that is not a number)",
    401: "Missing or unknown API key (only when API keys are configured)",
    408: "The body did not arrive in time (ENGAGE_SERVE_BODY_TIMEOUT_S); the connection is closed",
    413: "Body or batch over the configured limit",
    415: "A body whose Content-Type is not application/json",
    422: (
        "Invalid input: not JSON (malformed, not UTF-8, a number too long), or a value the "
        "schema refuses; `details` names each bad field (at most 50, then a count)"
    ),
    429: "The API key's rate limit (ENGAGE_SERVE_RATE_LIMIT) is used up; retry after `Retry-After`",
    500: "Unexpected failure; logged, answered without internals",
    503: "No model loaded yet",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds until the key may call again",
        "schema": {"type": "integer", "minimum": 1},
    }
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries, in the one error shape, for ``statuses``."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        out[status] = {"model": ErrorResponse, "description": _ERROR_TEXTS[status]}
        if status == 429:
            out[status]["headers"] = _RETRY_AFTER
    return out


ERRORS = error_responses(413, 422, 503)
# Every status a keyed JSON route can answer besides 200 (the middleware's 400, 408, 413 and 415).
SCORING_ERRORS = error_responses(400, 401, 408, 413, 415, 422, 429, 500, 503)


async def model_store(request: Request) -> ModelStore:
    """The app's model store."""
    store: ModelStore = request.app.state.models
    return store


async def serve_settings(request: Request) -> ServeSettings:
    """The app's settings."""
    settings: ServeSettings = request.app.state.settings
    return settings


async def serving_metrics(request: Request) -> ServingMetrics:
    """The app's metrics."""
    metrics: ServingMetrics = request.app.state.metrics
    return metrics


async def current_model(store: Annotated[ModelStore, Depends(model_store)]) -> LoadedModel:
    """The model being served, or a 503 that says how to get one."""
    model = store.current
    if model is None:
        error = (store.last_reload or {}).get("error")
        raise ModelNotReady(error)
    return model


async def micro_batcher(request: Request) -> MicroBatcher:
    """The app's micro-batcher of single-profile requests."""
    batcher: MicroBatcher = request.app.state.batcher
    return batcher


Model = Annotated[LoadedModel, Depends(current_model)]
Batcher = Annotated[MicroBatcher, Depends(micro_batcher)]
Settings = Annotated[ServeSettings, Depends(serve_settings)]
Store = Annotated[ModelStore, Depends(model_store)]
Metrics = Annotated[ServingMetrics, Depends(serving_metrics)]

_bearer = HTTPBearer(auto_error=False, description="ENGAGE_SERVE_ADMIN_TOKEN")


async def require_admin(
    settings: Settings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let the call through only with the configured bearer token."""
    token = settings.admin_token.get_secret_value() if settings.admin_token else ""
    if not token:
        raise ApiError(
            403, "forbidden", "the admin endpoint is disabled: set ENGAGE_SERVE_ADMIN_TOKEN"
        )
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "send `Authorization: Bearer <ENGAGE_SERVE_ADMIN_TOKEN>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
        raise ApiError(403, "forbidden", "wrong admin token")


_key_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKeyBearer",
    description="an API key as `Authorization: Bearer <key>` (when keys are configured)",
)
_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="ApiKeyHeader",
    description="an API key as `X-API-Key: <key>` (when keys are configured)",
)


def app_access(app: FastAPI) -> Access:
    """The app's keyring and rate limiter, built from its settings on first use."""
    access: Access | None = getattr(app.state, "access", None)
    if access is None:
        settings: ServeSettings = app.state.settings
        access = Access(
            ApiKeyring(settings.api_key_list(), settings.api_keys_file),
            RateLimiter(settings.rate_limit),
        )
        app.state.access = access
    return access


async def require_api_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_key_bearer)],
    header: Annotated[str | None, Depends(_key_header)],
) -> str | None:
    """The caller's key id (None when no keys are configured); 401 or 429 otherwise."""
    access = app_access(request.app)
    if not access.keyring.enabled:
        return None
    presented = header or (bearer.credentials if bearer is not None else None)
    challenge = {"WWW-Authenticate": "Bearer"}
    if not presented:
        raise ApiError(
            401,
            "unauthorized",
            "send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`",
            headers=challenge,
        )
    key_id = access.keyring.identify(presented)
    if key_id is None:
        raise ApiError(401, "unauthorized", "unknown API key", headers=challenge)
    wait = access.limiter.hit(key_id)
    if wait is not None:
        raise ApiError(
            429,
            "too_many_requests",
            f"rate limit of this API key ({access.limiter.item}) reached; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    return key_id


ApiKey = Annotated[str | None, Depends(require_api_key)]
