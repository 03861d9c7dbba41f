"""The FastAPI application: ``create_app(settings)`` wires settings, model, routes and errors.

The model loads in a background task started by the lifespan, so the server listens at once
(``/readyz`` answers 503 with the reason until a model is served) even when the MLflow store
is unreachable; the task retries a failed first load (``load_retry_s``, doubling up to
``load_retry_max_s``), then polls the model alias every ``reload_interval_s`` and swaps in a
new version when the alias moves. Routes reach the model through a dependency. Single-profile
requests are answered through a :class:`~engage.serving.batching.MicroBatcher`, so concurrent
callers share policy calls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib import metadata
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from engage.decisions.settings import DecisionSettings
from engage.decisions.writer import DecisionWriter
from engage.policy.exploration import BudgetLedger
from engage.registry import bounded_mlflow_http
from engage.serving.batching import MicroBatcher
from engage.serving.deps import require_docs_access
from engage.serving.docs import install_offline_docs
from engage.serving.errors import install_error_handlers
from engage.serving.metrics import ServingMetrics
from engage.serving.middleware import RequestGuard
from engage.serving.model import ModelLoader, ModelStore
from engage.serving.openapi import document_contract
from engage.serving.routes import outcomes, router
from engage.serving.scoring import answer_rows
from engage.serving.settings import ServeSettings, get_settings

DESCRIPTION = """\
Which engagement style, posting mix and cadence pays off for which business, learned from
campaign logs and judged off-policy before it ships.

Start with `GET /v1/schema` (the profile fields the served model expects), then
`POST /v1/recommendations`. Every error has one shape:
`{"error": {"code": ..., "message": ..., "details": [{"field": ..., "message": ...}]}}`.
"""


OPENAPI_URL = "/openapi.json"


def _version() -> str:
    try:
        return metadata.version("engage-policy")
    except metadata.PackageNotFoundError:
        return "0"


def create_app(
    settings: ServeSettings | None = None, decisions: DecisionSettings | None = None
) -> FastAPI:
    """Build the API around ``settings`` (default: the process's, from the environment) and
    record decisions as ``decisions`` say (default: ``ENGAGE_DECISIONS_*``)."""
    settings = settings or get_settings()
    decisions = decisions or DecisionSettings()
    metrics = ServingMetrics()
    writer = _decision_writer(decisions, metrics)
    store = ModelStore(settings.model_uri, ModelLoader(settings.tracking_uri), metrics)
    batcher = MicroBatcher(
        answer_rows,
        max_batch=settings.microbatch_max,
        workers=settings.microbatch_workers,
        on_batch=metrics.microbatch.observe,
    )
    app = FastAPI(
        title="engage recommendation API",
        version=_version(),
        description=DESCRIPTION,
        lifespan=_lifespan(settings, store, batcher, writer),
        docs_url=None,  # served offline by install_offline_docs
        redoc_url=None,
        openapi_url=None,  # served below, behind require_docs_access
    )
    app.state.settings = settings
    app.state.models = store
    app.state.metrics = metrics
    app.state.batcher = batcher
    app.state.decisions = writer
    app.state.exploration = BudgetLedger(settings.exploration_service_budget)
    install_error_handlers(app, on_internal_error=metrics.internal_errors.inc)
    app.include_router(router)
    app.include_router(outcomes.router)
    _install_docs(app)
    _install_request_guard(app, settings, metrics)
    app.openapi = _openapi_builder(app, settings, store)  # type: ignore[method-assign]
    return app


def _decision_writer(decisions: DecisionSettings, metrics: ServingMetrics) -> DecisionWriter | None:
    """The background writer of served decisions, watched by ``metrics`` (None: not recorded)."""
    if not decisions.record:
        return None
    writer = DecisionWriter(
        decisions.store_url(),
        decisions.queue_size,
        spool_dir=decisions.spool_folder(),
        spool_max_bytes=decisions.spool_max_mb * 2**20,
        on_written=metrics.decisions_written.inc,
        on_dropped=metrics.decisions_dropped.inc,
        on_failed=metrics.decisions_failed.inc,
        on_retried=metrics.decisions_retried.inc,
    )
    metrics.watch_decisions(writer)
    return writer


def _lifespan(
    settings: ServeSettings,
    store: ModelStore,
    batcher: MicroBatcher,
    writer: DecisionWriter | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start the batcher, the decision writer and model loading; stop them on shutdown."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with bounded_mlflow_http():
            batcher.start()
            if writer is not None:  # opens and migrates the store on its own thread
                writer.start()
            loading = asyncio.create_task(
                store.serve_forever(
                    settings.load_retry_s, settings.load_retry_max_s, settings.reload_interval_s
                )
            )
            if settings.startup_wait_s > 0:
                await store.wait_for_first_attempt(settings.startup_wait_s)
            try:
                yield
            finally:
                loading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loading
                await batcher.stop()
                if writer is not None:
                    await asyncio.to_thread(writer.stop)

    return lifespan


def _install_docs(app: FastAPI) -> None:
    """The offline docs and the OpenAPI document, behind ``require_docs_access``."""
    docs_guard = [Depends(require_docs_access)]
    install_offline_docs(app, dependencies=docs_guard)

    @app.get(OPENAPI_URL, include_in_schema=False, dependencies=docs_guard)
    async def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())


def _install_request_guard(app: FastAPI, settings: ServeSettings, metrics: ServingMetrics) -> None:
    """The request guard middleware; call it after every route is added (it learns the paths)."""
    known_paths = {getattr(r, "path", "") for r in app.routes}
    app.add_middleware(
        RequestGuard,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        known_paths=known_paths,
        body_timeout_s=settings.body_timeout_s,
    )


def _openapi_builder(
    app: FastAPI, settings: ServeSettings, store: ModelStore
) -> Callable[[], dict[str, Any]]:
    """``app.openapi``: the schema with the served model's profile fields."""

    def openapi() -> dict[str, Any]:
        """OpenAPI with the served model's profile fields (rebuilt per call: the model can change)."""
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        model = store.current
        if model is not None:
            document_contract(schema, model.contract)
        batch = schema.get("components", {}).get("schemas", {}).get("BatchRecommendationRequest")
        if batch is not None:  # more profiles are refused with 413 batch_too_large
            batch["properties"]["profiles"]["maxItems"] = settings.max_batch
        return schema

    return openapi
