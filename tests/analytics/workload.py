"""A deterministic workload over all 64 shards for the scale-out tests: a few hundred enrollees,
30 hours of data stored with SQL (as ingest stores it, with interleaved queue rows), and a
condition per enrollee that analytics must find; plus how to compare two runs' alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dolbom.wire import EVENT_CODES, METRIC_BY_NAME
from tests.factories import make_device, make_enrollee, make_region, make_user

T = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)  # 14:00 in Seoul: waking hours
START = T - timedelta(hours=30)
PEOPLE = 192  # three per shard on average
# What each enrollee has (by index modulo len(CONDITIONS)) and the alert it must raise.
CONDITIONS: tuple[tuple[str, str | None], ...] = (
    ("control", None),
    ("hypoglycemia", "hypoglycemia"),
    ("crisis", "hypertensive_crisis"),
    ("fever", "fever"),
    ("night_door", "night_wandering"),
    ("inactive", "inactivity"),
    ("battery", "low_battery"),
    ("checkins", "missed_checkins"),
    ("silent", "no_data"),
)
HOUR = timedelta(hours=1)
KST = timedelta(hours=9)


def _local(day_offset: int, hour: float) -> datetime:
    """UTC time of local (Seoul) ``hour`` on T's local day + ``day_offset``."""
    local_midnight = (T + KST).replace(hour=0, minute=0, second=0, microsecond=0) - KST
    return local_midnight + timedelta(days=day_offset, hours=hour)


def populate(conn: psycopg.Connection) -> dict[int, str]:
    """Store the workload; returns enrollee id -> condition. Deterministic: two fresh
    databases get the same ids and rows."""
    region = make_region(conn, "scale-out")
    make_user(conn, "center_staff", region, username="staff-scale-out")
    people: dict[int, str] = {}
    readings: list[tuple[int, int, datetime, float]] = []
    events: list[tuple[int, int, int, datetime, Any]] = []
    spans: list[tuple[int, datetime, datetime]] = []  # (enrollee, ts) of everything, for the queue
    for i in range(PEOPLE):
        condition = CONDITIONS[i % len(CONDITIONS)][0]
        e = make_enrollee(conn, region, name=f"p{i}")
        people[e] = condition
        band, _ = make_device(conn, e, "wearable", device_id=f"band-{i}")
        pir, _ = make_device(conn, e, "motion_sensor", device_id=f"pir-{i}", room="living")
        door, _ = make_device(conn, e, "door_sensor", device_id=f"door-{i}", room="entrance")

        def reading(device: int, metric: str, ts: datetime, value: float, e: int = e) -> None:
            readings.append((device, METRIC_BY_NAME[metric].code, ts, value))
            spans.append((e, ts, ts))

        def event(device: int, kind: str, ts: datetime, data: Any = None, e: int = e) -> None:
            events.append((device, e, EVENT_CODES[kind], ts, data))
            spans.append((e, ts, ts))

        speaker = 0
        if condition == "checkins":
            speaker, _ = make_device(conn, e, "ai_speaker", device_id=f"spk-{i}")
        silent_after = T - 20 * HOUR if condition == "silent" else T
        ts = START
        while ts < silent_after:
            reading(band, "heart_rate", ts, 66 + (i + ts.minute) % 9)
            if ts.minute == 0:  # an inactive day: no steps either after 08:30
                still = condition == "inactive" and ts > _local(0, 8.5)
                reading(band, "steps", ts, 0 if still else 40 + i % 30)
            ts += timedelta(minutes=10)
        for day in (-1, 0):
            last_motion = 8.5 if (condition == "inactive" and day == 0) else 21.0
            hour = 7.25
            while hour <= last_motion and _local(day, hour) < silent_after:
                if START <= _local(day, hour) < T:
                    event(pir, "motion", _local(day, hour))
                hour += 1.0
            if condition == "checkins":
                event(speaker, "checkin", _local(day, 10), Jsonb({"answered": False}))
        if condition == "night_door":
            event(door, "door_open", _local(0, 2.5))
        if condition == "hypoglycemia":
            meter, _ = make_device(conn, e, "glucometer", device_id=f"glu-{i}")
            reading(meter, "glucose", T - 3 * HOUR, 50)
            reading(meter, "glucose", T - 3 * HOUR + timedelta(minutes=15), 61)
        if condition == "crisis":
            cuff, _ = make_device(conn, e, "bp_monitor", device_id=f"bp-{i}")
            reading(cuff, "systolic_bp", T - 40 * timedelta(minutes=1), 190)
            reading(cuff, "diastolic_bp", T - 40 * timedelta(minutes=1), 104)
            reading(cuff, "systolic_bp", T - 35 * timedelta(minutes=1), 186)
        if condition == "fever":
            reading(band, "body_temp", T - 5 * HOUR, 38.5)
        if condition == "battery":
            conn.execute(
                "UPDATE devices SET battery = 9, online = true, status_at = %s WHERE id = %s",
                (T - 2 * HOUR, band),
            )
    with conn.cursor() as cur, cur.copy("COPY readings (device, metric, ts, value) FROM STDIN") as copy:
        for row in readings:
            copy.write_row(row)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO events (device, enrollee_id, type, ts, data) VALUES (%s, %s, %s, %s, %s)", events
        )
    # as ingest writes it: a queue row per enrollee and batch, batches every 6 hours of data
    queue: dict[tuple[int, int], list[datetime]] = {}
    for e, lo, _ in spans:
        chunk = int((lo - START) / (6 * HOUR))
        queue.setdefault((chunk, e), []).append(lo)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO scoring_queue (enrollee_id, ts_min, ts_max) VALUES (%s, %s, %s)",
            [(e, min(times), max(times)) for (_, e), times in sorted(queue.items())],
        )
    return people


def expected_alerts(people: dict[int, str]) -> set[tuple[int, str]]:
    kinds = dict(CONDITIONS)
    return {(e, kind) for e, c in people.items() if (kind := kinds[c]) is not None}


def alert_history(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """Every alert with its lifecycle (severity, status, occurrences, summary, escalated,
    outcome), its actions in order and how many changes the SSE feed saw: what two runs over
    the same data must agree on (ids and wall-clock times aside)."""
    return [
        (*r[:10], tuple(r[10] or ()), r[11])
        for r in conn.execute(
            "SELECT a.enrollee_id, a.kind, a.severity, a.status, a.occurrences, a.summary, "
            "a.escalated_at IS NOT NULL, a.outcome, a.onset_at, a.last_seen_at, "
            "(SELECT array_agg(x.action ORDER BY x.id) FROM alert_actions x WHERE x.alert_id = a.id), "
            "(SELECT count(*) FROM alert_changes c WHERE c.alert_id = a.id) "
            "FROM alerts a ORDER BY a.enrollee_id, a.kind, a.onset_at"
        )
    ]


def assert_each_alert_once(conn: psycopg.Connection) -> None:
    """One alert per (enrollee, kind), opened once."""
    twice = conn.execute(
        "SELECT enrollee_id, kind, count(*) FROM alerts GROUP BY 1, 2 HAVING count(*) > 1"
    ).fetchall()
    assert twice == [], f"alerts opened more than once: {twice}"
    reopened = conn.execute(
        "SELECT alert_id, count(*) FROM alert_actions WHERE action = 'open' GROUP BY 1 HAVING count(*) <> 1"
    ).fetchall()
    assert reopened == [], reopened


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
