"""CSRF check of the web app's form posts (login, logout): same origin, and a token.

Two checks, as OWASP's CSRF Prevention Cheat Sheet advises:

- **Origin**: the ``Origin`` header (or, without one, ``Referer``) must name the host the
  request was sent to; ``Origin: null`` is refused. A request with neither (not a browser)
  is left to the token.
- **Token** (double-submit cookie): every page sets a random token in the HttpOnly,
  SameSite=Strict cookie ``CSRF_COOKIE`` and puts the same value in each form's hidden field
  ``CSRF_FIELD``; a post must carry both, equal. Another site can make a browser post a
  form, but can neither read the token nor set the cookie.

The API's own POSTs take JSON (or OAuth2's form at ``/v1/auth/token``, which sets no cookie),
so they need no token: a cross-site form cannot send ``application/json`` without a preflight,
and the token cookie is SameSite=Strict.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

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


def refusal(request: Request, submitted: str | None) -> str | None:
    """Why this form post is refused (for the log), or None when it may go on."""
    own = _host(request.headers.get("host", ""))
    origin = request.headers.get("origin")
    if origin is not None:
        if origin == "null" or _host(urlsplit(origin).netloc) != own:
            return f"origin {origin[:100]!r} is not this site"
    else:
        referer = request.headers.get("referer")
        if referer is not None and _host(urlsplit(referer).netloc) != own:
            return "referer is not this site"
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted:
        return "no CSRF token" if not submitted else "no CSRF cookie"
    if not hmac.compare_digest(cookie.encode(), submitted.encode()):
        return "CSRF token does not match its cookie"
    return None
