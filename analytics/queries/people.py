"""Per enrollee: who is active (time zone, threshold overrides, region) and what analytics
keeps about them (baselines, daily features, person models with the clock profile)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from analytics.queries import fetch

EnrolleeRow = tuple[int, str, dict[str, Any], int]  # (id, timezone, threshold overrides, region_id)


def enrollees(
    conn: psycopg.Connection, ids: Sequence[int] | None = None, *, shards: Sequence[int] | None = None
) -> list[EnrolleeRow]:
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
