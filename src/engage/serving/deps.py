"""What routes depend on: the app's store, settings, metrics and batcher, the served model, admin auth.

Each is a FastAPI dependency with an ``Annotated`` alias, so a route names what it needs
(``model: Model``) and tests can build the app with their own settings.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from engage.serving.batching import MicroBatcher
from engage.serving.errors import ApiError, ModelNotReady
from engage.serving.metrics import ServingMetrics
from engage.serving.model import LoadedModel, ModelStore
from engage.serving.schemas import ErrorResponse
from engage.serving.settings import ServeSettings

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        413: "Body or batch over the configured limit",
        422: "Invalid input; `details` names each bad field",
        503: "No model loaded yet",
    }.items()
}


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
