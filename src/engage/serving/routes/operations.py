"""Liveness, readiness, Prometheus metrics and the admin reload."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from engage.serving.deps import ERRORS, Metrics, Model, Store, require_admin
from engage.serving.errors import ApiError
from engage.serving.schemas import ErrorResponse, HealthResponse, ReloadRequest, ReloadResponse

router = APIRouter()


@router.get("/healthz", response_model=HealthResponse, tags=["operations"])
async def healthz() -> dict[str, Any]:
    """Say the process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz", response_model=HealthResponse, responses={503: ERRORS[503]}, tags=["operations"]
)
async def readyz(model: Model) -> dict[str, Any]:
    """Say whether a model is loaded and requests can be served."""
    return {"status": "ready", "model_version": model.version}


@router.get("/metrics", tags=["operations"], response_class=Response)
async def prometheus_metrics(metrics: Metrics) -> Response:
    """Expose request counts, latencies, the served model and reload failures to Prometheus."""
    return Response(metrics.render(), media_type=metrics.content_type)


@router.post(
    "/v1/admin/reload",
    response_model=ReloadResponse,
    responses={
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        502: {"model": ErrorResponse},
    },
    dependencies=[Depends(require_admin)],
    tags=["operations"],
)
async def reload_model(store: Store, body: ReloadRequest | None = None) -> dict[str, Any]:
    """Load the model at the given URI (default: the served one) now; a failure keeps the old model serving."""
    ok = await store.reload("admin", body.model_uri if body else None)
    attempt = store.last_reload or {}
    if not ok:
        serving = store.current
        still = (
            f"version {serving.version} of {serving.uri} is still serving"
            if serving
            else "no model is serving"
        )
        raise ApiError(
            502,
            "reload_failed",
            f"reload failed; {still}",
            [
                {
                    "field": "model_uri" if body and body.model_uri else None,
                    "message": str(attempt.get("error")),
                }
            ],
        )
    assert store.current is not None
    return {"reloaded": True, "model": store.current.ref(), "last_reload": attempt}
