"""The alert change feed, for the API's stream (CONTRACT §3 ``GET /v1/alerts/stream``).

Every insert or update of ``alerts`` gets an increasing id in ``alert_changes`` and a NOTIFY
on ``CHANNEL`` with ``change_id:alert_id`` (trigger ``alerts_changed``, 0001_core.sql; rows
kept 30 days, ``store.retention``). A listener reads each notified alert with
``alert_for_stream``; after a lost connection it replays ``changes_after`` its last id; a
client resuming after ``Last-Event-ID`` gets ``changed_since``, limited to what it may see
by a predicate the caller gives (the store knows nothing of who is asking).

Alert rows have the columns of ``queries.COLUMNS`` (the alert object of ``GET /v1/alerts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row, tuple_row

from store.alerts import queries

CHANNEL: Final = "dolbom_alerts"
CHANGES_AFTER_LIMIT: Final = 10_000
_OWN_PARAMS: Final = frozenset({"feed_after", "feed_limit"})


def parse_notification(payload: str) -> tuple[int, int] | None:
    """``(change_id, alert_id)`` of a ``CHANNEL`` payload, None when it is not one."""
    change_text, sep, alert_text = payload.partition(":")
    try:
        return (int(change_text), int(alert_text)) if sep else None
    except ValueError:
        return None


async def latest_change(conn: AsyncConnection[Any]) -> int:
    """The newest change id (0 when there is none): where a new listener starts."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(queries.LATEST_CHANGE)
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def changes_after(
    conn: AsyncConnection[Any], after: int, limit: int = CHANGES_AFTER_LIMIT,
) -> list[tuple[int, int]]:
    """``(change_id, alert_id)`` of the changes after ``after``, oldest first."""
    async with conn.cursor(row_factory=tuple_row) as cur:
        await cur.execute(queries.CHANGES_AFTER, (after, limit))
        return [(int(change_id), int(alert_id)) for change_id, alert_id in await cur.fetchall()]


async def alert_for_stream(conn: AsyncConnection[Any], alert_id: int) -> dict[str, Any] | None:
    """One alert, with ``scope_region_id`` and ``scope_care_worker_id`` (its enrollee's region
    and care worker) for a fan-out to decide who may see it; None when it is gone."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(queries.FOR_STREAM, (alert_id,))
        return await cur.fetchone()


async def changed_since(
    conn: AsyncConnection[Any], after: int, *, scope: sql.Composable,
    scope_params: Mapping[str, Any], limit: int,
) -> list[dict[str, Any]]:
    """Every alert changed after change ``after`` and matching ``scope``, once each, at its
    latest change (``change_id``), oldest change first, at most ``limit``.

    ``scope`` is a predicate on ``enrollees e`` (and ``alerts a``) with named placeholders
    bound by ``scope_params`` (``api.principal.enrollee_scope``)."""
    if _OWN_PARAMS & scope_params.keys():
        raise ValueError(f"scope parameters may not be named {sorted(_OWN_PARAMS)}")
    query = sql.SQL(queries.CHANGED_SINCE).format(scope=scope)  # type: ignore[arg-type]
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, {**scope_params, "feed_after": after, "feed_limit": limit})
        return await cur.fetchall()
