"""Weekly range partitions of readings and events on plain PostgreSQL.

Partitions are created ahead of time (and for the 30-day window ingest accepts); a DEFAULT
partition catches anything outside them so no reading is ever refused for want of a
partition. When a partition is created for a range the DEFAULT partition already holds rows
of, those rows are moved into it in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

PARTITIONED_TABLES = ("readings", "events")
WEEK = timedelta(days=7)


def week_start(ts: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week holding ``ts``."""
    ts = ts.astimezone(UTC)
    day = (ts - timedelta(days=ts.weekday())).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def partition_name(table: str, start: datetime) -> str:
    return f"{table}_{start:%Y%m%d}"


def is_partitioned(conn: psycopg.Connection, table: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace",
        (table,),
    ).fetchone()
    return row is not None


def existing_partitions(conn: psycopg.Connection, table: str) -> set[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
        (table,),
    ).fetchall()
    return {r[0] for r in rows}


def ensure_partitions(
    conn: psycopg.Connection,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    now: datetime | None = None,
) -> list[str]:
    """Create the weekly partitions covering [start, end); return the names created.

    Defaults: from 5 weeks before ``now`` (default: the wall clock) to 4 weeks after it
    (ingest accepts 30 days back, 5 minutes ahead). Run at migration and daily by the
    analytics scheduler. Safe to call concurrently: it takes a transaction-level advisory lock.
    """
    now = now or datetime.now(UTC)
    start = week_start(start or now - timedelta(days=35))
    end = end or now + timedelta(days=28)
    created: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('dolbom_partitions'))")
        for table in PARTITIONED_TABLES:
            if not is_partitioned(conn, table):
                continue
            have = existing_partitions(conn, table)
            lo = start
            while lo < end:
                hi = lo + WEEK
                name = partition_name(table, lo)
                if name not in have:
                    _create_partition(conn, table, name, lo, hi)
                    created.append(name)
                lo = hi
    return created


def _create_partition(
    conn: psycopg.Connection, table: str, name: str, lo: datetime, hi: datetime
) -> None:
    ident = sql.Identifier(name)
    default = sql.Identifier(f"{table}_default")
    conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)").format(
            ident, sql.Identifier(table)
        )
    )
    conn.execute(
        sql.SQL(
            "WITH moved AS (DELETE FROM {} WHERE ts >= %s AND ts < %s RETURNING *) "
            "INSERT INTO {} SELECT * FROM moved"
        ).format(default, ident),
        (lo, hi),
    )
    conn.execute(
        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
            sql.Identifier(table), ident, sql.Literal(lo), sql.Literal(hi)
        )
    )


def drop_partitions_before(
    conn: psycopg.Connection, cutoff: datetime, tables: tuple[str, ...] = PARTITIONED_TABLES
) -> list[str]:
    """Drop whole weekly partitions of ``tables`` that end at or before ``cutoff`` (retention)."""
    dropped: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('dolbom_partitions'))")
        for table in tables:
            for name in sorted(existing_partitions(conn, table)):
                suffix = name.removeprefix(f"{table}_")
                if not suffix.isdigit():
                    continue
                lo = datetime.strptime(suffix, "%Y%m%d").replace(tzinfo=UTC)
                if lo + WEEK <= cutoff:
                    conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
                    dropped.append(name)
    return dropped
