"""Writing and listing the access audit log: who read or did what, when, from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from api.audit import queries
from api.audit.models import AuditEntry
from api.pagination import BigIdCursor, decode_cursor, page
from api.principal import Principal


async def record(
    conn: AsyncConnection[DictRow],
    principal: Principal,
    action: str,
    *,
    enrollee_id: int | None = None,
    resource: str | None = None,
    client_addr: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one audit row in the caller's transaction (it commits with the read or action)."""
    await conn.execute(
        queries.INSERT,
        (principal.user_id, principal.username, action, enrollee_id, resource, client_addr,
         Jsonb(detail) if detail is not None else None),
    )


def audited(
    query: sql.Composable | str,
    params: dict[str, Any],
    principal: Principal,
    action: str,
    *,
    enrollee_id: int | None = None,
    resource: str | None = None,
    client_addr: str | None = None,
    detail: dict[str, Any] | None = None,
) -> tuple[sql.Composed, dict[str, Any]]:
    """``query`` (a SELECT) with the insert of its audit row in front, as one statement."""
    body = query if isinstance(query, sql.Composable) else sql.SQL(query)  # type: ignore[arg-type]
    return sql.Composed([sql.SQL(queries.AUDITED_READ), body]), {  # type: ignore[arg-type]
        **params,
        "audit_user_id": principal.user_id, "audit_username": principal.username,
        "audit_action": action, "audit_enrollee_id": enrollee_id, "audit_resource": resource,
        "audit_client_addr": client_addr, "audit_detail": Jsonb(detail) if detail is not None else None,
    }


async def list_entries(
    conn: AsyncConnection[DictRow],
    *,
    user_id: int | None,
    enrollee_id: int | None,
    action: str | None,
    since: datetime | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[AuditEntry], str | None]:
    position = decode_cursor(cursor, BigIdCursor)
    rows = await (await conn.execute(queries.LIST, {
        "user_id": user_id, "enrollee_id": enrollee_id, "action": action, "since": since,
        "before_id": position.id if position else None, "limit": limit + 1,
    })).fetchall()
    entries = [AuditEntry.model_validate(row) for row in rows]
    return page(entries, limit, lambda entry: {"id": entry.id})
