"""ASGI middleware: the 1 MB body limit (413) and request metrics."""

from __future__ import annotations

import time
from typing import Any

import orjson
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024  # CONTRACT §3: a request body over 1 MB answers 413


async def _send_413(send: Send) -> None:
    body = orjson.dumps({"detail": f"request body over {MAX_BODY_BYTES} bytes"})
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over ``MAX_BODY_BYTES``, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_large = int(value) > MAX_BODY_BYTES
                except ValueError:
                    too_large = False
                if too_large:
                    await _send_413(send)
                    return
        received = 0
        started = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused, started
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    # Answer now; the app sees a disconnected client and its answer is dropped.
                    refused = True
                    if not started:
                        started = True
                        await _send_413(send)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not refused:
                raise


class RequestMetrics:
    """Count requests and time them, labelled by route template (not raw path) and status."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        timed = False

        async def observing_send(message: Message) -> None:
            nonlocal status, timed
            if message["type"] == "http.response.start":
                status = int(message["status"])
                # Streams (SSE) are timed to their first byte, not their whole life.
                self._observe(scope, status, start)
                timed = True
            await send(message)

        try:
            await self.app(scope, receive, observing_send)
        finally:
            if not timed:
                self._observe(scope, status, start)

    def _observe(self, scope: dict[str, Any] | Scope, status: int, start: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        method = scope.get("method", "GET")
        self.requests.labels(method, path, str(status)).inc()
        self.latency.labels(method, path).observe(time.perf_counter() - start)
