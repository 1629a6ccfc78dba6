"""What people do with an alert (CONTRACT §2 lifecycle), for the API: acknowledge, resolve,
snooze, each with its ``alert_actions`` row.

These run in the caller's transaction (the API's ``durable`` one, which also holds the
scoped row lock and writes the audit record). Which status an action may leave is decided
here, in the UPDATE itself, so two people acting at once are served one after the other and
the second gets ``ActionRefused``.
"""

from __future__ import annotations

from typing import Any, Final

from psycopg import AsyncConnection
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from dolbom.alerts import AlertStatus
from dolbom.errors import DolbomError
from store.alerts import queries

# The statuses each action may be taken from.
ALLOWED_FROM: Final[dict[str, frozenset[AlertStatus]]] = {
    "acknowledge": frozenset({AlertStatus.OPEN}),
    "resolve": frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED}),
    "snooze": frozenset({AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED}),
}


class ActionRefused(DolbomError):
    """The alert's status does not allow the action (or the alert does not exist)."""

    def __init__(self, alert_id: int, action: str, status: str | None) -> None:
        self.alert_id, self.action, self.status = alert_id, action, status
        if status is None:
            message = f"alert {alert_id} does not exist"
        elif action == "acknowledge":
            message = f"alert {alert_id} is {status}, only an open alert can be acknowledged"
        elif status == AlertStatus.RESOLVED and action == "resolve":
            message = f"alert {alert_id} is already resolved"
        else:
            message = f"alert {alert_id} is {status}"
        super().__init__(message)


async def acknowledge(
    conn: AsyncConnection[Any], alert_id: int, *, user_id: int, note: str | None,
    client_addr: str | None,
) -> None:
    """open → acknowledged by ``user_id``; ``ActionRefused`` from any other status."""
    await _change(conn, "acknowledge", queries.ACKNOWLEDGE, alert_id, {"user_id": user_id})
    await _trail(conn, alert_id, "acknowledge", user_id, note, None, None, client_addr)


async def resolve(
    conn: AsyncConnection[Any], alert_id: int, *, user_id: int, note: str,
    outcome: str | None, client_addr: str | None,
) -> None:
    """open or acknowledged → resolved with a note and an outcome (a snooze ends with it)."""
    await _change(conn, "resolve", queries.RESOLVE, alert_id,
                  {"user_id": user_id, "outcome": outcome})
    await _trail(conn, alert_id, "resolve", user_id, note, outcome, None, client_addr)


async def snooze(
    conn: AsyncConnection[Any], alert_id: int, *, user_id: int, minutes: int,
    note: str | None, client_addr: str | None,
) -> None:
    """Push an unresolved alert down the inbox for ``minutes`` (a worse level re-opens it:
    ``raise_alert``); ``ActionRefused`` once resolved."""
    await _change(conn, "snooze", queries.SNOOZE, alert_id, {"minutes": minutes})
    await _trail(conn, alert_id, "snooze", user_id, note, None, {"minutes": minutes}, client_addr)


async def _change(
    conn: AsyncConnection[Any], action: str, query: str, alert_id: int, params: dict[str, Any],
) -> None:
    allowed = sorted(s.value for s in ALLOWED_FROM[action])
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(query, {**params, "alert_id": alert_id, "from": allowed})
        if await cur.fetchone() is not None:
            return
        await cur.execute(queries.STATUS, (alert_id,))
        row = await cur.fetchone()
    raise ActionRefused(alert_id, action, None if row is None else str(row[0]))


async def _trail(
    conn: AsyncConnection[Any], alert_id: int, action: str, user_id: int, note: str | None,
    outcome: str | None, detail: dict[str, Any] | None, client_addr: str | None,
) -> None:
    await conn.execute(queries.INSERT_ACTION, (
        alert_id, action, user_id, note, outcome, Jsonb(detail) if detail else None, client_addr,
    ))
