"""POST /v1/auth/token: the OAuth2 password flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.auth.models import Token
from api.auth.service import authenticate, issue_token
from api.deps import ClientAddr, Conn
from api.responses import errors

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token, responses=errors(401, 422, 429))
async def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    conn: Conn,
    addr: ClientAddr,
) -> Token:
    """Exchange a username and password for a short-lived bearer token."""
    settings = request.app.state.settings
    principal = await authenticate(conn, request.app.state.login_limiter, form.username,
                                   form.password, addr or "-")
    token = issue_token(principal, settings.secret_key, settings.token_ttl_minutes)
    return Token(access_token=token, expires_in=settings.token_ttl_minutes * 60)
