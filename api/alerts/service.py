"""Alert inbox and lifecycle: list, acknowledge, resolve, snooze; every action audited.

The API reads and scopes; the actions themselves (and their ``alert_actions`` rows) are the
store's alerts service (``store.alerts.actions``), in the same durable transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from api.alerts import queries
from api.alerts.models import Alert, AlertAction
from api.audit.service import audited, record
from api.db import durable
from api.errors import Conflict, NotFound
from api.pagination import BigIdCursor, decode_cursor, page
from api.principal import Principal, enrollee_scope
from store.alerts import actions

INBOX_LIMIT = 500


def _scoped(template: str, principal: Principal) -> tuple[sql.Composed, dict[str, Any]]:
    scope, params = enrollee_scope(principal)
    return sql.SQL(template).format(scope=scope), dict(params)  # type: ignore[arg-type]


async def list_alerts(
    conn: AsyncConnection[DictRow],
    principal: Principal,
    *,
    status: str | None = None,
    severity: str | None = None,
    kind: str | None = None,
    enrollee_id: int | None = None,
    since: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
    client_addr: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Alerts the caller may see, newest first, as rows shaped like ``Alert`` (audited read)."""
    position = decode_cursor(cursor, BigIdCursor)
    query, params = _scoped(queries.LIST, principal)
    params.update(status=status, severity=severity, kind=kind, enrollee_id=enrollee_id,
                  since=since, before_id=position.id if position else None, limit=limit + 1)
    filters = {k: str(v) for k, v in (("status", status), ("severity", severity), ("kind", kind)) if v}
    query, params = audited(query, params, principal, "list_alerts", enrollee_id=enrollee_id,
                            resource="alerts", client_addr=client_addr, detail={"filters": filters})
    rows = await (await conn.execute(query, params)).fetchall()
    return page(list(rows), limit, lambda alert: {"id": alert["id"]})


async def inbox(
    conn: AsyncConnection[DictRow], principal: Principal, client_addr: str | None
) -> list[Alert]:
    """Unresolved alerts the caller may see, critical first, longest waiting first (audited)."""
    query, params = _scoped(queries.INBOX, principal)
    params["limit"] = INBOX_LIMIT
    rows = await (await conn.execute(query, params)).fetchall()
    await record(conn, principal, "view_inbox", resource="app/inbox", client_addr=client_addr,
                 detail={"returned": len(rows)})
    return [Alert.model_validate(row) for row in rows]


async def get_alert(conn: AsyncConnection[DictRow], principal: Principal, alert_id: int) -> Alert:
    query, params = _scoped(queries.ONE, principal)
    params["alert_id"] = alert_id
    row = await (await conn.execute(query, params)).fetchone()
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    return Alert.model_validate(row)


async def actions_of(conn: AsyncConnection[DictRow], alert_id: int) -> list[AlertAction]:
    rows = await (await conn.execute(queries.ACTIONS, (alert_id,))).fetchall()
    return [AlertAction.model_validate(row) for row in rows]


async def _lock(
    conn: AsyncConnection[DictRow], principal: Principal, alert_id: int
) -> dict[str, Any]:
    query, params = _scoped(queries.ONE_FOR_UPDATE, principal)
    params["alert_id"] = alert_id
    row = await (await conn.execute(query, params)).fetchone()
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    return dict(row)


async def _audit(
    conn: AsyncConnection[DictRow], principal: Principal, alert: dict[str, Any], action: str,
    client_addr: str | None, detail: dict[str, Any] | None,
) -> None:
    await record(conn, principal, f"{action}_alert", enrollee_id=alert["enrollee_id"],
                 resource=f"alert/{alert['id']}", client_addr=client_addr, detail=detail)


async def acknowledge(
    conn: AsyncConnection[DictRow], principal: Principal, alert_id: int, note: str | None,
    client_addr: str | None,
) -> Alert:
    """open → acknowledged; 409 from any other status."""
    async with durable(conn):
        alert = await _lock(conn, principal, alert_id)
        with _conflict():
            await actions.acknowledge(conn, alert_id, user_id=principal.user_id, note=note,
                                      client_addr=client_addr)
        await _audit(conn, principal, alert, "acknowledge", client_addr, None)
        return await get_alert(conn, principal, alert_id)


async def resolve(
    conn: AsyncConnection[DictRow], principal: Principal, alert_id: int, note: str,
    outcome: str | None, client_addr: str | None,
) -> Alert:
    """open or acknowledged → resolved with a note and an outcome; 409 when already resolved."""
    async with durable(conn):
        alert = await _lock(conn, principal, alert_id)
        with _conflict():
            await actions.resolve(conn, alert_id, user_id=principal.user_id, note=note,
                                  outcome=outcome, client_addr=client_addr)
        await _audit(conn, principal, alert, "resolve", client_addr,
                     {"outcome": outcome} if outcome else None)
        return await get_alert(conn, principal, alert_id)


async def snooze(
    conn: AsyncConnection[DictRow], principal: Principal, alert_id: int, minutes: int,
    note: str | None, client_addr: str | None,
) -> Alert:
    """Push an unresolved alert down the inbox for a while; a worse level re-opens it."""
    async with durable(conn):
        alert = await _lock(conn, principal, alert_id)
        with _conflict():
            await actions.snooze(conn, alert_id, user_id=principal.user_id, minutes=minutes,
                                 note=note, client_addr=client_addr)
        await _audit(conn, principal, alert, "snooze", client_addr, {"minutes": minutes})
        return await get_alert(conn, principal, alert_id)


@contextmanager
def _conflict() -> Iterator[None]:
    """The store's refusal of an action, as the API's 409."""
    try:
        yield
    except actions.ActionRefused as refused:
        raise Conflict(str(refused)) from refused
