"""The readings and events analytics reads: each enrollee's window of them, one metric's
series, hourly means, the first data time. Times cross this boundary as epoch seconds (float)
or datetimes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
import psycopg

from analytics.queries import fetch


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


def first_data_time(conn: psycopg.Connection) -> datetime | None:
    row = conn.execute(
        "SELECT least((SELECT min(ts_min) FROM scoring_queue), (SELECT min(ts) FROM events), "
        "(SELECT min(ts) FROM readings))"
    ).fetchone()
    return None if row is None else row[0]
