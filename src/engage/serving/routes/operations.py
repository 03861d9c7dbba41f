"""Liveness, readiness, Prometheus metrics and the admin reload."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import ValidationError

from engage.contract.redaction import redact
from engage.serving.deps import (
    ERRORS,
    Metrics,
    Settings,
    Store,
    error_responses,
    require_admin,
    require_metrics_access,
)
from engage.serving.disclosure import public_text
from engage.serving.errors import ApiError, ModelNotReady, from_validation_error
from engage.serving.reload_targets import reload_refusal
from engage.serving.schemas import ErrorResponse, HealthResponse, ReloadRequest, ReloadResponse

logger = logging.getLogger("serving")
router = APIRouter()

# The body is documented here and read by the route itself, after `require_admin`: a
# declared body parameter would be parsed (and refused with 422) before authorisation.
_RELOAD_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": ReloadRequest.model_json_schema()}},
    }
}


@router.get("/healthz", response_model=HealthResponse, tags=["operations"])
async def healthz() -> dict[str, Any]:
    """Say the process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz", response_model=HealthResponse, responses={503: ERRORS[503]}, tags=["operations"]
)
async def readyz(store: Store) -> dict[str, Any]:
    """Say whether a model is loaded and requests can be served (503 says why not)."""
    model = store.current
    if model is None:
        raise ModelNotReady(store.not_ready_reason())
    return {"status": "ready", "model_version": model.version}


@router.get(
    "/metrics",
    tags=["operations"],
    response_class=Response,
    responses=error_responses(401, 429),
    dependencies=[Depends(require_metrics_access)],
)
async def prometheus_metrics(metrics: Metrics) -> Response:
    """Expose request counts, latencies, the served model and reload failures to Prometheus."""
    return Response(metrics.render(), media_type=metrics.content_type)


async def _reload_request(request: Request) -> ReloadRequest | None:
    """The optional JSON body of a reload (called only once the caller is authorised)."""
    raw = await request.body()
    if not raw.strip():
        return None  # no body: reload the configured URI (null is refused: not an object)
    try:
        return ReloadRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, "") from None


@router.post(
    "/v1/admin/reload",
    response_model=ReloadResponse,
    responses={
        401: {"model": ErrorResponse, "description": "No admin bearer token"},
        403: {
            "model": ErrorResponse,
            "description": "Wrong token, admin disabled, or a model URI outside the allow-list",
        },
        **error_responses(408, 413, 415, 422),
        502: {"model": ErrorResponse, "description": "The load failed; the old model serves"},
    },
    dependencies=[Depends(require_admin)],
    openapi_extra=_RELOAD_BODY,
    tags=["operations"],
)
async def reload_model(request: Request, store: Store, settings: Settings) -> dict[str, Any]:
    """Load a version or alias of the configured model, or an allow-listed directory (default: the configured URI) now; a failure keeps the old model serving."""
    body = await _reload_request(request)
    requested = body.model_uri if body else None
    if requested is not None:
        refusal = reload_refusal(requested, store.configured_uri, settings.reload_allowed_dirs)
        if refusal is not None:
            # %r escapes control characters: a newline in the URI cannot forge a log line.
            logger.warning("admin reload of %r refused: %s", redact(requested), refusal)
            raise ApiError(403, "forbidden", refusal, [{"field": "model_uri", "message": refusal}])
    ok = await store.reload("admin", requested or store.configured_uri)
    attempt = store.last_reload or {}
    if not ok:
        serving = store.current
        still = (
            f"version {serving.version} of {public_text(serving.uri)} is still serving"
            if serving
            else "no model is serving"
        )
        # The caller is authenticated: the detail keeps paths (credentials stay masked).
        raise ApiError(
            502,
            "reload_failed",
            f"reload failed; {still}",
            [{"field": "model_uri" if requested else None, "message": str(store.last_failure)}],
        )
    assert store.current is not None
    return {
        "reloaded": True,
        "model": store.current.ref(),
        "following_alias": store.following_alias,
        "last_reload": attempt,
    }
