"""Plain builder functions for test data (SQL, against a real database)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime

import psycopg

from dolbom.wire import METRIC_BY_NAME
from store.accounts import create_user

_seq = itertools.count(1)


def make_region(conn: psycopg.Connection, name: str | None = None) -> int:
    row = conn.execute(
        "INSERT INTO regions (name) VALUES (%s) RETURNING id",
        (name or f"region-{next(_seq)}",),
    ).fetchone()
    assert row is not None
    return int(row[0])


def make_user(
    conn: psycopg.Connection,
    role: str = "care_worker",
    region_id: int | None = None,
    username: str | None = None,
    password: str = "correct-horse-battery",
) -> int:
    if region_id is None and role != "admin":
        region_id = make_region(conn)
    return create_user(conn, username or f"user-{next(_seq)}", password, role, region_id)


def make_enrollee(
    conn: psycopg.Connection,
    region_id: int | None = None,
    care_worker_id: int | None = None,
    name: str | None = None,
    birth_year: int = 1945,
    sex: str = "F",
    conditions: Sequence[str] = (),
    thresholds: str = "{}",
) -> int:
    if region_id is None:
        region_id = make_region(conn)
    row = conn.execute(
        "INSERT INTO enrollees (region_id, care_worker_id, name, birth_year, sex, conditions,"
        " thresholds) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (region_id, care_worker_id, name or f"enrollee-{next(_seq)}", birth_year, sex,
         list(conditions), thresholds),
    ).fetchone()
    assert row is not None
    return int(row[0])


def make_device(
    conn: psycopg.Connection,
    enrollee_id: int,
    kind: str = "wearable",
    device_id: str | None = None,
    room: str | None = None,
) -> tuple[int, str]:
    """Provision a device; returns (internal id, wire device_id)."""
    wire_id = device_id or f"dev-{next(_seq)}"
    row = conn.execute(
        "INSERT INTO devices (device_id, enrollee_id, kind, room) VALUES (%s, %s, %s, %s)"
        " RETURNING id",
        (wire_id, enrollee_id, kind, room),
    ).fetchone()
    assert row is not None
    return int(row[0]), wire_id


# Issue 14 (CONTRACT §5.1-5.3): readings, contacts and the times the worklist judges by.


def make_reading(conn: psycopg.Connection, device: int, metric: str, ts: datetime, value: float) -> None:
    """One stored reading of ``metric`` (a dolbom.wire name) from internal device ``device``."""
    conn.execute("INSERT INTO readings (device, metric, ts, value) VALUES (%s, %s, %s, %s)",
                 (device, METRIC_BY_NAME[metric].code, ts, value))


def make_contact(
    conn: psycopg.Connection,
    enrollee_id: int,
    *,
    at: datetime,
    user_id: int | None = None,
    channel: str = "phone",
    note: str = "called",
    follow_up: date | None = None,
    alert_id: int | None = None,
) -> int:
    row = conn.execute(
        "INSERT INTO contacts (enrollee_id, user_id, channel, note, at, follow_up, alert_id)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (enrollee_id, user_id, channel, note, at, follow_up, alert_id),
    ).fetchone()
    assert row is not None
    return int(row[0])


def set_enrollee_timezone(conn: psycopg.Connection, enrollee_id: int, timezone: str) -> None:
    conn.execute("UPDATE enrollees SET timezone = %s WHERE id = %s", (timezone, enrollee_id))


def set_device_times(
    conn: psycopg.Connection, device: int, *, created_at: datetime | None = None,
    last_seen: datetime | None = None,
) -> None:
    """Back-date a device's provisioning, or set when it was last heard from."""
    if created_at is not None:
        conn.execute("UPDATE devices SET created_at = %s WHERE id = %s", (created_at, device))
    if last_seen is not None:
        conn.execute("UPDATE devices SET last_seen = %s WHERE id = %s", (last_seen, device))


# The caseload and worklist pages (issue 14): how to reach the person.


def set_enrollee_phone(conn: psycopg.Connection, enrollee_id: int, phone: str | None) -> None:
    conn.execute("UPDATE enrollees SET phone = %s WHERE id = %s", (phone, enrollee_id))
