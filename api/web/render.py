"""What every page of the web app shares: the logged-in user from the cookie, rendering a
template with its language and CSRF token, JSON for a page's data block."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from api.deps import TOKEN_COOKIE, Conn
from api.errors import LoginRequired, Unauthorized
from api.jsonresp import dumps
from api.principal import Principal
from api.web import csrf
from api.web.i18n import LANG_COOKIE, LANGS, pick_lang, translator

log = logging.getLogger("api.web")
PREFIX = "/app"
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


async def web_user(request: Request, conn: Conn) -> Principal:
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise LoginRequired("log in first")
    try:  # revoked tokens and deactivated users too (api/security/tokens.py)
        return await request.app.state.tokens.principal(token, conn)
    except Unauthorized:
        raise LoginRequired("session expired") from None


WebUser = Annotated[Principal, Depends(web_user)]


def page_lang(request: Request) -> str:
    """The page's language: ``?lang=``, then the cookie, then Accept-Language (Korean default)."""
    return pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                     request.headers.get("accept-language"))


def page_text(request: Request) -> dict[str, str]:
    """The catalogue in the page's language."""
    return translator(page_lang(request))


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    lang = page_lang(request)
    text = translator(lang)
    token, new_token = csrf.page_token(request)
    response = templates.TemplateResponse(
        request, name, {"t": text, "lang": lang, "langs": LANGS, "csrf_field": csrf.CSRF_FIELD,
                        "csrf_token": token, **context}, status_code=status
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    if new_token:
        csrf.set_cookie(response, token, secure=request.app.state.settings.environment == "production")
    return response


def csrf_refused(request: Request, submitted: str | None) -> HTMLResponse | None:
    """The 403 page for a form post that fails the CSRF check (api.web.csrf), else None."""
    why = csrf.refusal(request, submitted)
    if why is None:
        return None
    log.warning("form post to %s refused: %s", request.url.path, why)
    return render(request, "message.html", {"user": None, "message": "csrf_refused", "retry": True}, 403)


def script_json(value: Any) -> Markup:
    """JSON safe inside a <script> element: no "<" can end it or open a comment."""
    return Markup(dumps(value).decode().replace("<", "\\u003c"))
