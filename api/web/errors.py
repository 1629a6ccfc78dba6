"""Errors of the web app's pages as pages: under ``/app`` a person gets an HTML page, never
the API's JSON.

``api.errors`` stays the one place where an error becomes a status: it computes the JSON
answer as for any client, then hands it here when the request is for a page (``PAGES``,
given to ``api.errors.install`` by ``api.app``). Here the status becomes a page:

- 401, or no valid session (``LoginRequired``): a redirect to ``/app/login`` with ``next``,
  the page to come back to (a local ``/app`` path; ``safe_next`` checks one given back);
- a bad path parameter (``/app/enrollees/abc``) and any unknown ``/app/...`` path: 404;
- 403, and any other status (a bad query or form 400, 429, 503 with its ``Retry-After``,
  500): a page that says so in the page's language, with the menu when the session cookie
  is validly signed (read without the database, which may be what failed).
"""

from __future__ import annotations

import logging
from typing import Final
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from api.deps import TOKEN_COOKIE
from api.errors import LoginRequired, Unauthorized
from api.principal import Principal
from api.security.tokens import read_token
from api.web.render import PREFIX, render

log = logging.getLogger(__name__)

LOGIN: Final = f"{PREFIX}/login"
MAX_NEXT_LEN: Final = 2000
# The catalogue key (api/web/i18n.py) of each status's sentence; others: err_other.
MESSAGES: Final = {400: "err_bad_request", 403: "forbidden", 404: "not_found", 405: "not_found",
                   413: "err_too_large", 422: "err_bad_request", 429: "err_too_many",
                   503: "err_unavailable"}
# Headers of the API's answer a page keeps (when to try again).
_KEPT_HEADERS: Final = ("retry-after",)


def is_page(request: Request) -> bool:
    """Whether the request is for a page of the web app (``/app`` and below)."""
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def safe_next(value: str | None) -> str | None:
    """``value`` if it is a local path of the web app to return to after logging in, else None:
    ``/app`` or below, no scheme, host, ``//`` or backslash (no open redirect), not the login
    or logout itself, at most ``MAX_NEXT_LEN`` printable characters."""
    if not value or len(value) > MAX_NEXT_LEN or not value.isprintable() or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "//" in parts.path or parts.fragment:
        return None
    if parts.path != PREFIX and not parts.path.startswith(PREFIX + "/"):
        return None
    if parts.path in (LOGIN, f"{PREFIX}/logout"):
        return None
    return value


def login_url(request: Request) -> str:
    """The login page, with ``next`` back to the page asked for (a GET; ``/app`` itself is
    where a login goes anyway)."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    target_ok = request.method == "GET" and safe_next(target)
    if not target_ok or target == PREFIX:
        return LOGIN
    return f"{LOGIN}?{urlencode({'next': target})}"


def _signed_in(request: Request) -> Principal | None:
    """The user the session cookie names, for the menu: signature and expiry only."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None
    try:
        return read_token(token, request.app.state.tokens.secret)
    except Unauthorized:
        return None


def _status(exc: Exception, status: int) -> int:
    if isinstance(exc, RequestValidationError) and any(
            error.get("loc", ("",))[0] == "path" for error in exc.errors()):
        return 404  # /app/enrollees/abc names no page
    if status == 422:
        return 400  # a query or form a page cannot use: the person's request, not JSON's
    return status


class PageErrors:
    """What ``api.errors`` calls for an error on a page (``api.errors.PageErrors``)."""

    def covers(self, request: Request) -> bool:
        return is_page(request)

    async def answer(self, request: Request, exc: Exception, api_answer: Response) -> Response:
        status = _status(exc, api_answer.status_code)
        if status == 401 or isinstance(exc, LoginRequired):
            return RedirectResponse(login_url(request), status_code=303)
        page = render(request, "error.html", {
            "user": _signed_in(request), "status": status,
            "message": MESSAGES.get(status, "err_other"),
        }, status)
        for name in _KEPT_HEADERS:
            if name in api_answer.headers:
                page.headers[name] = api_answer.headers[name]
        return page


PAGES: Final = PageErrors()
