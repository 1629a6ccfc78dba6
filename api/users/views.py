"""User management: GET /v1/users, GET and PATCH /v1/users/{id}, revoking tokens, passwords.

``POST /v1/users`` (create) is api/admin/views.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.admin.models import User
from api.auth.models import Token
from api.deps import ClientAddr, Conn, CurrentUser, Limiter, StaffUser, TokenAuthority
from api.fields import IdPath
from api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from api.responses import errors
from api.users import service
from api.users.models import PasswordChange, Role, UserPatch

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.get("", response_model=Page[User], responses=errors(403))
async def list_users(
    conn: Conn,
    user: StaffUser,
    active: Annotated[bool | None, Query()] = None,
    role: Annotated[Role | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[User]:
    """The users the caller manages (admin: all; centre staff: their region), by id."""
    items, next_cursor = await service.list_users(conn, user, active=active, role=role, limit=limit,
                                                  cursor=cursor)
    return Page[User](items=items, next_cursor=next_cursor)


@router.get("/me", response_model=User, responses=errors())
async def read_me(conn: Conn, user: CurrentUser) -> User:
    """The caller's own account."""
    return await service.read_user(conn, user, user.user_id)


@router.post("/me/password", response_model=Token, responses=errors(403, 429))
async def change_password(
    body: PasswordChange, conn: Conn, user: CurrentUser, addr: ClientAddr, limiter: Limiter,
    tokens: TokenAuthority,
) -> Token:
    """Change the caller's password; every token of theirs ends, and a new one is returned."""
    principal = await service.change_password(conn, tokens, limiter, user, body, addr)
    return Token(access_token=tokens.issue(principal), expires_in=tokens.ttl_minutes * 60)


@router.get("/{user_id}", response_model=User, responses=errors(403, 404))
async def read_user(user_id: IdPath, conn: Conn, user: StaffUser) -> User:
    """One user the caller manages."""
    return await service.read_user(conn, user, user_id)


@router.patch("/{user_id}", response_model=User, responses=errors(403, 404, 409))
async def update_user(
    user_id: IdPath, body: UserPatch, conn: Conn, user: StaffUser, addr: ClientAddr,
    tokens: TokenAuthority,
) -> User:
    """Deactivate or reactivate a user, or (admin) change their role, region or password;
    deactivation and a new role, region or password end every token of theirs at once."""
    return await service.update_user(conn, tokens, user, user_id, body, addr)


@router.post("/{user_id}/revoke-tokens", response_model=User, responses=errors(403, 404))
async def revoke_tokens(
    user_id: IdPath, conn: Conn, user: CurrentUser, addr: ClientAddr, tokens: TokenAuthority
) -> User:
    """End every token of a user (anyone: their own; staff and admin: the users they manage)."""
    return await service.revoke_tokens(conn, tokens, user, user_id, addr)
