"""Helpers for analytics tests: store readings/events with SQL and queue them for scoring."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

import psycopg
import pytest
from psycopg.types.json import Jsonb

from dolbom.wire import EVENT_CODES, METRIC_BY_NAME


def store_readings(
    conn: psycopg.Connection, device: int, enrollee_id: int, rows: Iterable[tuple[datetime, str, float]]
) -> None:
    """COPY readings in and add one scoring_queue row covering them (as ingest does)."""
    rows = list(rows)
    with conn.cursor() as cur, cur.copy("COPY readings (device, metric, ts, value) FROM STDIN") as copy:
        for ts, metric, value in rows:
            copy.write_row((device, METRIC_BY_NAME[metric].code, ts, value))
    if rows:
        conn.execute(
            "INSERT INTO scoring_queue (enrollee_id, ts_min, ts_max) VALUES (%s, %s, %s)",
            (enrollee_id, min(r[0] for r in rows), max(r[0] for r in rows)),
        )


def store_events(
    conn: psycopg.Connection, device: int, enrollee_id: int, rows: Iterable[tuple[datetime, str, dict | None]]
) -> None:
    rows = list(rows)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO events (device, enrollee_id, type, ts, data) VALUES (%s, %s, %s, %s, %s)",
            [(device, enrollee_id, EVENT_CODES[t], ts, None if d is None else Jsonb(d)) for ts, t, d in rows],
        )
    if rows:
        conn.execute(
            "INSERT INTO scoring_queue (enrollee_id, ts_min, ts_max) VALUES (%s, %s, %s)",
            (enrollee_id, min(r[0] for r in rows), max(r[0] for r in rows)),
        )


def alerts_of(conn: psycopg.Connection, enrollee_id: int) -> list[tuple]:
    return conn.execute(
        "SELECT kind, severity, status, occurrences, summary, evidence, outcome FROM alerts "
        "WHERE enrollee_id = %s ORDER BY id",
        (enrollee_id,),
    ).fetchall()


@pytest.fixture
def enrollee(db: psycopg.Connection) -> int:
    from tests.factories import make_enrollee

    return make_enrollee(db)


@pytest.fixture
def ref_db_url(template_db: str) -> Iterator[str]:
    """A second fresh, migrated database (a reference run over the same data)."""
    from tests.conftest import cloned_database

    with cloned_database(template_db, "dolbom_r") as url:
        yield url
