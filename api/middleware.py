"""ASGI middleware: security headers, the 1 MB body limit (413) and request metrics.

Pure ASGI (not ``BaseHTTPMiddleware``, which buffers and breaks the SSE stream).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import orjson
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024  # CONTRACT §3: a request body over 1 MB answers 413

# No inline script or style, nothing loaded from elsewhere, never framed (OWASP Secure Headers).
# Pages put their JSON in <script type="application/json"> data blocks and their code in
# /static; charts are inline SVG drawn with attributes and classes, never style="".
CSP_DIRECTIVES: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(**replaced: str) -> str:
    """The policy, with some directives replaced (``style_src=`` for ``style-src``)."""
    directives = CSP_DIRECTIVES | {name.replace("_", "-"): value for name, value in replaced.items()}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS: dict[bytes, bytes] = {
    b"content-security-policy": CONTENT_SECURITY_POLICY.encode(),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    # Never a Referer to another site. Not "no-referrer": under it a browser sends
    # "Origin: null" with the app's own form posts, and the CSRF check needs the real origin.
    b"referrer-policy": b"same-origin",
}
# Files that carry nobody's data: a browser may keep them, asking again each time (ETag).
PUBLIC_PREFIXES = ("/static/", "/docs-assets/")
PUBLIC_CACHE = b"no-cache"
# Everything else may carry health or personal data (every /v1 answer, every /app page).
PRIVATE_CACHE = b"no-store"


async def _send_413(send: Send) -> None:
    body = orjson.dumps({"detail": f"request body over {MAX_BODY_BYTES} bytes"})
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def with_security_headers(headers: Iterable[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
    """``headers`` plus the security headers; a response's own header of a name wins, except
    that anything outside ``PUBLIC_PREFIXES`` is always ``Cache-Control: no-store``."""
    public = path.startswith(PUBLIC_PREFIXES)
    out = [(name, value) for name, value in headers
           if public or name.lower() != b"cache-control"]
    present = {name.lower() for name, _ in out}
    out.extend((name, value) for name, value in SECURITY_HEADERS.items() if name not in present)
    if b"cache-control" not in present:
        out.append((b"cache-control", PUBLIC_CACHE if public else PRIVATE_CACHE))
    return out


class SecurityHeaders:
    """Add ``SECURITY_HEADERS`` and a ``Cache-Control`` to every HTTP response, streams included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_security_headers(message.get("headers", ()), path)}
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
