"""``dolbom api``: uvicorn on settings.api_host:settings.api_port."""

from __future__ import annotations

import asyncio
import logging
from types import FrameType

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from dolbom.config import Settings
from store.db import check

log = logging.getLogger(__name__)

GRACEFUL_SHUTDOWN_S = 3


class Server(uvicorn.Server):
    """uvicorn that ends open SSE streams when asked to stop (they never end by themselves)."""

    def __init__(self, app: FastAPI, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.app = app
        self.loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def request_exit(self) -> None:
        """Stop serving; safe to call from any thread."""
        hub = getattr(self.app.state, "hub", None)
        if hub is not None and self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(hub.close_streams)
        self.should_exit = True

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        hub = getattr(self.app.state, "hub", None)
        if hub is not None:
            hub.close_streams()  # signal handlers run on the loop's thread
        super().handle_exit(sig, frame)


def make_server(settings: Settings, *, log_level: str | None = None) -> Server:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level=(log_level or settings.log_level).lower(),
        access_log=False,
        proxy_headers=settings.api_forwarded_allow_ips is not None,
        forwarded_allow_ips=settings.api_forwarded_allow_ips,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        lifespan="on",
    )
    return Server(app, config)


def run(settings: Settings) -> None:
    """Serve the API and web app until interrupted (one alert listener per process)."""
    settings.token_secret()  # one clear line without a usable secret, before anything else
    check(settings.database_url)  # one clear line if the database is not there
    log.info("API on http://%s:%d", settings.api_host, settings.api_port)
    make_server(settings).run()
