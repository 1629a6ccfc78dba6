"""``create_app(settings)``: the FastAPI application (API under /v1, web app under /app)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api import errors
from api.admin.views import router as admin_router
from api.alerts.stream import AlertHub
from api.alerts.views import router as alerts_router
from api.audit.views import router as audit_router
from api.auth.views import router as auth_router
from api.bodies import no_duplicate_keys
from api.contacts.views import router as contacts_router
from api.db import open_pool
from api.devices.views import router as devices_router
from api.docs import DOCS_ASSETS_DIR, DOCS_ASSETS_URL
from api.docs import router as docs_router
from api.enrollees.views import router as enrollees_router
from api.metrics import ApiMetrics
from api.metrics import router as metrics_router
from api.middleware import BodyLimit, RequestMetrics, SecurityHeaders
from api.readings.views import router as readings_router
from api.reports.views import router as reports_router
from api.responses import document_common_errors
from api.security.limiter import LoginLimiter
from api.security.tokens import Tokens
from api.users.views import router as users_router
from api.web import errors as web_errors
from api.web.csrf import CookieOriginGuard
from api.web.views import router as web_router
from api.worklist.views import router as worklist_router
from dolbom import __version__
from dolbom.config import Settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings) -> FastAPI:
    """Build the app; the pool and the alert listener open in its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = await open_pool(settings.database_url)
        app.state.hub = AlertHub(settings.database_url, app.state.pool)
        await app.state.hub.start()
        gc.freeze()  # start-up objects leave the collector's generations: shorter GC pauses
        try:
            yield
        finally:
            await app.state.hub.stop()
            await app.state.pool.close()

    app = FastAPI(
        title="Dolbom API",
        version=__version__,
        description="Alerts, enrollees, vitals and devices for care workers and health centres "
                    "(CONTRACT §3).",
        lifespan=lifespan,
        docs_url=None,  # api.docs serves /docs and /redoc with local assets and no inline script
        redoc_url=None,
        dependencies=[Depends(no_duplicate_keys)],  # a JSON key given twice is a 422
    )
    app.state.settings = settings
    app.state.login_limiter = LoginLimiter()
    app.state.tokens = Tokens.from_settings(settings)  # refuses to start without a usable secret
    app.state.metrics = ApiMetrics()
    errors.install(app, pages=web_errors.PAGES)  # under /app an error is a page
    for router in (auth_router, alerts_router, enrollees_router, readings_router, devices_router,
                   admin_router, users_router, audit_router, reports_router, metrics_router,
                   web_router, docs_router):
        app.include_router(router)
    app.include_router(contacts_router)  # CONTRACT §5.2
    app.include_router(worklist_router)  # CONTRACT §5.3
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")

    def openapi() -> dict[str, Any]:
        # A 422 carries either FastAPI's list of field errors or one message from a service
        # (e.g. "from must be before to"): say so once, for every route.
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            validation = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
            if validation:
                validation["properties"]["detail"] = {
                    "title": "Detail", "description": "a list of field errors, or one message"}
            document_common_errors(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/app", status_code=307)

    app.add_middleware(CookieOriginGuard)  # cookie-carried changes from another site: 403
    app.add_middleware(RequestMetrics, requests=app.state.metrics.requests,
                       latency=app.state.metrics.latency)
    app.add_middleware(BodyLimit)
    # Security headers outermost, outside Starlette's ServerErrorMiddleware, so that every
    # answer carries them: 413s of BodyLimit, the SSE stream, even a 500.
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityHeaders(build_stack())  # type: ignore[method-assign]
    return app
