"""CSRF check of the web app's form posts (login, logout): same origin, and a token.

Two checks, as OWASP's CSRF Prevention Cheat Sheet advises:

- **Origin**: the ``Origin`` header (or, without one, ``Referer``) must name the host the
  request was sent to; ``Origin: null`` is refused. A request with neither (not a browser)
  is left to the token.
- **Token** (double-submit cookie): every page sets a random token in the HttpOnly,
  SameSite=Strict cookie ``CSRF_COOKIE`` and puts the same value in each form's hidden field
  ``CSRF_FIELD``; a post must carry both, equal. Another site can make a browser post a
  form, but can neither read the token nor set the cookie.

The API needs no token: the token cookie is SameSite=Strict, and its bodies are JSON, which a
cross-site form cannot send without a CORS preflight. Some of its POSTs take no body, though
(``/v1/users/{id}/revoke-tokens``), so ``CookieOriginGuard`` also refuses, with a JSON 403,
any request that changes something with the cookie (not a bearer token) from another origin.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import TOKEN_COOKIE

log = logging.getLogger(__name__)

CSRF_COOKIE = "dolbom_csrf"
CSRF_FIELD = "csrf_token"
_TOKEN_BYTES = 32
_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{43}")  # what token_urlsafe(32) makes
_DEFAULT_PORTS = (":80", ":443")


def page_token(request: Request) -> tuple[str, bool]:
    """The token for the page being rendered, and whether it is new (then set the cookie)."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if _WELL_FORMED.fullmatch(token):
        return token, False
    return secrets.token_urlsafe(_TOKEN_BYTES), True


def set_cookie(response: Response, token: str, *, secure: bool) -> None:
    # A session cookie, for the app's pages only; the pages are no-store, so a form shown
    # again after the browser restarts is rendered anew with the new cookie's token.
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure,
                        path="/app")


def _host(value: str) -> str:
    value = value.lower()
    for port in _DEFAULT_PORTS:
        if value.endswith(port):
            return value[: -len(port)]
    return value


def foreign_origin(headers: Headers) -> str | None:
    """Why the request's ``Origin`` (or else ``Referer``) is not its own ``Host``, or None."""
    own = _host(headers.get("host", ""))
    origin = headers.get("origin")
    if origin is not None:
        if origin == "null" or _host(urlsplit(origin).netloc) != own:
            return f"origin {origin[:100]!r} is not this site"
        return None
    referer = headers.get("referer")
    if referer is not None and _host(urlsplit(referer).netloc) != own:
        return "referer is not this site"
    return None


def refusal(request: Request, submitted: str | None) -> str | None:
    """Why this form post is refused (for the log), or None when it may go on."""
    if why := foreign_origin(request.headers):
        return why
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted:
        return "no CSRF token" if not submitted else "no CSRF cookie"
    if not hmac.compare_digest(cookie.encode(), submitted.encode()):
        return "CSRF token does not match its cookie"
    return None


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CookieOriginGuard:
    """403 for a request that changes something with the web app's cookie, from another origin.

    A bearer token (``Authorization``) is never sent by a browser on its own, so such requests
    pass; so does anything under ``/app``, whose forms answer an HTML page of their own.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] not in _SAFE_METHODS
                and not scope["path"].startswith("/app/")):
            request = Request(scope)
            if TOKEN_COOKIE in request.cookies and "authorization" not in request.headers:
                why = foreign_origin(request.headers)
                if why is not None:
                    log.warning("%s %s with the session cookie refused: %s",
                                scope["method"], scope["path"], why)
                    response = JSONResponse(
                        {"detail": "cross-site request refused: send it from this site"}, 403)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
