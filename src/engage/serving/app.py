"""The FastAPI application: ``create_app(settings)`` wires settings, model, routes and errors.

The model loads in the lifespan (a missing model is logged and leaves the app up and not
ready); routes reach it through a dependency. A background task polls the model alias every
``reload_interval_s`` and swaps in a new version when the alias moves. Single-profile
requests are answered through a :class:`~engage.serving.batching.MicroBatcher`, so concurrent
callers share policy calls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from engage.serving.batching import MicroBatcher
from engage.serving.errors import install_error_handlers
from engage.serving.metrics import ServingMetrics
from engage.serving.middleware import RequestGuard
from engage.serving.model import ModelLoader, ModelStore
from engage.serving.routes import router
from engage.serving.scoring import answer_rows
from engage.serving.settings import ServeSettings, get_settings

DESCRIPTION = """\
Which engagement style, posting mix and cadence pays off for which business, learned from
campaign logs and judged off-policy before it ships.

Start with `GET /v1/schema` (the profile fields the served model expects), then
`POST /v1/recommendations`. Every error has one shape:
`{"error": {"code": ..., "message": ..., "details": [{"field": ..., "message": ...}]}}`.
"""


def _version() -> str:
    try:
        return metadata.version("engage-policy")
    except metadata.PackageNotFoundError:
        return "0"


def create_app(settings: ServeSettings | None = None) -> FastAPI:
    """Build the API around ``settings`` (default: the process's, from the environment)."""
    settings = settings or get_settings()
    metrics = ServingMetrics()
    store = ModelStore(settings.model_uri, ModelLoader(settings.tracking_uri), metrics)
    batcher = MicroBatcher(
        answer_rows,
        max_batch=settings.microbatch_max,
        workers=settings.microbatch_workers,
        on_batch=metrics.microbatch.observe,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await store.reload("startup")
        batcher.start()
        poller = None
        if settings.reload_interval_s > 0:
            poller = asyncio.create_task(store.poll_forever(settings.reload_interval_s))
        try:
            yield
        finally:
            if poller is not None:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
            await batcher.stop()

    app = FastAPI(
        title="engage recommendation API",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.models = store
    app.state.metrics = metrics
    app.state.batcher = batcher
    install_error_handlers(app, on_internal_error=metrics.internal_errors.inc)
    app.include_router(router)
    known_paths = {getattr(r, "path", "") for r in app.routes}
    app.add_middleware(
        RequestGuard,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        known_paths=known_paths,
    )

    def openapi() -> dict[str, Any]:
        """OpenAPI with the served model's profile fields (rebuilt per call: the model can change)."""
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        model = store.current
        if model is not None:
            _inject_profile(
                schema,
                model.contract.profile_model.model_json_schema(),
                model.contract.example_profile(),
            )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _inject_profile(
    schema: dict[str, Any], profile: dict[str, Any], example: dict[str, Any]
) -> None:
    """Document the profile as the loaded spec's model, with a ready example."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Profile"] = profile
    ref = {"$ref": "#/components/schemas/Profile"}
    single = components.get("RecommendationRequest", {})
    if "properties" in single:
        single["properties"]["profile"] = ref
        for ex in single.get("examples", []):
            ex["profile"] = example
    batch = components.get("BatchRecommendationRequest", {})
    if "properties" in batch:
        batch["properties"]["profiles"]["items"] = ref
        for ex in batch.get("examples", []):
            ex["profiles"] = [example]
