"""SQL of the simulator: provisioning regions, users, enrollees and devices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

LOCK_KEY = 0x5D0B_0051  # pg_advisory_xact_lock key: one provisioning at a time


def lock(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))


def region_id(conn: psycopg.Connection, name: str, timezone: str) -> int:
    row = conn.execute("SELECT id FROM regions WHERE name = %s", (name,)).fetchone()
    if row is None:
        row = conn.execute(
            "INSERT INTO regions (name, timezone) VALUES (%s, %s) RETURNING id", (name, timezone)
        ).fetchone()
    assert row is not None
    return int(row[0])


def user_id(conn: psycopg.Connection, username: str) -> int | None:
    row = conn.execute("SELECT id FROM users WHERE username = %s", (username,)).fetchone()
    return None if row is None else int(row[0])


def enrollee_of_device(conn: psycopg.Connection, device_id: str) -> int | None:
    row = conn.execute("SELECT enrollee_id FROM devices WHERE device_id = %s",
                       (device_id,)).fetchone()
    return None if row is None else int(row[0])


def insert_enrollee(
    conn: psycopg.Connection, *, region: int, name: str, birth_year: int, sex: str,
    care_worker: int | None, conditions: Sequence[str], timezone: str,
    enrolled_at: datetime | None,
) -> int:
    row = conn.execute(
        "INSERT INTO enrollees (region_id, name, birth_year, sex, care_worker_id, conditions,"
        " timezone, enrolled_at) VALUES (%s, %s, %s, %s, %s, %s, %s, COALESCE(%s, now()))"
        " RETURNING id",
        (region, name, birth_year, sex, care_worker, list(conditions), timezone, enrolled_at),
    ).fetchone()
    assert row is not None
    return int(row[0])


def insert_devices(
    conn: psycopg.Connection, rows: Sequence[tuple[str, int, str, str | None]]
) -> None:
    """(device_id, enrollee_id, kind, room) rows; existing device ids are left as they are."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devices (device_id, enrollee_id, kind, room) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (device_id) DO NOTHING",
            rows,
        )


def provision_load_devices(
    conn: psycopg.Connection, region: int, prefix: str, count: int
) -> int:
    """``count`` enrollees with one wearable each, device ids ``{prefix}-d000001``...;
    returns how many devices were new."""
    existing = conn.execute(
        "SELECT count(*) FROM devices WHERE device_id LIKE %s", (f"{prefix}-d%",)
    ).fetchone()
    have = int(existing[0]) if existing else 0
    if have >= count:
        return 0
    conn.execute(
        "WITH new AS ("
        "  INSERT INTO enrollees (region_id, name, birth_year, sex, timezone)"
        "  SELECT %(region)s, '부하시험 ' || n, 1945, 'F', 'Asia/Seoul'"
        "  FROM generate_series(%(first)s::int, %(last)s::int) AS n RETURNING id)"
        " INSERT INTO devices (device_id, enrollee_id, kind)"
        " SELECT %(prefix)s || '-d' || lpad(rn::text, 6, '0'), id, 'wearable'"
        " FROM (SELECT id, %(first)s::int - 1 + row_number() OVER (ORDER BY id) AS rn FROM new) t"
        " ON CONFLICT (device_id) DO NOTHING",
        {"region": region, "first": have + 1, "last": count, "prefix": prefix},
    )
    return count - have
