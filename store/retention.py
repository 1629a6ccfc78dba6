"""Retention per data class: what Dolbom keeps, for how long, and the daily job that applies it.

| data class | table(s) | kept (default) | how it goes |
|---|---|---|---|
| readings | readings (+ hourly rollup, daily features) | 3 years | whole weekly partitions / chunks dropped |
| events | events | 3 years | whole weekly partitions / chunks dropped |
| bad input | quarantine | 90 days | rows deleted |
| access audit | access_audit | 3 years (at least 2: PIPA safety measures art. 8) | rows deleted |
| resolved alerts | alerts, alert_actions | 5 years after resolution | rows deleted |
| contact log | contacts | 5 years after the contact (the alerts' setting) | rows deleted |
| alert change feed | alert_changes (SSE replay) | 30 days | rows deleted |
| scoring queue | scoring_queue | consumed rows after 7 days | rows deleted |

Time series go by whole partitions (plain PostgreSQL, ``store.partitions``) or chunks
(TimescaleDB ``drop_chunks``), so retention never rewrites a table. Open alerts and
enrollees' own records (name, devices, thresholds, phone, address, guardians) are kept while
the person is enrolled.

The contact log (calls, visits, messages with a person and their notes, migration 0052) is a
care record holding personal data: kept as long as the alerts it answers (``alerts_days``,
5 years, the period the Medical Service Act's enforcement rules art. 15 give nursing
records), then destroyed (PIPA art. 21: personal data goes once its retention period ends).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import psycopg
from psycopg import sql

from dolbom.config import Settings
from store.partitions import drop_partitions_before

DELETE_BATCH: Final = 50_000
ALERT_CHANGES_DAYS: Final = 30
QUEUE_KEEP_DAYS: Final = 7
LOCK: Final = "dolbom_retention"


@dataclass(frozen=True)
class RetentionPolicy:
    """Days kept per data class (``Settings.*_retention_days``)."""

    readings_days: int = 3 * 365
    events_days: int = 3 * 365
    quarantine_days: int = 90
    audit_days: int = 3 * 365
    alerts_days: int = 5 * 365
    alert_changes_days: int = ALERT_CHANGES_DAYS

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            readings_days=settings.readings_retention_days,
            events_days=settings.events_retention_days,
            quarantine_days=settings.quarantine_retention_days,
            audit_days=settings.audit_retention_days,
            alerts_days=settings.alerts_retention_days,
        )


def storage_engine(conn: psycopg.Connection) -> str:
    """``timescaledb`` or ``partitioned``, as recorded by migration 0002."""
    row = conn.execute("SELECT detail->>'engine' FROM job_state WHERE job = 'storage'").fetchone()
    return str(row[0]) if row and row[0] else "partitioned"


def _delete_in_batches(conn: psycopg.Connection, table: str, where: sql.Composable, params: tuple) -> int:
    """Delete matching rows ``DELETE_BATCH`` at a time (short locks, bounded WAL per statement)."""
    query = sql.SQL(
        "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {where} LIMIT {n})"
    ).format(table=sql.Identifier(table), where=where, n=sql.Literal(DELETE_BATCH))
    total = 0
    while True:
        deleted = conn.execute(query, params).rowcount
        total += deleted
        if deleted < DELETE_BATCH:
            return total


def _drop_time_series(conn: psycopg.Connection, table: str, cutoff: datetime, engine: str) -> int:
    """Drop ``table``'s data older than ``cutoff``; return partitions/chunks dropped."""
    if engine == "timescaledb":
        rows = conn.execute(
            "SELECT drop_chunks(%s::regclass, older_than => %s)", (table, cutoff)
        ).fetchall()
        return len(rows)
    dropped = len(drop_partitions_before(conn, cutoff, tables=(table,)))
    # Rows outside any weekly partition wait in the DEFAULT partition; they go by row.
    conn.execute(
        sql.SQL("DELETE FROM {} WHERE ts < %s").format(sql.Identifier(f"{table}_default")), (cutoff,)
    )
    return dropped


def apply_retention(conn: psycopg.Connection, policy: RetentionPolicy, now: datetime) -> dict[str, int]:
    """Remove what is past its retention as of ``now``; return counts per data class.

    Runs in the caller's transaction under an advisory lock, so several analytics workers
    may schedule it and it still runs once at a time.
    """
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (LOCK,))
    engine = storage_engine(conn)

    def cutoff(days: int) -> datetime:
        return now - timedelta(days=days)

    counts = {
        "readings_partitions": _drop_time_series(conn, "readings", cutoff(policy.readings_days), engine),
        "events_partitions": _drop_time_series(conn, "events", cutoff(policy.events_days), engine),
    }
    rollup = conn.execute("SELECT to_regclass('readings_hourly')").fetchone()
    if engine == "timescaledb" and rollup != (None,):
        counts["readings_partitions"] += _drop_time_series(
            conn, "readings_hourly", cutoff(policy.readings_days), engine)
    counts["daily_features"] = conn.execute(
        "DELETE FROM analytics_daily_features WHERE day < %s", (cutoff(policy.readings_days).date(),)
    ).rowcount
    counts["quarantine"] = _delete_in_batches(
        conn, "quarantine", sql.SQL("received_at < %s"), (cutoff(policy.quarantine_days),)
    )
    counts["access_audit"] = _delete_in_batches(
        conn, "access_audit", sql.SQL("at < %s"), (cutoff(policy.audit_days),)
    )
    counts["alert_changes"] = _delete_in_batches(
        conn, "alert_changes", sql.SQL("changed_at < %s"), (cutoff(policy.alert_changes_days),)
    )
    # Resolved alerts go with their actions and changes (ON DELETE CASCADE); open and
    # acknowledged ones are kept however old.
    counts["alerts"] = _delete_in_batches(
        conn, "alerts", sql.SQL("status = 'resolved' AND resolved_at < %s"), (cutoff(policy.alerts_days),)
    )
    # Contacts by when they happened, whether or not their alert is still kept (an alert
    # deleted first leaves its contacts with alert_id NULL).
    counts["contacts"] = _delete_in_batches(
        conn, "contacts", sql.SQL("at < %s"), (cutoff(policy.alerts_days),)
    )
    # Scoring-queue rows every analytics watermark has passed.
    counts["scoring_queue"] = _delete_in_batches(
        conn,
        "scoring_queue",
        sql.SQL(
            "received_at < %s AND id <= (SELECT coalesce(min(watermark), 0) FROM job_state "
            "WHERE job LIKE 'analytics.score%%')"
        ),
        (cutoff(QUEUE_KEEP_DAYS),),
    )
    return counts
