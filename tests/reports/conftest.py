"""A small region with known data for the report tests (period 2026-09, Asia/Seoul).

Every number the tests expect is derived by hand in the test modules from the data written
here; the comments say what each enrollee has.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dolbom.wire import EVENT_CODES, METRIC_BY_NAME
from tests.factories import make_device, make_enrollee, make_region, make_user

SEOUL = ZoneInfo("Asia/Seoul")
AS_OF = datetime(2026, 10, 5, 9, 0, tzinfo=SEOUL)


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SEOUL)


def sep(day_index: int, hour: int = 0, minute: int = 0) -> datetime:
    """Local instant on day ``day_index`` of September 2026 (0 = Sep 1)."""
    return local(9, 1, hour, minute) + timedelta(days=day_index)


def insert_readings(conn: psycopg.Connection, rows: Iterable[tuple[int, str, datetime, float]]) -> None:
    with conn.cursor() as cur, cur.copy("COPY readings (device, metric, ts, value) FROM STDIN") as copy:
        for device, metric, ts, value in rows:
            copy.write_row((device, METRIC_BY_NAME[metric].code, ts, value))


def insert_event(conn: psycopg.Connection, device: int, enrollee: int, kind: str, ts: datetime,
                 data: dict[str, object] | None = None) -> None:
    conn.execute(
        "INSERT INTO events (device, enrollee_id, type, ts, data) VALUES (%s, %s, %s, %s, %s)",
        (device, enrollee, EVENT_CODES[kind], ts, json.dumps(data) if data is not None else None),
    )


def insert_alert(
    conn: psycopg.Connection, enrollee: int, kind: str, severity: str, opened_at: datetime, *,
    acknowledged_after: float | None = None, resolved_after: float | None = None,
    resolved_by: int | None = None, outcome: str | None = None, action_by: int | None = None,
) -> int:
    """An alert with explicit instants (minutes after opening); ``action_by`` also writes the
    person's acknowledge/resolve rows in alert_actions."""
    ack = opened_at + timedelta(minutes=acknowledged_after) if acknowledged_after is not None else None
    res = opened_at + timedelta(minutes=resolved_after) if resolved_after is not None else None
    status = "resolved" if res else "acknowledged" if ack else "open"
    row = conn.execute(
        "INSERT INTO alerts (enrollee_id, kind, severity, status, summary, onset_at, last_seen_at,"
        " opened_at, updated_at, acknowledged_at, resolved_at, resolved_by, outcome)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (enrollee, kind, severity, status, f"{kind} alert", opened_at, opened_at, opened_at,
         opened_at, ack, res, resolved_by, outcome),
    ).fetchone()
    assert row is not None
    if action_by is not None:
        if ack:
            conn.execute("INSERT INTO alert_actions (alert_id, action, user_id, at) VALUES (%s, %s, %s, %s)",
                         (row[0], "acknowledge", action_by, ack))
        if res:
            conn.execute("INSERT INTO alert_actions (alert_id, action, user_id, outcome, at)"
                         " VALUES (%s, %s, %s, %s, %s)", (row[0], "resolve", action_by, outcome, res))
    return int(row[0])


def set_device(conn: psycopg.Connection, device: int, last_seen: datetime | None, battery: int | None,
               online: bool | None, status_at: datetime | None = None) -> None:
    conn.execute("UPDATE devices SET last_seen = %s, battery = %s, online = %s, status_at = %s"
                 " WHERE id = %s", (last_seen, battery, online, status_at, device))


@dataclass
class KnownRegion:
    region_id: int
    care_worker_id: int
    other_care_worker_id: int
    staff_id: int
    other_region_id: int
    ids: dict[str, int] = field(default_factory=dict)


def build_known_region(conn: psycopg.Connection) -> KnownRegion:
    region = make_region(conn, "행복구 보건소")
    other_region = make_region(conn)
    worker = make_user(conn, "care_worker", region, username="worker-kim")
    other_worker = make_user(conn, "care_worker", region, username="worker-lee")
    staff = make_user(conn, "center_staff", region, username="staff-park")
    known = KnownRegion(region, worker, other_worker, staff, other_region)

    def enrollee(key: str, name: str, conditions: tuple[str, ...], enrolled: datetime,
                 worker_id: int | None = worker, region_id: int = region, **extra: object) -> int:
        eid = make_enrollee(conn, region_id, worker_id, name=name, conditions=conditions, **extra)  # type: ignore[arg-type]
        conn.execute("UPDATE enrollees SET enrolled_at = %s WHERE id = %s", (enrolled, eid))
        known.ids[key] = eid
        return eid

    # A: hypertension + diabetes, all kit devices, a busy month.
    a = enrollee("A", "김영희", ("hypertension", "diabetes"), local(1, 1))
    band, _ = make_device(conn, a, "wearable")
    cuff, _ = make_device(conn, a, "bp_monitor")
    meter, _ = make_device(conn, a, "glucometer")
    speaker, _ = make_device(conn, a, "ai_speaker")
    readings: list[tuple[int, str, datetime, float]] = []
    for d in range(10):  # BP days 0-9 at 08:00: SBP 120+2d, DBP 70+d
        readings += [(cuff, "systolic_bp", sep(d, 8), 120 + 2 * d), (cuff, "diastolic_bp", sep(d, 8), 70 + d)]
    readings += [(cuff, "systolic_bp", sep(0, 20), 150), (cuff, "diastolic_bp", sep(0, 20), 95)]
    for k in range(10):  # baseline: August 11-20, SBP 130+2k, DBP 80
        readings += [(cuff, "systolic_bp", local(8, 11 + k, 8), 130 + 2 * k),
                     (cuff, "diastolic_bp", local(8, 11 + k, 8), 80)]
    for d in range(20):  # glucose days 0-19: 60 (d<2), 200 (2<=d<5), else 100
        readings.append((meter, "glucose", sep(d, 7), 60 if d < 2 else 200 if d < 5 else 100))
    for d in range(20):  # band: 12 worn hours (08-19) on days 0-14, 9 hours (08-16) on 15-19
        last = 20 if d < 15 else 17
        readings += [(band, "heart_rate", sep(d, h), 70) for h in range(8, last)]
        readings.append((band, "steps", sep(d, 12, 30), 3000))
        readings.append((band, "sleep_minutes", sep(d, 7, 5), 420 if d < 10 else 360))
    readings += [(band, "steps", local(8, 31 - k, 18), 5000) for k in range(10)]  # Aug 22-31
    insert_readings(conn, readings)
    for d in range(10):
        insert_event(conn, speaker, a, "checkin", sep(d, 10),
                     {"answered": d < 6, **({"mood": 2} if d == 0 else {})})
    insert_event(conn, speaker, a, "checkin", sep(10, 10), {"mood": 4})  # no "answered": mood given
    insert_event(conn, band, a, "fall", sep(2, 9, 58))
    insert_event(conn, speaker, a, "checkin", local(10, 1, 1), {"answered": False})  # October 1 local: out
    insert_alert(conn, a, "fall", "critical", sep(2, 10), acknowledged_after=5, resolved_after=65,
                 resolved_by=worker, outcome="false_alarm", action_by=worker)
    insert_alert(conn, a, "hypoglycemia", "high", sep(0, 9), acknowledged_after=20, resolved_after=120,
                 resolved_by=worker, outcome="visited", action_by=worker)
    insert_alert(conn, a, "low_battery", "low", sep(9, 12))
    insert_alert(conn, a, "no_data", "medium", local(8, 30, 12), acknowledged_after=1, resolved_after=2,
                 resolved_by=worker, outcome="visited", action_by=worker)  # August: out of period
    set_device(conn, band, AS_OF - timedelta(hours=1), 15, True)
    set_device(conn, cuff, AS_OF - timedelta(days=2), 80, True)
    set_device(conn, meter, AS_OF - timedelta(hours=3), 90, True)
    set_device(conn, speaker, None, None, None)

    # B: hypertension, uncontrolled BP every day, steps flat, no check-ins.
    b = enrollee("B", "박철수", ("hypertension",), local(1, 1), sex="M", worker_id=other_worker)
    b_cuff, _ = make_device(conn, b, "bp_monitor")
    b_band, _ = make_device(conn, b, "wearable")
    b_rows = [(b_cuff, "systolic_bp", sep(d, 9), 150.0) for d in range(30)]
    b_rows += [(b_cuff, "diastolic_bp", sep(d, 9), 90.0) for d in range(30)]
    b_rows += [(b_band, "steps", sep(d, 18), 1000.0) for d in range(30)]
    b_rows += [(b_band, "steps", local(8, 1 + k, 18), 1000.0) for k in range(31)]
    insert_readings(conn, b_rows)
    insert_alert(conn, b, "hypertensive_crisis", "critical", sep(14, 8), acknowledged_after=10,
                 resolved_after=300)  # closed by the system: no resolution time
    insert_alert(conn, b, "inactivity", "high", sep(19, 15), acknowledged_after=30, resolved_after=90,
                 resolved_by=other_worker, outcome="false_alarm")
    for device in (b_cuff, b_band):
        set_device(conn, device, AS_OF - timedelta(hours=2), 70, True)

    # C: diabetic, enrolled on Sep 16 (day 15) at 10:00, no data at all.
    c = enrollee("C", "이순자", ("diabetes",), sep(15, 10))
    for kind in ("glucometer", "bp_monitor"):
        device, _ = make_device(conn, c, kind)
        set_device(conn, device, AS_OF - timedelta(hours=5), 60, True)

    # D: inactive; E: enrolled after the period; F: another region. None may count.
    d_id = enrollee("D", "최민수", ("hypertension",), local(1, 1))
    conn.execute("UPDATE enrollees SET active = false WHERE id = %s", (d_id,))
    d_cuff, _ = make_device(conn, d_id, "bp_monitor")
    e_id = enrollee("E", "정미래", ("diabetes",), local(10, 2, 9))
    f_id = enrollee("F", "타지역", ("hypertension",), local(1, 1), worker_id=None, region_id=other_region)
    f_cuff, _ = make_device(conn, f_id, "bp_monitor")
    e_meter, _ = make_device(conn, e_id, "glucometer")
    insert_readings(conn, [
        (d_cuff, "systolic_bp", sep(3, 8), 180.0), (f_cuff, "systolic_bp", sep(3, 8), 190.0),
        (f_cuff, "diastolic_bp", sep(3, 8), 100.0), (e_meter, "glucose", sep(20, 8), 40.0),
    ])
    insert_alert(conn, d_id, "sos", "critical", sep(4, 8), acknowledged_after=1)
    insert_alert(conn, f_id, "sos", "critical", sep(4, 8), acknowledged_after=1)
    return known


@pytest.fixture
def known(db: psycopg.Connection) -> KnownRegion:
    return build_known_region(db)
