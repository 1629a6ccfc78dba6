"""Dependencies shared by every view: the database connection, the caller, their address."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from psycopg import AsyncConnection
from psycopg.errors import ReadOnlySqlTransaction
from psycopg.rows import DictRow

from api.errors import Forbidden, Unauthorized
from api.principal import Principal
from api.security.limiter import LoginLimiter
from api.security.tokens import Tokens

TOKEN_COOKIE = "dolbom_token"  # the web app keeps its token in an HttpOnly, SameSite cookie

oauth2 = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


async def get_conn(request: Request) -> AsyncIterator[AsyncConnection[DictRow]]:
    """One pooled connection (autocommit: writes open their own transaction in the service)."""
    async with request.app.state.pool.connection() as conn:
        try:
            yield conn
        except ReadOnlySqlTransaction:
            # A session that began while the database was read-only stays read-only: close
            # it, so the pool opens a new one once writes are allowed again.
            await conn.close()
            raise


def tokens(request: Request) -> Tokens:
    """The process's token authority (api/security/tokens.py)."""
    return request.app.state.tokens


def login_limiter(request: Request) -> LoginLimiter:
    return request.app.state.login_limiter


async def current_user(
    request: Request,
    token: Annotated[str | None, Depends(oauth2)],
    conn: Annotated[AsyncConnection[DictRow], Depends(get_conn, scope="function")],
) -> Principal:
    """The caller named by the bearer token (or the web app's cookie); 401 without one, or
    when the token was revoked or its user deactivated (checked on the request's connection)."""
    token = token or request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise Unauthorized("not authenticated")
    return await tokens(request).principal(token, conn)


def require(role: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(principal: Annotated[Principal, Depends(current_user)]) -> Principal:
        if not principal.at_least(role):
            raise Forbidden(f"this needs the {role} role or higher")
        return principal

    return check


async def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


Conn = Annotated[AsyncConnection[DictRow], Depends(get_conn, scope="function")]
CurrentUser = Annotated[Principal, Depends(current_user)]
StaffUser = Annotated[Principal, Depends(require("center_staff"))]
AdminUser = Annotated[Principal, Depends(require("admin"))]
ClientAddr = Annotated[str | None, Depends(client_addr)]
TokenAuthority = Annotated[Tokens, Depends(tokens)]
Limiter = Annotated[LoginLimiter, Depends(login_limiter)]
