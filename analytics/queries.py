"""All of analytics' SQL. Times cross this boundary as epoch seconds (float) or datetimes."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from analytics.lifecycle import ActiveAlert
from dolbom.wire import EVENT_CODES, EventType


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _epoch(value: datetime | None) -> float:
    return float("nan") if value is None else value.timestamp()


# ---- people and the data windows ---------------------------------------------------------


def enrollees(
    conn: psycopg.Connection, ids: Sequence[int] | None = None, *, shards: Sequence[int] | None = None
) -> list[tuple[int, str, dict[str, Any], int]]:
    """(id, timezone, threshold overrides, region_id) of active enrollees (all, ``ids``, or
    those of ``shards``)."""
    sql = "SELECT id, timezone, thresholds, region_id FROM enrollees WHERE active"
    params: tuple[Any, ...] = ()
    if ids is not None:
        sql += " AND id = ANY(%s)"
        params += (list(ids),)
    if shards is not None:
        sql += " AND analytics_shard(id) = ANY(%s)"
        params += (list(shards),)
    return [
        (int(r[0]), str(r[1]), dict(r[2] or {}), int(r[3]))
        for r in conn.execute(sql + " ORDER BY id", params)
    ]


def readings_in_windows(
    conn: psycopg.Connection, ids: Sequence[int], starts: Sequence[float], ends: Sequence[float]
) -> dict[str, np.ndarray]:
    """Readings of each enrollee's devices with ts in (start, end]."""
    rows = conn.execute(
        "SELECT w.e, r.device, r.metric, extract(epoch FROM r.ts)::float8, r.value "
        "FROM unnest(%s::int[], %s::float8[], %s::float8[]) AS w(e, s, t) "
        "JOIN devices d ON d.enrollee_id = w.e "
        "JOIN readings r ON r.device = d.id AND r.ts > to_timestamp(w.s) AND r.ts <= to_timestamp(w.t)",
        (list(ids), list(starts), list(ends)),
    ).fetchall()
    arr = np.array(rows, dtype=float).reshape(-1, 5)
    return {
        "enrollee_id": arr[:, 0].astype(np.int64),
        "device": arr[:, 1].astype(np.int64),
        "metric": arr[:, 2].astype(np.int64),
        "ts": arr[:, 3],
        "value": arr[:, 4],
    }


def events_in_windows(
    conn: psycopg.Connection, ids: Sequence[int], starts: Sequence[float], ends: Sequence[float]
) -> dict[str, np.ndarray]:
    """Events with ts in (start, end]: type, time, device, bathroom?, answered, mood."""
    rows = conn.execute(
        "SELECT w.e, ev.device, ev.type, extract(epoch FROM ev.ts)::float8, "
        "coalesce(d.room = 'bathroom', false)::int, "
        "CASE WHEN ev.data ? 'answered' THEN (ev.data->>'answered')::boolean::int END, "
        "CASE WHEN jsonb_typeof(ev.data->'mood') = 'number' THEN (ev.data->>'mood')::float8 END "
        "FROM unnest(%s::int[], %s::float8[], %s::float8[]) AS w(e, s, t) "
        "JOIN events ev ON ev.enrollee_id = w.e AND ev.ts > to_timestamp(w.s) AND ev.ts <= to_timestamp(w.t) "
        "LEFT JOIN devices d ON d.id = ev.device ORDER BY ev.ts",
        (list(ids), list(starts), list(ends)),
    ).fetchall()
    arr = np.array(
        [
            [r[0], r[1], r[2], r[3], r[4], np.nan if r[5] is None else r[5], np.nan if r[6] is None else r[6]]
            for r in rows
        ],
        dtype=float,
    ).reshape(-1, 7)
    return {
        "enrollee_id": arr[:, 0].astype(np.int64),
        "device": arr[:, 1].astype(np.int64),
        "type": arr[:, 2].astype(np.int64),
        "ts": arr[:, 3],
        "bathroom": arr[:, 4].astype(bool),
        "answered": arr[:, 5],
        "mood": arr[:, 6],
    }


# ---- baselines, profiles, features ---------------------------------------------------------


def baselines(conn: psycopg.Connection, ids: Sequence[int]) -> list[tuple[int, int, int, float, float, int]]:
    return [
        (int(r[0]), int(r[1]), int(r[2]), float(r[3]), float(r[4]), int(r[5]))
        for r in conn.execute(
            "SELECT enrollee_id, metric, bin, median, sigma, n_days FROM analytics_baselines "
            "WHERE enrollee_id = ANY(%s)",
            (list(ids),),
        )
    ]


def save_baselines(
    conn: psycopg.Connection,
    rows: Iterable[tuple[int, int, int, float, float, int, int]],
    fitted_for: datetime,
) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO analytics_baselines "
            "(enrollee_id, metric, bin, median, sigma, n_hours, n_days, fitted_for) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (enrollee_id, metric, bin) DO UPDATE SET "
            "median = EXCLUDED.median, sigma = EXCLUDED.sigma, n_hours = EXCLUDED.n_hours, "
            "n_days = EXCLUDED.n_days, fitted_for = EXCLUDED.fitted_for",
            [(*row, fitted_for) for row in rows],
        )


def hourly_means(
    conn: psycopg.Connection, ids: Sequence[int], metrics: Sequence[int], start: datetime, end: datetime
) -> list[tuple[int, int, float, float]]:
    """(enrollee_id, metric, hour epoch, mean) over [start, end)."""
    return [
        (int(r[0]), int(r[1]), float(r[2]), float(r[3]))
        for r in conn.execute(
            "SELECT d.enrollee_id, r.metric, extract(epoch FROM date_trunc('hour', r.ts))::float8, "
            "avg(r.value) "
            "FROM readings r JOIN devices d ON d.id = r.device "
            "WHERE d.enrollee_id = ANY(%s) AND r.metric = ANY(%s) AND r.ts >= %s AND r.ts < %s "
            "GROUP BY 1, 2, 3",
            (list(ids), list(metrics), start, end),
        )
    ]


def person_models(conn: psycopg.Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    return {
        int(r[0]): dict(r[1])
        for r in conn.execute(
            "SELECT enrollee_id, params FROM analytics_person_models WHERE enrollee_id = ANY(%s)",
            (list(ids),),
        )
    }


def save_person_models(
    conn: psycopg.Connection, rows: Iterable[tuple[int, str, dict[str, Any], int]], fitted_for: datetime
) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO analytics_person_models (enrollee_id, model, params, n_days, fitted_for) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (enrollee_id) DO UPDATE SET model = EXCLUDED.model, "
            "params = EXCLUDED.params, n_days = EXCLUDED.n_days, fitted_for = EXCLUDED.fitted_for",
            [
                (e, m, Jsonb(json.loads(json.dumps(p, allow_nan=False, default=float))), n, fitted_for)
                for e, m, p, n in rows
            ],
        )


def save_daily_features(conn: psycopg.Connection, rows: Iterable[tuple[int, Any, list[float]]]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO analytics_daily_features (enrollee_id, day, features) VALUES (%s, %s, %s) "
            "ON CONFLICT (enrollee_id, day) DO UPDATE SET features = EXCLUDED.features",
            list(rows),
        )


def daily_features(
    conn: psycopg.Connection, ids: Sequence[int], first_day: Any, last_day: Any
) -> list[tuple[int, Any, list[float]]]:
    return [
        (int(r[0]), r[1], list(r[2]))
        for r in conn.execute(
            "SELECT enrollee_id, day, features FROM analytics_daily_features "
            "WHERE enrollee_id = ANY(%s) AND day BETWEEN %s AND %s ORDER BY enrollee_id, day",
            (list(ids), first_day, last_day),
        )
    ]


def metric_series(
    conn: psycopg.Connection, ids: Sequence[int], metric: int, start: datetime, end: datetime
) -> list[tuple[int, float, float]]:
    """(enrollee_id, ts epoch, value) of one metric over [start, end)."""
    return [
        (int(r[0]), float(r[1]), float(r[2]))
        for r in conn.execute(
            "SELECT d.enrollee_id, extract(epoch FROM r.ts)::float8, r.value FROM readings r "
            "JOIN devices d ON d.id = r.device WHERE d.enrollee_id = ANY(%s) AND r.metric = %s "
            "AND r.ts >= %s AND r.ts < %s ORDER BY 1, 2",
            (list(ids), metric, start, end),
        )
    ]


def first_data_time(conn: psycopg.Connection) -> datetime | None:
    row = conn.execute(
        "SELECT least((SELECT min(ts_min) FROM scoring_queue), (SELECT min(ts) FROM events), "
        "(SELECT min(ts) FROM readings))"
    ).fetchone()
    return None if row is None else row[0]


# ---- clock state ----------------------------------------------------------------------------


def upsert_activity(conn: psycopg.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """rows: (enrollee_id, last_data, last_activity, last_door, last_checkin, last_answered,
    unanswered since the last answer in this window, answered-in-this-window?), one per
    enrollee. One statement per kind of unanswered count (recounted or added)."""
    rows = list(rows)
    for recounted, unanswered in (
        (True, "EXCLUDED.unanswered_in_row"),
        (False, "a.unanswered_in_row + EXCLUDED.unanswered_in_row"),
    ):
        part = [r for r in rows if bool(r[7]) is recounted]
        if not part:
            continue
        conn.execute(
            "INSERT INTO analytics_activity AS a (enrollee_id, last_data_ts, last_activity_ts, last_door_ts, "
            "last_checkin_ts, last_answered_ts, unanswered_in_row) "
            "SELECT * FROM unnest(%s::int[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], "
            "%s::timestamptz[], %s::timestamptz[], %s::int[]) "
            "ON CONFLICT (enrollee_id) DO UPDATE SET "
            "last_data_ts = greatest(a.last_data_ts, EXCLUDED.last_data_ts), "
            "last_activity_ts = greatest(a.last_activity_ts, EXCLUDED.last_activity_ts), "
            "last_door_ts = greatest(a.last_door_ts, EXCLUDED.last_door_ts), "
            "last_checkin_ts = greatest(a.last_checkin_ts, EXCLUDED.last_checkin_ts), "
            "last_answered_ts = greatest(a.last_answered_ts, EXCLUDED.last_answered_ts), "
            f"unanswered_in_row = {unanswered}",
            [[r[i] for r in part] for i in range(7)],
        )


def recent_checkins(
    conn: psycopg.Connection, ids: Sequence[int], until: float, days: int = 7
) -> dict[int, list[bool]]:
    """Each enrollee's check-ins of the last ``days`` up to ``until``, oldest first: answered?"""
    out: dict[int, list[bool]] = defaultdict(list)
    for enrollee_id, answered in conn.execute(
        "SELECT enrollee_id, coalesce((data->>'answered')::boolean, false) FROM events "
        "WHERE enrollee_id = ANY(%s) AND type = %s AND ts > to_timestamp(%s) AND ts <= to_timestamp(%s) "
        "ORDER BY enrollee_id, ts",
        (list(ids), EVENT_CODES[EventType.CHECKIN], until - days * 86400, until),
    ):
        out[int(enrollee_id)].append(bool(answered))
    return out


def upsert_device_seen(conn: psycopg.Connection, rows: Iterable[tuple[int, datetime]]) -> None:
    latest: dict[int, datetime] = {}
    for device, ts in rows:
        if device not in latest or ts > latest[device]:
            latest[device] = ts
    if latest:
        conn.execute(
            "INSERT INTO analytics_device_seen AS s (device, last_ts) "
            "SELECT * FROM unnest(%s::int[], %s::timestamptz[]) ON CONFLICT (device) "
            "DO UPDATE SET last_ts = greatest(s.last_ts, EXCLUDED.last_ts)",
            (list(latest), list(latest.values())),
        )


def clock_enrollees(conn: psycopg.Connection, shards: Sequence[int]) -> list[tuple[Any, ...]]:
    """Active enrollees of ``shards`` with at least one device, their activity state and
    device flags."""
    return conn.execute(
        "SELECT e.id, e.timezone, a.last_data_ts, a.last_activity_ts, a.last_door_ts, a.last_checkin_ts, "
        "a.last_answered_ts, coalesce(a.unanswered_in_row, 0), m.params, "
        "bool_or(d.kind IN ('motion_sensor', 'door_sensor', 'bed_sensor')), bool_or(d.kind = 'ai_speaker'), "
        "bool_or(d.kind IN ('wearable', 'hub', 'motion_sensor', 'door_sensor', 'bed_sensor')) "
        "FROM enrollees e JOIN devices d ON d.enrollee_id = e.id AND d.removed_at IS NULL "
        "LEFT JOIN analytics_activity a ON a.enrollee_id = e.id "
        "LEFT JOIN analytics_person_models m ON m.enrollee_id = e.id "
        "WHERE e.active AND analytics_shard(e.id) = ANY(%s) "
        "GROUP BY e.id, a.enrollee_id, m.enrollee_id ORDER BY e.id",
        (list(shards),),
    ).fetchall()


def clock_devices(conn: psycopg.Connection, shards: Sequence[int]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT d.enrollee_id, d.device_id, d.kind, d.online, d.status_at, d.battery, s.last_ts "
        "FROM devices d JOIN enrollees e ON e.id = d.enrollee_id AND e.active "
        "AND analytics_shard(e.id) = ANY(%s) "
        "LEFT JOIN analytics_device_seen s ON s.device = d.id WHERE d.removed_at IS NULL",
        (list(shards),),
    ).fetchall()


# ---- alerts and conditions ------------------------------------------------------------------


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
        sql += " AND enrollee_id = ANY(%s)"
        params += (list(enrollee_ids),)
    if shards is not None:
        sql += " AND analytics_shard(enrollee_id) = ANY(%s)"
        params += (list(shards),)
    return [
        ActiveAlert(
            int(r[0]),
            int(r[1]),
            str(r[2]),
            str(r[3]),
            str(r[4]),
            _epoch(r[5]),
            _epoch(r[6]),
            None if r[7] is None else _epoch(r[7]),
            bool(r[8]),
        )
        for r in conn.execute(sql, params)
    ]


def _mark_condition(conn: psycopg.Connection, column: str, rows: Iterable[tuple[int, str, float]]) -> None:
    """Move ``column`` of (enrollee, kind) forward to the latest time given (one statement)."""
    latest: dict[tuple[int, str], float] = {}
    for e, k, t in rows:
        latest[(e, k)] = max(t, latest.get((e, k), t))
    if not latest:
        return
    conn.execute(
        f"INSERT INTO analytics_conditions AS c (enrollee_id, kind, {column}) "
        "SELECT * FROM unnest(%s::int[], %s::text[], %s::timestamptz[]) "
        "ON CONFLICT (enrollee_id, kind) DO UPDATE SET "
        f"{column} = greatest(c.{column}, EXCLUDED.{column})",
        ([k[0] for k in latest], [k[1] for k in latest], [_dt(t) for t in latest.values()]),
    )


def mark_breach(conn: psycopg.Connection, rows: Iterable[tuple[int, str, float]]) -> None:
    _mark_condition(conn, "last_breach_ts", rows)


def mark_clear(conn: psycopg.Connection, rows: Iterable[tuple[int, str, float]]) -> None:
    _mark_condition(conn, "last_clear_ts", rows)


def conditions(
    conn: psycopg.Connection, pairs: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], tuple[float | None, float | None]]:
    if not pairs:
        return {}
    rows = conn.execute(
        "SELECT c.enrollee_id, c.kind, c.last_breach_ts, c.last_clear_ts FROM analytics_conditions c "
        "JOIN unnest(%s::int[], %s::text[]) AS p(e, k) ON p.e = c.enrollee_id AND p.k = c.kind",
        ([p[0] for p in pairs], [p[1] for p in pairs]),
    ).fetchall()
    return {
        (int(r[0]), str(r[1])): (
            None if r[2] is None else _epoch(r[2]),
            None if r[3] is None else _epoch(r[3]),
        )
        for r in rows
    }


def auto_resolve(conn: psycopg.Connection, alert_id: int, now: float, detail: dict[str, Any]) -> None:
    updated = conn.execute(
        "UPDATE alerts SET status = 'resolved', resolved_at = %s, outcome = 'auto_resolved', "
        "updated_at = now() "
        "WHERE id = %s AND status <> 'resolved' RETURNING id",
        (_dt(now), alert_id),
    ).fetchone()
    if updated:
        conn.execute(
            "INSERT INTO alert_actions (alert_id, action, outcome, detail) "
            "VALUES (%s, 'auto_resolve', 'auto_resolved', %s)",
            (alert_id, Jsonb(detail)),
        )


def escalate(conn: psycopg.Connection, alert_id: int, now: float, after_s: float) -> list[int]:
    """Mark a critical alert escalated to its region's centre staff; returns their user ids."""
    row = conn.execute(
        "UPDATE alerts a SET escalated_at = %s, updated_at = now() FROM enrollees e "
        "WHERE a.id = %s AND e.id = a.enrollee_id AND a.escalated_at IS NULL AND a.status = 'open' "
        "RETURNING a.enrollee_id, e.region_id",
        (_dt(now), alert_id),
    ).fetchone()
    if row is None:
        return []
    staff = [
        int(r[0])
        for r in conn.execute(
            "SELECT id FROM users WHERE role = 'center_staff' AND region_id = %s AND active ORDER BY id",
            (row[1],),
        )
    ]
    detail = {
        "to": "center_staff",
        "region_id": int(row[1]),
        "user_ids": staff,
        "reason": f"critical alert unacknowledged for {after_s / 60:g} min",
    }
    conn.execute(
        "INSERT INTO alert_actions (alert_id, action, detail) VALUES (%s, 'escalate', %s)",
        (alert_id, Jsonb(detail)),
    )
    conn.execute(
        "INSERT INTO access_audit (username, action, enrollee_id, resource, detail) "
        "VALUES ('analytics', 'escalate_alert', %s, %s, %s)",
        (int(row[0]), f"alerts/{alert_id}", Jsonb(detail)),
    )
    return staff
