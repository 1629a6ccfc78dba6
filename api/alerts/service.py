"""Alert inbox and lifecycle: list, acknowledge, resolve, snooze; every action audited.

The API reads and scopes; the actions themselves (and their ``alert_actions`` rows) are the
store's alerts service (``store.alerts.actions``), in the same durable transaction. Resolving
as ``called`` or ``visited`` also writes a contact (CONTRACT §5.2) in that transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Final

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from api.alerts import queries
from api.alerts.models import (
    TRAIL_ACTIONS,
    Alert,
    AlertAction,
    AlertFilters,
    InboxAlert,
    with_summary_text,
)
from api.audit.service import audited, record
from api.contacts.models import CHANNEL_OF_OUTCOME
from api.contacts.service import record_contact
from api.db import durable
from api.errors import Conflict, NotFound
from api.pagination import BigIdCursor, decode_cursor, page
from api.principal import Principal, enrollee_scope
from store.alerts import actions

INBOX_LIMIT = 500
TRAIL_LIMIT: Final = 20  # the newest actions of each alert the inbox shows


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
    params.update(status=status, severity=severity, kind=kind, enrollee_id=enrollee_id, name=None,
                  since=since, before_id=position.id if position else None, limit=limit + 1)
    filters = {k: str(v) for k, v in (("status", status), ("severity", severity), ("kind", kind)) if v}
    query, params = audited(query, params, principal, "list_alerts", enrollee_id=enrollee_id,
                            resource="alerts", client_addr=client_addr, detail={"filters": filters})
    rows = await (await conn.execute(query, params)).fetchall()
    now = datetime.now(UTC)
    return page([with_summary_text(row, now) for row in rows], limit, lambda alert: {"id": alert["id"]})


def name_pattern(text: str) -> str:
    """An ILIKE pattern for a part of a name: ``%``, ``_`` and ``\\`` match themselves."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _filter_params(filters: AlertFilters) -> dict[str, Any]:
    return {"status": filters.status, "severity": filters.severity, "kind": filters.kind,
            "enrollee_id": filters.enrollee_id,
            "name": name_pattern(filters.name) if filters.name else None}


async def inbox(
    conn: AsyncConnection[DictRow], principal: Principal, client_addr: str | None,
    filters: AlertFilters | None = None,
) -> list[InboxAlert]:
    """Alerts the caller may see that are not resolved (or of ``filters.status``), critical
    first, snoozed last, longest waiting first, with their trails (audited in the statement)."""
    filters = filters or AlertFilters()
    query, params = _scoped(queries.INBOX, principal)
    params.update(_filter_params(filters), limit=INBOX_LIMIT)
    query, params = audited(query, params, principal, "view_inbox", resource="app/inbox",
                            client_addr=client_addr, detail={"filters": filters.shown()})
    rows = await (await conn.execute(query, params)).fetchall()
    return await _with_trails(conn, rows)


async def history(
    conn: AsyncConnection[DictRow], principal: Principal, filters: AlertFilters, *,
    limit: int, cursor: str | None, client_addr: str | None,
) -> tuple[list[InboxAlert], str | None]:
    """Resolved alerts the caller may see, newest first (the cursor of ``GET /v1/alerts``),
    with who acknowledged and resolved them and the notes (audited in the statement)."""
    position = decode_cursor(cursor, BigIdCursor)
    query, params = _scoped(queries.HISTORY, principal)
    params.update(_filter_params(filters), before_id=position.id if position else None,
                  limit=limit + 1)
    shown = {**filters.shown(), "status": "resolved"}
    query, params = audited(query, params, principal, "view_alert_history", resource="app/inbox",
                            client_addr=client_addr, detail={"filters": shown})
    rows = await (await conn.execute(query, params)).fetchall()
    page_rows, next_cursor = page(list(rows), limit, lambda alert: {"id": alert["id"]})
    return await _with_trails(conn, page_rows), next_cursor


async def inbox_alert(
    conn: AsyncConnection[DictRow], principal: Principal, alert_id: int, client_addr: str | None,
) -> InboxAlert:
    """One alert as the inbox shows it (a card for a live update); 404 outside the scope."""
    async with conn.transaction():
        query, params = _scoped(queries.INBOX_ONE, principal)
        params["alert_id"] = alert_id
        row = await (await conn.execute(query, params)).fetchone()
        if row is None:
            raise NotFound(f"alert {alert_id} not found")
        await record(conn, principal, "view_inbox_alert", enrollee_id=row["enrollee_id"],
                     resource=f"alert/{alert_id}", client_addr=client_addr)
    return (await _with_trails(conn, [row]))[0]


async def _with_trails(conn: AsyncConnection[DictRow], rows: Sequence[DictRow]) -> list[InboxAlert]:
    """The rows as ``InboxAlert`` with the newest ``TRAIL_LIMIT`` actions of each (one query)."""
    trails: dict[int, list[AlertAction]] = {int(row["id"]): [] for row in rows}
    if trails:
        found = await (await conn.execute(queries.TRAILS, {
            "alert_ids": list(trails), "actions": list(TRAIL_ACTIONS), "per_alert": TRAIL_LIMIT,
        })).fetchall()
        for action in found:
            trails[int(action["alert_id"])].append(AlertAction.model_validate(action))
    return [InboxAlert.model_validate({**row, "trail": trails[int(row["id"])]}) for row in rows]


async def get_alert(conn: AsyncConnection[DictRow], principal: Principal, alert_id: int) -> Alert:
    query, params = _scoped(queries.ONE, principal)
    params["alert_id"] = alert_id
    row = await (await conn.execute(query, params)).fetchone()
    if row is None:
        raise NotFound(f"alert {alert_id} not found")
    return Alert.model_validate(row)


async def list_actions(
    conn: AsyncConnection[DictRow], principal: Principal, alert_id: int, *,
    limit: int, cursor: str | None, client_addr: str | None,
) -> tuple[list[AlertAction], str | None]:
    """An alert's trail, oldest first; 404 outside the caller's scope (audited in the read)."""
    position = decode_cursor(cursor, BigIdCursor)
    alert = await get_alert(conn, principal, alert_id)
    query, params = audited(
        queries.ACTIONS,
        {"alert_id": alert_id, "after_id": position.id if position else None, "limit": limit + 1},
        principal, "read_alert_actions", enrollee_id=alert.enrollee_id,
        resource=f"alert/{alert_id}/actions", client_addr=client_addr,
    )
    rows = await (await conn.execute(query, params)).fetchall()
    return page([AlertAction.model_validate(row) for row in rows], limit,
                lambda action: {"id": action.id})


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
    """open or acknowledged → resolved with a note and an outcome; 409 when already resolved.
    Outcome ``called`` or ``visited`` also writes a ``phone`` or ``visit`` contact with the
    note and the alert's id (``api.contacts.service.record_contact``), in the same transaction."""
    async with durable(conn):
        alert = await _lock(conn, principal, alert_id)
        with _conflict():
            await actions.resolve(conn, alert_id, user_id=principal.user_id, note=note,
                                  outcome=outcome, client_addr=client_addr)
        detail: dict[str, Any] = {"outcome": outcome} if outcome else {}
        channel = CHANNEL_OF_OUTCOME.get(outcome) if outcome else None
        if channel is not None:  # CONTRACT §5.2: the call or the visit is in the contact log
            contact = await record_contact(
                conn, enrollee_id=alert["enrollee_id"], user_id=principal.user_id,
                channel=channel, note=note, outcome=outcome, alert_id=alert_id,
            )
            detail["contact_id"] = contact.id
        await _audit(conn, principal, alert, "resolve", client_addr, detail or None)
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
