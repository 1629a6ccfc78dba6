"""Login and logout forms (CSRF-checked, rate-limited like the API's token endpoint)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth.service import authenticate
from api.deps import TOKEN_COOKIE, ClientAddr, Conn
from api.errors import TooManyAttempts, Unauthorized
from api.web.errors import safe_next
from api.web.render import PREFIX, csrf_refused, render

router = APIRouter(prefix=PREFIX)


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", {"error": None, "user": None,
                                          "next": safe_next(request.query_params.get("next"))})


@router.post("/login")
async def login(
    request: Request,
    conn: Conn,
    addr: ClientAddr,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str | None, Form(max_length=100)] = None,
    next_page: Annotated[str | None, Form(alias="next", max_length=2000)] = None,
) -> Response:
    if refused := csrf_refused(request, csrf_token):
        return refused
    back = safe_next(next_page)
    try:
        principal = await authenticate(conn, request.app.state.login_limiter, username, password,
                                       addr or "-")
    except Unauthorized:
        return render(request, "login.html", {"error": "login_failed", "user": None, "next": back}, 401)
    except TooManyAttempts:
        return render(request, "login.html", {"error": "login_locked", "user": None, "next": back}, 429)
    settings = request.app.state.settings
    response = RedirectResponse(back or PREFIX, status_code=303)
    response.set_cookie(
        TOKEN_COOKIE, request.app.state.tokens.issue(principal),
        max_age=settings.token_ttl_minutes * 60, httponly=True, samesite="strict",
        secure=settings.environment == "production",
    )
    return response


@router.post("/logout")
async def logout(
    request: Request, csrf_token: Annotated[str | None, Form(max_length=100)] = None
) -> Response:
    if refused := csrf_refused(request, csrf_token):
        return refused
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE)
    return response
