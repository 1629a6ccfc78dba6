"""Managing users: who may see whom, deactivation, token revocation, passwords.

Admins manage everyone; centre staff the users of their own region (another region's users
answer 404, an admin 403) and only their ``active`` flag and display name. Every change is
audited, and every change that must end a user's sessions (deactivation, a new password,
role or region) bumps their token version; the process forgets the cached version after the
commit, so their next request answers 401 (api/security/tokens.py).
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from api.admin.models import User
from api.audit.service import record
from api.db import durable
from api.errors import Conflict, Forbidden, Invalid, NotFound
from api.pagination import IdCursor, decode_cursor, page
from api.principal import Principal, region_scope
from api.security.limiter import LoginLimiter
from api.security.tokens import Tokens
from api.users import queries
from api.users.models import PasswordChange, UserPatch
from dolbom.accounts import hash_password, verify_password

_ADMIN_FIELDS = frozenset({"role", "region_id", "password"})
_REGIONAL_ROLES = ("care_worker", "center_staff")


def _scoped(query: str, principal: Principal) -> tuple[sql.Composed, dict[str, Any]]:
    """``query`` with the users ``principal`` may manage: admin all, staff their region."""
    if not principal.at_least("center_staff"):
        return sql.SQL(query).format(scope=sql.SQL("FALSE")), {}  # type: ignore[arg-type]
    scope, params = region_scope(principal)
    return sql.SQL(query).format(scope=scope), params  # type: ignore[arg-type]


async def list_users(
    conn: AsyncConnection[DictRow], principal: Principal, *, active: bool | None, role: str | None,
    limit: int, cursor: str | None,
) -> tuple[list[User], str | None]:
    position = decode_cursor(cursor, IdCursor)
    after_id = position.id if position else None
    query, params = _scoped(queries.LIST, principal)
    rows = await (await conn.execute(query, {
        **params, "active": active, "role": role, "after_id": after_id, "limit": limit + 1,
    })).fetchall()
    return page([User.model_validate(row) for row in rows], limit, lambda user: {"id": user.id})


async def _visible(
    conn: AsyncConnection[DictRow], principal: Principal, user_id: int, *, for_update: bool = False
) -> dict[str, Any]:
    """The user row if ``principal`` may see it (admin: all; staff: their region; anyone:
    themselves), else 404."""
    query, params = _scoped(queries.VISIBLE_FOR_UPDATE if for_update else queries.VISIBLE, principal)
    row = await (await conn.execute(query, {**params, "user_id": user_id,
                                            "self_id": principal.user_id})).fetchone()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return row


async def read_user(conn: AsyncConnection[DictRow], principal: Principal, user_id: int) -> User:
    return User.model_validate(await _visible(conn, principal, user_id))


def _check_may_manage(principal: Principal, target: dict[str, Any]) -> None:
    if principal.role != "admin" and target["role"] == "admin":
        raise Forbidden("only an admin manages an admin")


async def update_user(
    conn: AsyncConnection[DictRow], tokens: Tokens, principal: Principal, user_id: int,
    patch: UserPatch, client_addr: str | None,
) -> User:
    """Apply ``patch``; deactivation and new role, region or password end the user's tokens."""
    sent = patch.model_fields_set
    if principal.role != "admin" and sent & _ADMIN_FIELDS:
        raise Forbidden("only an admin changes a user's role, region or password")
    if user_id == principal.user_id and "password" in sent:
        # Not without the current password: a stolen token must not take over the account.
        raise Forbidden("change your own password with POST /v1/users/me/password")
    for name in ("active", "role", "password"):
        if name in sent and getattr(patch, name) is None:
            raise Invalid(f"{name} cannot be null")
    password_hash = None
    if patch.password is not None:
        password_hash = await anyio.to_thread.run_sync(hash_password, patch.password)
    async with durable(conn):
        current = await _visible(conn, principal, user_id, for_update=True)
        _check_may_manage(principal, current)
        values = {name: current[name] for name in ("active", "display_name", "role", "region_id")}
        values.update({name: getattr(patch, name) for name in sent if name in values})
        moved = values["role"] != current["role"] or values["region_id"] != current["region_id"]
        if user_id == principal.user_id and (not values["active"] or moved):
            # Also keeps the last admin: only another (active) admin can deactivate one.
            raise Conflict("you cannot deactivate yourself or change your own role or region")
        if values["role"] in _REGIONAL_ROLES and values["region_id"] is None:
            raise Invalid(f"a {values['role']} needs a region_id")
        if moved and current["role"] == "care_worker":
            assigned = await (await conn.execute(queries.ASSIGNED_ENROLLEES, (user_id,))).fetchone()
            if assigned and assigned["n"]:
                raise Conflict(f"user {user_id} is the care worker of {assigned['n']} enrollees; "
                               "assign them to someone else first")
        deactivated = current["active"] and not values["active"]
        revoke = deactivated or moved or password_hash is not None
        try:
            row = await (await conn.execute(queries.UPDATE, {
                **values, "password_hash": password_hash, "bump": int(revoke), "user_id": user_id,
            })).fetchone()
        except psycopg.errors.ForeignKeyViolation:
            raise Invalid(f"region {values['region_id']} does not exist") from None
        assert row is not None
        action = ("deactivate_user" if deactivated
                  else "reactivate_user" if values["active"] and not current["active"]
                  else "update_user")
        await record(conn, principal, action, resource=f"users/{user_id}", client_addr=client_addr,
                     detail={"fields": sorted(sent), "tokens_revoked": revoke})
    tokens.forget(user_id)
    return User.model_validate(row)


async def revoke_tokens(
    conn: AsyncConnection[DictRow], tokens: Tokens, principal: Principal, user_id: int,
    client_addr: str | None,
) -> User:
    """End every token of ``user_id`` (oneself: any role; others: staff and admin)."""
    if user_id != principal.user_id and not principal.at_least("center_staff"):
        raise Forbidden("this needs the center_staff role or higher")
    async with durable(conn):
        current = await _visible(conn, principal, user_id, for_update=True)
        _check_may_manage(principal, current)
        row = await (await conn.execute(queries.REVOKE_TOKENS, (user_id,))).fetchone()
        assert row is not None
        await record(conn, principal, "revoke_tokens", resource=f"users/{user_id}",
                     client_addr=client_addr)
    tokens.forget(user_id)
    return User.model_validate(row)


async def change_password(
    conn: AsyncConnection[DictRow], tokens: Tokens, limiter: LoginLimiter, principal: Principal,
    body: PasswordChange, client_addr: str | None,
) -> Principal:
    """The caller's new password; every token of theirs ends, and the returned principal
    (with the new token version) is the one to issue the caller's next token for.

    A wrong current password counts as a failed login (the same limiter and lockout).
    """
    client = client_addr or "-"
    recent_failures = await limiter.check(conn, principal.username, client)
    row = await (await conn.execute(queries.PASSWORD_HASH, (principal.user_id,))).fetchone()
    stored = row["password_hash"] if row is not None else ""
    if row is None or not await anyio.to_thread.run_sync(verify_password, stored, body.current_password):
        await limiter.failed(conn, principal.username, client)
        raise Forbidden("the current password is not correct")
    await limiter.succeeded(conn, principal.username, client, recent_failures)
    new_hash = await anyio.to_thread.run_sync(hash_password, body.new_password)
    async with durable(conn):
        updated = await (await conn.execute(queries.SET_PASSWORD, (new_hash, principal.user_id))).fetchone()
        if updated is None:
            raise NotFound(f"user {principal.user_id} not found")
        await record(conn, principal, "change_password", resource=f"users/{principal.user_id}",
                     client_addr=client_addr, detail={"tokens_revoked": True})
    tokens.forget(principal.user_id)
    return Principal(principal.user_id, principal.username, principal.role, principal.region_id,
                     updated["token_version"])
