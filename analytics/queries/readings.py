"""All of analytics' SQL. Times cross this boundary as epoch seconds (float) or datetimes."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from analytics.lifecycle import ActiveAlert, Mark
from analytics.queries import fetch
from dolbom.alerts import AlertKind, AlertStatus, Severity
from dolbom.timeutil import epoch, utc

# ---- people and the data windows ---------------------------------------------------------


def enrollees(
    conn: psycopg.Connection, ids: Sequence[int] | None = None, *, shards: Sequence[int] | None = None
) -> list[tuple[int, str, dict[str, Any], int]]:
    """(id, timezone, threshold overrides, region_id) of active enrollees (all, ``ids``, or
    those of ``shards``)."""
    # the overrides as NULL when there are none (most people): no JSON to parse for them
    sql = (
        "SELECT id, timezone, CASE WHEN thresholds <> '{}'::jsonb THEN thresholds END, region_id "
        "FROM enrollees WHERE active"
    )
    params: tuple[Any, ...] = ()
    if ids is not None:
        sql += " AND id = ANY(%s::int[])"
        params += (fetch.int_array(ids),)
    if shards is not None:
        sql += " AND analytics_shard(id) = ANY(%s)"
        params += (list(shards),)
    return [
        (int(r[0]), str(r[1]), dict(r[2] or {}), int(r[3]))
        for r in conn.execute(sql + " ORDER BY id", params)
    ]


def readings_in_windows(
    conn: psycopg.Connection, ids: Iterable[int], starts: Iterable[float], ends: Iterable[float]
) -> dict[str, np.ndarray]:
    """Readings of each enrollee's devices with ts in (start, end]. Values go through their
    text form (``real`` -> shortest decimal -> float8), so 37.9 is 37.9 as a Python float
    reads it, not float32's 37.900001525878906."""
    out = fetch.arrays(
        conn,
        "SELECT w.e, r.device, r.metric::int4, extract(epoch FROM r.ts)::float8, r.value::text::float8 "
        "FROM unnest(%s::int[], %s::float8[], %s::float8[]) AS w(e, s, t) "
        "JOIN devices d ON d.enrollee_id = w.e "
        "JOIN readings r ON r.device = d.id AND r.ts > to_timestamp(w.s) AND r.ts <= to_timestamp(w.t)",
        (fetch.int_array(ids), fetch.float_array(starts), fetch.float_array(ends)),
        (
            ("enrollee_id", "int4"),
            ("device", "int4"),
            ("metric", "int4"),
            ("ts", "float8"),
            ("value", "float8"),
        ),
    )
    for key in ("enrollee_id", "device", "metric"):
        out[key] = out[key].astype(np.int64)
    return out


def events_in_windows(
    conn: psycopg.Connection, ids: Iterable[int], starts: Iterable[float], ends: Iterable[float]
) -> dict[str, np.ndarray]:
    """Events with ts in (start, end]: type, time, device, bathroom?, answered, mood (NaN
    when absent)."""
    out = fetch.arrays(
        conn,
        "SELECT w.e, ev.device, ev.type::int4, extract(epoch FROM ev.ts)::float8, "
        "coalesce(d.room = 'bathroom', false), "
        "coalesce(CASE WHEN ev.data ? 'answered' THEN (ev.data->>'answered')::boolean::int END::float8, "
        "'NaN'), "
        "coalesce(CASE WHEN jsonb_typeof(ev.data->'mood') = 'number' THEN (ev.data->>'mood')::float8 END, "
        "'NaN') "
        "FROM unnest(%s::int[], %s::float8[], %s::float8[]) AS w(e, s, t) "
        "JOIN events ev ON ev.enrollee_id = w.e AND ev.ts > to_timestamp(w.s) AND ev.ts <= to_timestamp(w.t) "
        "LEFT JOIN devices d ON d.id = ev.device",
        (fetch.int_array(ids), fetch.float_array(starts), fetch.float_array(ends)),
        (
            ("enrollee_id", "int4"),
            ("device", "int4"),
            ("type", "int4"),
            ("ts", "float8"),
            ("bathroom", "bool"),
            ("answered", "float8"),
            ("mood", "float8"),
        ),
        order_by=("ts",),
    )
    for key in ("enrollee_id", "device", "type"):
        out[key] = out[key].astype(np.int64)
    return out


# ---- baselines, profiles, features ---------------------------------------------------------


def baselines(
    conn: psycopg.Connection,
    ids: Iterable[int] | None = None,
    *,
    pairs: tuple[Iterable[int], Iterable[int]] | None = None,
) -> dict[str, np.ndarray]:
    """The baselines of ``ids`` (every metric), or of the (enrollee ids, metrics) ``pairs``:
    enrollee_id, metric, bin, median, sigma, n_days (median and sigma through their text
    form, as a Python float reads a ``real``)."""
    if pairs is not None:
        where = "(enrollee_id, metric) IN (SELECT * FROM unnest(%s::int[], %s::smallint[]))"
        params: tuple[str, ...] = (fetch.int_array(pairs[0]), fetch.int_array(pairs[1]))
    else:
        where = "enrollee_id = ANY(%s::int[])"
        params = (fetch.int_array(ids if ids is not None else ()),)
    out = fetch.arrays(
        conn,
        "SELECT enrollee_id, metric::int4, bin::int4, median::text::float8, sigma::text::float8, n_days "
        f"FROM analytics_baselines WHERE {where}",
        params,
        (
            ("enrollee_id", "int4"),
            ("metric", "int4"),
            ("bin", "int4"),
            ("median", "float8"),
            ("sigma", "float8"),
            ("n_days", "int4"),
        ),
    )
    for key in ("enrollee_id", "metric", "bin", "n_days"):
        out[key] = out[key].astype(np.int64)
    return out


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


def night_door_profile(conn: psycopg.Connection, ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per enrollee of ``ids`` (in order): the share of recent nights with a door opening and
    the nights behind it, from the person model (0 without a model; NaN for a null value)."""
    found = fetch.arrays(
        conn,
        "SELECT CASE WHEN m.params ? 'night_door_rate' "
        " THEN coalesce((m.params->>'night_door_rate')::float8, 'NaN') ELSE 0 END, "
        "CASE WHEN m.params ? 'history_nights' "
        " THEN coalesce((m.params->>'history_nights')::float8, 'NaN') ELSE 0 END, u.n "
        "FROM unnest(%s::int[]) WITH ORDINALITY AS u(e, n) "
        "LEFT JOIN analytics_person_models m ON m.enrollee_id = u.e",
        (fetch.int_array(ids),),
        (("rate", "float8"), ("nights", "float8"), ("n", "int8")),
        order_by=("n",),
    )
    return found["rate"], found["nights"]


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

