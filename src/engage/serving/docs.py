"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) served with their assets from the app itself.

FastAPI's default pages load their JavaScript, CSS, favicon and fonts from CDNs, so they are
blank on a machine without internet. The assets here come from the ``fastapi-offline``
distribution (Swagger UI bundle and CSS, ReDoc standalone bundle, a favicon), mounted under
:data:`ASSETS_PATH`; the pages reference no other origin. The app must be built with
``docs_url=None, redoc_url=None`` so these routes are the only ones at those paths.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.params import Depends
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/static/docs"
ASSETS_PACKAGE = ("fastapi_offline", "static")


def install_offline_docs(
    app: FastAPI,
    docs_path: str = "/docs",
    redoc_path: str = "/redoc",
    dependencies: Sequence[Depends] = (),
) -> None:
    """Serve Swagger UI at ``docs_path`` and ReDoc at ``redoc_path`` from bundled assets.

    Args:
        app: the application, built with ``docs_url=None, redoc_url=None``.
        docs_path: where Swagger UI is served.
        redoc_path: where ReDoc is served.
        dependencies: run before each page is served (e.g. an API-key check).
    """
    app.mount(ASSETS_PATH, StaticFiles(packages=[ASSETS_PACKAGE]), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    oauth2_path = f"{docs_path}/oauth2-redirect"
    favicon = f"{ASSETS_PATH}/favicon.png"

    guards = list(dependencies)

    @app.get(docs_path, include_in_schema=False, dependencies=guards)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=favicon,
            oauth2_redirect_url=oauth2_path,
        )

    @app.get(oauth2_path, include_in_schema=False, dependencies=guards)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_path, include_in_schema=False, dependencies=guards)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
