"""``dolbom api``: uvicorn on settings.api_host:settings.api_port."""

from __future__ import annotations

import logging

import uvicorn

from api.app import create_app
from dolbom.config import Settings
from store.db import check

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_S = 3  # open SSE streams never end by themselves


def run(settings: Settings) -> None:
    """Serve the API and web app until interrupted (one alert listener per process)."""
    check(settings.database_url)  # one clear line if the database is not there
    log.info("API on http://%s:%d", settings.api_host, settings.api_port)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
