"""Every SQL statement of the reports component.

Readings and events come back aggregated per enrollee and *local* day (each enrollee's own
timezone) as numpy arrays; compute.py never sees a raw reading. Days are integers counted
from an ``origin`` date (the first day of the reported period), so the previous period and a
baseline window are negative days.

Every timezone is the stored one resolved by ``dolbom.rules.enrollee_zone`` (Asia/Seoul for
none or one the system lacks) when a row is loaded, and the local days in SQL are counted in
that resolved zone, which the caller passes with each enrollee id: Python and SQL place a
reading on the same day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import psycopg

from dolbom.rules import GLUCOSE_RANGE_MG_DL, enrollee_zone
from dolbom.wire import EVENT_CODES, METRIC_BY_NAME

GLUCOSE = METRIC_BY_NAME["glucose"].code


@dataclass(frozen=True, slots=True)
class RegionRow:
    id: int
    name: str
    timezone: str


@dataclass(frozen=True, slots=True)
class EnrolleeRow:
    id: int
    region_id: int
    name: str
    birth_year: int
    sex: str
    care_worker_id: int | None
    care_worker: str | None
    conditions: tuple[str, ...]
    timezone: str
    thresholds: dict[str, Any]
    enrolled_at: datetime
    active: bool


@dataclass(frozen=True, slots=True)
class DeviceRow:
    enrollee_id: int
    device_id: str
    kind: str
    last_seen: datetime | None
    battery: int | None
    online: bool | None
    status_at: datetime | None  # time of its newest status (online, battery)


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    enrollee_id: int
    kind: str
    severity: str
    status: str
    opened_at: datetime
    responded_at: datetime | None  # first acknowledgement or resolution by a person
    resolved_at: datetime | None
    resolved_by_person: bool
    outcome: str | None
    summary: str


@dataclass(frozen=True, slots=True)
class DailyReadings:
    """One row per (enrollee, metric, local day, from-a-wearable)."""

    enrollee: np.ndarray  # int64 enrollee ids
    metric: np.ndarray  # int16 metric codes
    wearable: np.ndarray  # bool: the reading came from the wrist band
    day: np.ndarray  # int64 days since origin
    count: np.ndarray  # int64
    total: np.ndarray  # float64 sum of values
    minimum: np.ndarray
    maximum: np.ndarray
    in_range: np.ndarray  # int64: glucose readings within dolbom.rules.GLUCOSE_RANGE_MG_DL
    below_range: np.ndarray  # int64: glucose readings below its lower end
    hours: np.ndarray  # int64 bit mask of local clock hours holding a reading

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Any, ...]]) -> DailyReadings:
        if not rows:
            empty_i = np.zeros(0, dtype=np.int64)
            empty_f = np.zeros(0, dtype=np.float64)
            return cls(empty_i, empty_i.astype(np.int16), np.zeros(0, dtype=bool), empty_i, empty_i,
                       empty_f, empty_f, empty_f, empty_i, empty_i, empty_i)
        cols = list(zip(*rows, strict=True))
        return cls(
            enrollee=np.asarray(cols[0], dtype=np.int64),
            metric=np.asarray(cols[1], dtype=np.int16),
            wearable=np.asarray(cols[2], dtype=bool),
            day=np.asarray(cols[3], dtype=np.int64),
            count=np.asarray(cols[4], dtype=np.int64),
            total=np.asarray(cols[5], dtype=np.float64),
            minimum=np.asarray(cols[6], dtype=np.float64),
            maximum=np.asarray(cols[7], dtype=np.float64),
            in_range=np.asarray(cols[8], dtype=np.int64),
            below_range=np.asarray(cols[9], dtype=np.int64),
            hours=np.asarray(cols[10], dtype=np.int64),
        )

    @classmethod
    def concat(cls, parts: Sequence[DailyReadings]) -> DailyReadings:
        if not parts:
            return cls.from_rows([])
        names = cls.__dataclass_fields__
        return cls(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in names})


@dataclass(frozen=True, slots=True)
class DailyEvents:
    """One row per (enrollee, event type, local day)."""

    enrollee: np.ndarray
    type: np.ndarray
    day: np.ndarray
    count: np.ndarray
    answered: np.ndarray  # check-ins answered (data.answered true, or a mood given)
    mood_sum: np.ndarray
    mood_n: np.ndarray

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[Any, ...]]) -> DailyEvents:
        if not rows:
            empty_i = np.zeros(0, dtype=np.int64)
            return cls(empty_i, empty_i, empty_i, empty_i, empty_i, np.zeros(0), empty_i)
        cols = list(zip(*rows, strict=True))
        return cls(
            enrollee=np.asarray(cols[0], dtype=np.int64),
            type=np.asarray(cols[1], dtype=np.int64),
            day=np.asarray(cols[2], dtype=np.int64),
            count=np.asarray(cols[3], dtype=np.int64),
            answered=np.asarray(cols[4], dtype=np.int64),
            mood_sum=np.asarray([v or 0.0 for v in cols[5]], dtype=np.float64),
            mood_n=np.asarray(cols[6], dtype=np.int64),
        )

    @classmethod
    def concat(cls, parts: Sequence[DailyEvents]) -> DailyEvents:
        if not parts:
            return cls.from_rows([])
        names = cls.__dataclass_fields__
        return cls(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in names})


def _zone_name(stored: str | None) -> str:
    return enrollee_zone(stored).key


def load_region(conn: psycopg.Connection, region: int | str) -> RegionRow | None:
    """A region by id, or by exact name when ``region`` is a string."""
    if isinstance(region, int):
        row = conn.execute("SELECT id, name, timezone FROM regions WHERE id = %s", (region,)).fetchone()
    else:
        row = conn.execute("SELECT id, name, timezone FROM regions WHERE name = %s", (region,)).fetchone()
    return RegionRow(int(row[0]), row[1], _zone_name(row[2])) if row else None


def all_regions(conn: psycopg.Connection) -> list[RegionRow]:
    rows = conn.execute("SELECT id, name, timezone FROM regions ORDER BY id").fetchall()
    return [RegionRow(int(r[0]), r[1], _zone_name(r[2])) for r in rows]


_ENROLLEE_COLUMNS = """
    SELECT e.id, e.region_id, e.name, e.birth_year, e.sex, e.care_worker_id,
           coalesce(u.display_name, u.username), e.conditions, e.timezone, e.thresholds,
           e.enrolled_at, e.active
    FROM enrollees e LEFT JOIN users u ON u.id = e.care_worker_id
"""


def _enrollee(row: tuple[Any, ...]) -> EnrolleeRow:
    return EnrolleeRow(
        id=int(row[0]), region_id=int(row[1]), name=row[2], birth_year=int(row[3]), sex=row[4],
        care_worker_id=row[5], care_worker=row[6], conditions=tuple(row[7] or ()),
        timezone=_zone_name(row[8]), thresholds=dict(row[9] or {}), enrolled_at=row[10], active=bool(row[11]),
    )


def load_enrollees(conn: psycopg.Connection, region_id: int) -> list[EnrolleeRow]:
    """Every enrollee of the region (active or not), ordered by id."""
    rows = conn.execute(_ENROLLEE_COLUMNS + " WHERE e.region_id = %s ORDER BY e.id", (region_id,))
    return [_enrollee(r) for r in rows.fetchall()]


def load_enrollee(conn: psycopg.Connection, enrollee_id: int) -> EnrolleeRow | None:
    row = conn.execute(_ENROLLEE_COLUMNS + " WHERE e.id = %s", (enrollee_id,)).fetchone()
    return _enrollee(row) if row else None


# (enrollee id, zone) pairs given by the caller: the zones resolved in Python.
_ZONES = "unnest(%(enrollees)s::integer[], %(zones)s::text[]) AS z(enrollee_id, zone)"

_DAILY_READINGS = """
    SELECT d.enrollee_id, r.metric, d.kind = 'wearable',
           (r.ts AT TIME ZONE z.zone)::date - %(origin)s::date,
           count(*), sum(r.value)::float8, min(r.value)::float8, max(r.value)::float8,
           count(*) FILTER (WHERE r.metric = %(glucose)s AND r.value >= %(glo)s AND r.value <= %(ghi)s),
           count(*) FILTER (WHERE r.metric = %(glucose)s AND r.value < %(glo)s),
           bit_or(1 << extract(hour FROM r.ts AT TIME ZONE z.zone)::int)
    FROM readings r
    JOIN devices d ON d.id = r.device
    JOIN """ + _ZONES + """ ON z.enrollee_id = d.enrollee_id
    WHERE d.enrollee_id = ANY(%(enrollees)s)
      AND r.ts >= %(since)s AND r.ts < %(until)s
      AND r.metric = ANY(%(metrics)s)
      AND (r.ts >= %(full_since)s OR r.metric = ANY(%(history_metrics)s))
    GROUP BY 1, 2, 3, 4
"""


def daily_readings(
    conn: psycopg.Connection,
    zones: Mapping[int, str],
    origin: date,
    since: datetime,
    until: datetime,
    metrics: Sequence[int],
    history_since: datetime | None = None,
    history_metrics: Sequence[int] = (),
) -> DailyReadings:
    """Readings of ``metrics`` in [since, until) aggregated per enrollee and local day, for
    the enrollees that are the keys of ``zones`` (enrollee id -> their resolved timezone).

    With ``history_since`` earlier than ``since``, ``history_metrics`` are also loaded from
    ``history_since`` (the previous period's steps and sleep, a vitals baseline). Callers
    widen the instants by a day either side and drop days outside their range: a day's
    boundaries differ by timezone.
    """
    lo = min(since, history_since) if history_since else since
    rows = conn.execute(
        _DAILY_READINGS,
        {
            "origin": origin, "glucose": GLUCOSE, "glo": GLUCOSE_RANGE_MG_DL[0],
            "ghi": GLUCOSE_RANGE_MG_DL[1], "enrollees": list(zones), "zones": list(zones.values()),
            "since": lo,
            "until": until, "metrics": list(metrics), "full_since": since,
            "history_metrics": list(history_metrics),
        },
    ).fetchall()
    return DailyReadings.from_rows(rows)


_DAILY_EVENTS = """
    SELECT v.enrollee_id, v.type, (v.ts AT TIME ZONE z.zone)::date - %(origin)s::date,
           count(*),
           count(*) FILTER (WHERE v.type = %(checkin)s AND (v.data->'answered' = 'true'::jsonb
                            OR (v.data->'answered' IS NULL AND jsonb_typeof(v.data->'mood') = 'number'))),
           sum(CASE WHEN jsonb_typeof(v.data->'mood') = 'number' THEN (v.data->>'mood')::float8 END),
           count(*) FILTER (WHERE jsonb_typeof(v.data->'mood') = 'number')
    FROM events v JOIN """ + _ZONES + """ ON z.enrollee_id = v.enrollee_id
    WHERE v.enrollee_id = ANY(%(enrollees)s) AND v.ts >= %(since)s AND v.ts < %(until)s
    GROUP BY 1, 2, 3
"""


def daily_events(
    conn: psycopg.Connection,
    zones: Mapping[int, str],
    origin: date,
    since: datetime,
    until: datetime,
) -> DailyEvents:
    """Events of every type in [since, until), counted per enrollee (the keys of ``zones``),
    type and local day."""
    rows = conn.execute(
        _DAILY_EVENTS,
        {"origin": origin, "checkin": EVENT_CODES["checkin"], "enrollees": list(zones),
         "zones": list(zones.values()), "since": since, "until": until},
    ).fetchall()
    return DailyEvents.from_rows(rows)


_ALERTS = """
    SELECT a.id, a.enrollee_id, a.kind, a.severity, a.status, a.opened_at,
           least(a.acknowledged_at, x.first_person_at), a.resolved_at,
           (a.resolved_at IS NOT NULL AND (a.resolved_by IS NOT NULL OR x.person_resolved)),
           a.outcome, a.summary
    FROM alerts a
    LEFT JOIN LATERAL (
        SELECT min(act.at) FILTER (WHERE act.action IN ('acknowledge', 'acknowledged', 'resolve', 'resolved'))
                   AS first_person_at,
               coalesce(bool_or(act.action IN ('resolve', 'resolved')), false) AS person_resolved
        FROM alert_actions act WHERE act.alert_id = a.id AND act.user_id IS NOT NULL
    ) x ON true
    WHERE a.enrollee_id = ANY(%(enrollees)s) AND a.opened_at >= %(since)s AND a.opened_at < %(until)s
    ORDER BY a.opened_at, a.id
"""


def alerts_opened(
    conn: psycopg.Connection, enrollee_ids: Sequence[int], since: datetime, until: datetime
) -> list[AlertRow]:
    """Alerts of the enrollees opened in [since, until), with response instants."""
    rows = conn.execute(
        _ALERTS, {"enrollees": list(enrollee_ids), "since": since, "until": until}
    ).fetchall()
    return [
        AlertRow(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9], r[10])
        for r in rows
    ]


def unresolved_alert_counts(conn: psycopg.Connection, enrollee_ids: Sequence[int]) -> dict[int, int]:
    """Open or acknowledged alerts per enrollee, now."""
    rows = conn.execute(
        "SELECT enrollee_id, count(*) FROM alerts WHERE enrollee_id = ANY(%s) AND status <> 'resolved'"
        " GROUP BY enrollee_id",
        (list(enrollee_ids),),
    ).fetchall()
    return {int(r[0]): int(r[1]) for r in rows}


def devices(conn: psycopg.Connection, enrollee_ids: Sequence[int]) -> list[DeviceRow]:
    """Provisioned (not removed) devices of the enrollees, with their current state."""
    rows = conn.execute(
        "SELECT enrollee_id, device_id, kind, last_seen, battery, online, status_at FROM devices"
        " WHERE enrollee_id = ANY(%s) AND removed_at IS NULL ORDER BY enrollee_id, device_id",
        (list(enrollee_ids),),
    ).fetchall()
    return [DeviceRow(int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


@dataclass(frozen=True, slots=True)
class StoredReport:
    id: int
    region_id: int
    period: str
    kind: str
    generated_at: datetime
    as_of: datetime
    enrollees: int


_STORED_COLUMNS = "id, region_id, period, kind, generated_at, as_of, enrollees"


def store_report(
    conn: psycopg.Connection, region_id: int, period: str, as_of: datetime, enrollees: int,
    report_json: bytes, csv_text: str, pdf: bytes, *, replace: bool,
) -> int | None:
    """Insert (or with ``replace``, overwrite) a finished report; its id, or None when one
    already existed and ``replace`` is false."""
    conflict = "DO NOTHING"
    if replace:
        conflict = ("DO UPDATE SET generated_at = now(), as_of = EXCLUDED.as_of,"
                    " enrollees = EXCLUDED.enrollees, report = EXCLUDED.report, csv = EXCLUDED.csv,"
                    " pdf = EXCLUDED.pdf")
    row = conn.execute(
        "INSERT INTO stored_reports (region_id, period, kind, as_of, enrollees, report, csv, pdf)"
        " VALUES (%s, %s, 'regional', %s, %s, %s::jsonb, %s, %s)"
        " ON CONFLICT (region_id, period, kind) " + conflict + " RETURNING id",  # type: ignore[operator]
        (region_id, period, as_of, enrollees, report_json.decode("utf-8"), csv_text, pdf),
    ).fetchone()
    return int(row[0]) if row else None


def stored_report_exists(conn: psycopg.Connection, region_id: int, period: str) -> bool:
    row = conn.execute("SELECT 1 FROM stored_reports WHERE region_id = %s AND period = %s"
                       " AND kind = 'regional'", (region_id, period)).fetchone()
    return row is not None


def list_stored_reports(conn: psycopg.Connection, region_id: int) -> list[StoredReport]:
    rows = conn.execute(f"SELECT {_STORED_COLUMNS} FROM stored_reports WHERE region_id = %s"  # type: ignore[arg-type]
                        " ORDER BY period DESC, id DESC", (region_id,)).fetchall()
    return [StoredReport(int(r[0]), int(r[1]), r[2], r[3], r[4], r[5], int(r[6])) for r in rows]


def stored_report_body(conn: psycopg.Connection, report_id: int, fmt: str) -> tuple[int, bytes] | None:
    """(region id, body) of a stored report in json, csv or pdf."""
    column = {"json": "report::text", "csv": "csv", "pdf": "pdf"}[fmt]
    row = conn.execute(f"SELECT region_id, {column} FROM stored_reports WHERE id = %s",  # type: ignore[arg-type]
                       (report_id,)).fetchone()
    if row is None:
        return None
    body = row[1]
    return int(row[0]), body.encode("utf-8") if isinstance(body, str) else bytes(body)
