"""What routes depend on: the app's store, settings, metrics and batcher, the served model, auth.

Each is a FastAPI dependency with an ``Annotated`` alias, so a route names what it needs
(``model: Model``) and tests can build the app with their own settings. :func:`require_api_key`
guards the recommendation routes with API keys and per-key rate limits
(:mod:`engage.serving.access`); :func:`require_admin` guards the admin reload.

Keyed routers use :class:`KeyedRoute`, which checks the key before FastAPI reads or parses the
body (FastAPI parses a declared body before it runs any dependency, so a caller without a key
would otherwise learn, from a 422, how its body was judged). :func:`require_docs_access` and
:func:`require_metrics_access` ask for a key on the documents and ``/metrics`` unless the
settings make them public.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
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
        "schema refuses; `details` names each bad field (at most 50, then a count). On the "
        "recommendation routes also constraints that fit the schema but leave no candidate "
        "action (code `unsatisfiable_constraints`, field `constraints`)"
    ),
    429: (
        "The API key's rate limit (ENGAGE_SERVE_RATE_LIMIT), or the client address's failed "
        "key checks (ENGAGE_SERVE_AUTH_FAILURE_LIMIT), are used up; retry after `Retry-After`"
    ),
    500: "Unexpected failure; logged, answered without internals",
    503: "No model loaded yet",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds until the key (or the address) may call again",
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
    """The app's keyring and rate limiters, built from its settings on first use."""
    access: Access | None = getattr(app.state, "access", None)
    if access is None:
        settings: ServeSettings = app.state.settings
        access = Access(
            ApiKeyring(settings.api_key_list(), settings.api_keys_file),
            RateLimiter(settings.rate_limit),
            RateLimiter(settings.auth_failure_limit),
        )
        app.state.access = access
    return access


_KEY_ID = "engage.api_key_id"  # where a request's checked key id is kept (its ASGI scope)


def presented_key(request: Request) -> str | None:
    """The API key a request carries: ``X-API-Key``, else ``Authorization: Bearer <key>``."""
    if header := request.headers.get("x-api-key"):
        return header
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def authenticate(request: Request) -> str | None:
    """The caller's key id (None when no keys are configured); 401 or 429 otherwise.

    Checked once per request (the result is kept in its scope), so the route class and the
    dependency can both ask without counting the request twice against its limits.
    """
    if _KEY_ID in request.scope:
        key_id: str | None = request.scope[_KEY_ID]
        return key_id
    access = app_access(request.app)
    if not access.keyring.enabled:
        request.scope[_KEY_ID] = None
        return None
    address = request.client.host if request.client else "unknown"
    challenge = {"WWW-Authenticate": "Bearer"}
    if (wait := access.failures.exhausted(address)) is not None:
        raise ApiError(
            429,
            "too_many_requests",
            f"too many failed API-key checks from this address (ENGAGE_SERVE_AUTH_FAILURE_LIMIT, "
            f"{access.failures.item}); retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    presented = presented_key(request)
    if not presented:
        access.failures.hit(address)
        raise ApiError(
            401,
            "unauthorized",
            "send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`",
            headers=challenge,
        )
    key_id = access.keyring.identify(presented)
    if key_id is None:
        access.failures.hit(address)
        raise ApiError(401, "unauthorized", "unknown API key", headers=challenge)
    wait = access.limiter.hit(key_id)
    if wait is not None:
        raise ApiError(
            429,
            "too_many_requests",
            f"rate limit of this API key ({access.limiter.item}) reached; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    request.scope[_KEY_ID] = key_id
    return key_id


class KeyedRoute(APIRoute):
    """A route that checks the caller's API key before its body is read, parsed or validated."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def keyed(request: Request) -> Response:
            authenticate(request)
            return await handler(request)

        return keyed


async def require_api_key(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_key_bearer)],
    header: Annotated[str | None, Depends(_key_header)],
) -> str | None:
    """The caller's key id (None when no keys are configured); 401 or 429 otherwise.

    ``bearer`` and ``header`` document the two ways to send a key in OpenAPI; the key is read
    by :func:`authenticate`, usually already called by :class:`KeyedRoute`.
    """
    return authenticate(request)


ApiKey = Annotated[str | None, Depends(require_api_key)]


def _unless_public(setting: str) -> Callable[..., Coroutine[Any, Any, None]]:
    """A dependency asking for an API key unless ``settings.<setting>`` (or, when unset, the
    absence of configured keys) makes the route public."""

    async def guard(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_key_bearer)],
        header: Annotated[str | None, Depends(_key_header)],
    ) -> None:
        public: bool | None = getattr(request.app.state.settings, setting)
        if public is None:
            public = not app_access(request.app).keyring.enabled
        if not public:
            authenticate(request)

    return guard


#: /openapi.json, /docs and /redoc: public unless keys are on (ENGAGE_SERVE_PUBLIC_DOCS)
require_docs_access = _unless_public("public_docs")
#: /metrics: public unless keys are on (ENGAGE_SERVE_PUBLIC_METRICS)
require_metrics_access = _unless_public("public_metrics")
