"""The alerts as analytics judges them (open and acknowledged ones, the latest breach and
clearance of each condition) and what a cycle changes in them: ``write_changes`` raises
through ``store.alerts.raise_alert``, ends snoozes, auto-resolves and escalates through
``store.alerts.automatic``, and moves the conditions' breach and clearance times."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg

from analytics.lifecycle import ActiveAlert, AlertChanges, AutoResolve, Mark
from analytics.queries import fetch
from dolbom.alerts import AlertKind, AlertStatus, Severity
from dolbom.jsonsafe import shown
from dolbom.timeutil import epoch, utc
from store.alerts import automatic, raise_alert


def active_alerts(
    conn: psycopg.Connection,
    enrollee_ids: Sequence[int] | None = None,
    *,
    shards: Sequence[int] | None = None,
) -> list[ActiveAlert]:
    """Open and acknowledged alerts (all, of ``enrollee_ids``, or of ``shards``' enrollees)."""
    sql = (
        "SELECT id, enrollee_id, kind, severity, status, last_seen_at, onset_at, snoozed_until, "
        "escalated_at IS NOT NULL FROM alerts WHERE status <> 'resolved'"
    )
    params: tuple[Any, ...] = ()
    if enrollee_ids is not None:
        sql += " AND enrollee_id = ANY(%s::int[])"
        params += (fetch.int_array(enrollee_ids),)
    if shards is not None:
        sql += " AND analytics_shard(enrollee_id) = ANY(%s)"
        params += (list(shards),)
    known = {kind.value for kind in AlertKind}
    return [
        ActiveAlert(
            alert_id=int(r[0]),
            enrollee_id=int(r[1]),
            kind=AlertKind(r[2]),
            severity=Severity(r[3]),
            status=AlertStatus(r[4]),
            last_seen_ts=epoch(r[5]),
            onset_ts=epoch(r[6]),
            snoozed_until_ts=None if r[7] is None else epoch(r[7]),
            escalated=bool(r[8]),
        )
        for r in conn.execute(sql, params)
        if r[2] in known  # a kind outside the catalogue (stored before it) is nobody's to manage
    ]


def _mark_condition(conn: psycopg.Connection, column: str, rows: Iterable[Mark]) -> None:
    """Move ``column`` of (enrollee, kind) forward to the latest time given (one statement)."""
    latest: dict[tuple[int, AlertKind], float] = {}
    for e, k, t in rows:
        latest[(e, k)] = max(t, latest.get((e, k), t))
    if not latest:
        return
    conn.execute(
        f"INSERT INTO analytics_conditions AS c (enrollee_id, kind, {column}) "
        "SELECT * FROM unnest(%s::int[], %s::text[], %s::timestamptz[]) "
        "ON CONFLICT (enrollee_id, kind) DO UPDATE SET "
        f"{column} = greatest(c.{column}, EXCLUDED.{column})",
        ([k[0] for k in latest], [k[1] for k in latest], [utc(t) for t in latest.values()]),
    )


def mark_breach(conn: psycopg.Connection, rows: Iterable[Mark]) -> None:
    _mark_condition(conn, "last_breach_ts", rows)


def mark_clear(conn: psycopg.Connection, rows: Iterable[Mark]) -> None:
    _mark_condition(conn, "last_clear_ts", rows)


def conditions(
    conn: psycopg.Connection, pairs: Sequence[tuple[int, AlertKind]]
) -> dict[tuple[int, AlertKind], tuple[float | None, float | None]]:
    """The latest breach and clearance times (None: never) of each (enrollee, kind) asked."""
    if not pairs:
        return {}
    rows = conn.execute(
        "SELECT c.enrollee_id, c.kind, c.last_breach_ts, c.last_clear_ts FROM analytics_conditions c "
        "JOIN unnest(%s::int[], %s::text[]) AS p(e, k) ON p.e = c.enrollee_id AND p.k = c.kind",
        ([p[0] for p in pairs], [p[1] for p in pairs]),
    ).fetchall()
    return {
        (int(r[0]), AlertKind(r[1])): (
            None if r[2] is None else epoch(r[2]),
            None if r[3] is None else epoch(r[3]),
        )
        for r in rows
    }


def write_changes(conn: psycopg.Connection, changes: AlertChanges, now: float) -> None:
    """Write a cycle's alert changes as of data time ``now``: raise (an alert's onset is its
    finding's, never after ``now``), end the snoozes a worse level went through, move the
    conditions' breach and clearance times, then auto-resolve and escalate."""
    scored_at = utc(now).isoformat()
    for f in changes.raised:
        raise_alert(
            conn,
            enrollee_id=f.enrollee_id,
            kind=f.kind,
            severity=f.severity,
            summary=f.summary[:500],
            evidence=shown({**f.evidence, "scored_at": scored_at}),
            data_ts=utc(min(f.onset_ts, now)),
            source="analytics",
        )
    automatic.end_snooze(conn, changes.snooze_ended)
    mark_breach(conn, changes.breaches)
    mark_clear(conn, changes.clears)
    for follow_up in changes.follow_ups:
        if isinstance(follow_up, AutoResolve):
            automatic.auto_resolve(conn, follow_up.alert_id, utc(now), follow_up.detail)
        else:
            automatic.escalate(conn, follow_up.alert_id, utc(now), follow_up.reason)
