"""POST /v1/auth/token: the OAuth2 password flow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.auth.models import Token
from api.auth.service import authenticate
from api.deps import ClientAddr, Conn, Limiter, TokenAuthority
from api.responses import errors

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token, responses=errors(401, 422, 429))
async def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    conn: Conn,
    addr: ClientAddr,
    limiter: Limiter,
    tokens: TokenAuthority,
) -> Token:
    """Exchange a username and password for a short-lived bearer token."""
    principal = await authenticate(conn, limiter, form.username, form.password, addr or "-")
    return Token(access_token=tokens.issue(principal), expires_in=tokens.ttl_minutes * 60)
