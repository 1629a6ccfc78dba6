"""The SQL of the clock state: what the minute job has seen per enrollee and device
(``analytics_activity``, ``analytics_device_seen``) and what the clock checks read back.

Every minute the clock judges every enrollee of the shards, so its reads come back as numpy
arrays (analytics/queries/fetch.py), with NaN for "never seen"; the static part (time zone, kit,
profile) is read in the same statement.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Final

import numpy as np
import psycopg

from analytics.detectors.clock import (
    CLOCK_KINDS,
    CONTINUOUS_KINDS,
    HOME_SENSOR_KINDS,
    SPEAKER_KIND,
    WEARABLE_KIND,
    reach,
)
from analytics.queries import fetch
from dolbom.alerts import AlertKind
from dolbom.rules import BATTERY_CLEAR_PCT, BATTERY_LOW_PCT
from dolbom.wire import EVENT_CODES, EventType


def _kinds(kinds: Iterable[str]) -> str:
    """Device kinds as an SQL list (constants of ours, not input)."""
    return ", ".join(f"'{kind}'" for kind in sorted(kinds))


# Devices that may raise a device alert whatever the time (the predicate of the partial index
# of migration 0022, so the planner uses it: the battery line is in the text, not a
# parameter), and wearables silent for long (by the index on analytics_wearable_seen.last_hour,
# at or before the last data time, so a superset; the few found are looked up one by one:
# OFFSET 0 keeps the planner from hashing the whole devices table for them).
_ATTENTION: Final = f"removed_at IS NULL AND (online = false OR battery <= {int(BATTERY_LOW_PCT)})"
_SILENT_WEARABLES: Final = (
    "analytics_wearable_seen s CROSS JOIN LATERAL (SELECT id, enrollee_id FROM devices"
    f" WHERE id = s.device AND removed_at IS NULL AND kind = '{WEARABLE_KIND}'"
    " AND analytics_shard(enrollee_id) = ANY(%(shards)s::int[]) OFFSET 0) AS d"
    " WHERE s.last_hour < to_timestamp(%(wearable_data_before)s)"
)


def _times(values: np.ndarray) -> str:
    """Epoch seconds as a ``float8[]`` literal; not finite (never seen) becomes NaN, which the
    statements turn into NULL (``nullif``)."""
    return fetch.float_array(np.where(np.isfinite(values), values, np.nan))


def _ts(column: str) -> str:
    return f"to_timestamp(nullif({column}, 'NaN'))"


def upsert_activity(
    conn: psycopg.Connection,
    enrollee_ids: np.ndarray,
    times: Sequence[np.ndarray],
    unanswered: np.ndarray,
    recounted: np.ndarray,
) -> None:
    """Move each enrollee's activity state forward. ``times``: last data, last activity,
    last door, last check-in, last answered (epoch seconds, not finite = none in this
    window); ``unanswered``: check-ins unanswered since the last answer in this window, a
    recount from the store where ``recounted``, else to be added. One statement per kind of
    count. Times become microseconds exactly as ``datetime.fromtimestamp`` rounds them: they
    come from stored microsecond timestamps, far from a half microsecond."""
    for recount, count in (
        (True, "EXCLUDED.unanswered_in_row"),
        (False, "a.unanswered_in_row + EXCLUDED.unanswered_in_row"),
    ):
        part = np.asarray(recounted, dtype=bool) == recount
        if not part.any():
            continue
        params = [fetch.int_array(enrollee_ids[part])]
        params += [_times(np.asarray(t, dtype=float)[part]) for t in times]
        params.append(fetch.int_array(unanswered[part]))
        conn.execute(
            "INSERT INTO analytics_activity AS a (enrollee_id, last_data_ts, last_activity_ts, last_door_ts, "
            "last_checkin_ts, last_answered_ts, unanswered_in_row) "
            f"SELECT u.e, {', '.join(_ts(f'u.t{i}') for i in range(5))}, u.n "
            "FROM unnest(%s::int[], %s::float8[], %s::float8[], %s::float8[], %s::float8[], %s::float8[], "
            "%s::int[]) AS u(e, t0, t1, t2, t3, t4, n) "
            "ON CONFLICT (enrollee_id) DO UPDATE SET "
            "last_data_ts = greatest(a.last_data_ts, EXCLUDED.last_data_ts), "
            "last_activity_ts = greatest(a.last_activity_ts, EXCLUDED.last_activity_ts), "
            "last_door_ts = greatest(a.last_door_ts, EXCLUDED.last_door_ts), "
            "last_checkin_ts = greatest(a.last_checkin_ts, EXCLUDED.last_checkin_ts), "
            "last_answered_ts = greatest(a.last_answered_ts, EXCLUDED.last_answered_ts), "
            f"unanswered_in_row = {count}",
            params,
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


def upsert_device_seen(
    conn: psycopg.Connection, devices: np.ndarray, times: np.ndarray, wearable: np.ndarray
) -> None:
    """Move each device's last data time forward to the latest of ``times`` (epoch seconds);
    for wearables (``wearable``, per row, from the device's kind) the hour of it in
    analytics_wearable_seen too, where the clock finds the silent ones."""
    if not devices.size:
        return
    order = np.lexsort((times, devices))
    last = np.r_[devices[order][1:] != devices[order][:-1], True]
    latest, at = devices[order][last], times[order][last]
    conn.execute(
        "INSERT INTO analytics_device_seen AS s (device, last_ts) "
        f"SELECT u.d, {_ts('u.t')} FROM unnest(%s::int[], %s::float8[]) AS u(d, t) "
        "ON CONFLICT (device) DO UPDATE SET last_ts = greatest(s.last_ts, EXCLUDED.last_ts)",
        (fetch.int_array(latest), _times(at)),
    )
    worn = np.asarray(wearable, dtype=bool)[order][last]
    if worn.any():  # written only when the hour moves on: once an hour per wearable
        hour = f"date_bin('1 hour', {_ts('u.t')}, timestamptz 'epoch')"
        conn.execute(
            "INSERT INTO analytics_wearable_seen AS s (device, last_hour) "
            f"SELECT u.d, {hour} FROM unnest(%s::int[], %s::float8[]) AS u(d, t) "
            "WHERE NOT EXISTS (SELECT 1 FROM analytics_wearable_seen w "
            f" WHERE w.device = u.d AND w.last_hour >= {hour}) "
            "ON CONFLICT (device) DO UPDATE SET last_hour = greatest(s.last_hour, EXCLUDED.last_hour)",
            (fetch.int_array(latest[worn]), _times(at[worn])),
        )


def _seconds(column: str) -> str:
    return f"coalesce(extract(epoch FROM {column})::float8, 'NaN')"


def _profile(key: str) -> str:
    """A person-model parameter as float8, NaN when the model or the value is missing (JSON
    numbers parse to the same double as in Python)."""
    return f"coalesce((m.params->>'{key}')::float8, 'NaN')"


def _candidates(now: float) -> tuple[str, dict[str, Any]]:
    """The enrollees of ``%(shards)s`` the clock checks can act on as of ``now``, by the
    lines of ``detectors.clock.reach`` (a superset by a minute's margin: the pure checks
    decide): state past a line of inactivity, no data or missed check-ins, an active clock
    alert (its clearance is judged), or a device the device checks can act on. Everyone else
    can neither raise a clock alert nor clear one this minute."""
    query = (
        "SELECT a.enrollee_id FROM analytics_activity a "
        "WHERE analytics_shard(a.enrollee_id) = ANY(%(shards)s::int[]) AND ("
        " a.last_activity_ts < to_timestamp(%(moved_before)s)"
        " OR a.last_data_ts < to_timestamp(%(data_before)s)"
        " OR a.unanswered_in_row >= %(unanswered_in_row)s OR (a.last_checkin_ts IS NOT NULL"
        "  AND coalesce(a.last_answered_ts, a.last_checkin_ts) < to_timestamp(%(answered_before)s))) "
        "UNION SELECT enrollee_id FROM alerts WHERE status <> 'resolved' AND kind = ANY(%(kinds)s::text[]) "
        " AND analytics_shard(enrollee_id) = ANY(%(shards)s::int[]) "
        "UNION SELECT enrollee_id FROM devices "
        f"WHERE {_ATTENTION} AND analytics_shard(enrollee_id) = ANY(%(shards)s::int[]) "
        f"UNION SELECT d.enrollee_id FROM {_SILENT_WEARABLES}"
    )
    params: dict[str, Any] = dataclasses.asdict(reach(now))
    params["kinds"] = "{" + ",".join(CLOCK_KINDS) + "}"
    return query, params


def clock_enrollees(
    conn: psycopg.Connection, shards: Sequence[int], now: float
) -> tuple[list[str], dict[str, np.ndarray]]:
    """The clock candidates (``_candidates``) of ``shards`` that are active and have at least
    one device, by id: their time zone (an index into the returned list of zone names),
    activity state (epoch seconds, NaN never), clock profile (NaN: population default) and
    kit flags."""
    candidates, params = _candidates(now)
    params["shards"] = fetch.int_array(shards)
    ids = [int(r[0]) for r in conn.execute(candidates, params)]
    zones = [
        str(r[0])
        for r in conn.execute(
            "SELECT DISTINCT timezone FROM enrollees WHERE id = ANY(%s::int[]) ORDER BY 1",
            (fetch.int_array(ids),),
        )
    ]
    found = fetch.arrays(
        conn,
        "SELECT e.id, array_position(%s::text[], e.timezone) - 1, "
        f"{_seconds('a.last_data_ts')}, {_seconds('a.last_activity_ts')}, {_seconds('a.last_door_ts')}, "
        f"{_seconds('a.last_checkin_ts')}, {_seconds('a.last_answered_ts')}, "
        "coalesce(a.unanswered_in_row, 0), "
        f"{_profile('wake_h')}, {_profile('sleep_h')}, {_profile('gap_p90_h')}, "
        "k.home, k.speaker, k.continuous "
        "FROM enrollees e "
        f"JOIN LATERAL (SELECT bool_or(d.kind IN ({_kinds(HOME_SENSOR_KINDS)})) AS home, "
        f" bool_or(d.kind = '{SPEAKER_KIND}') AS speaker, "
        f" bool_or(d.kind IN ({_kinds(CONTINUOUS_KINDS)})) AS continuous, "
        " count(*) AS n FROM devices d WHERE d.enrollee_id = e.id AND d.removed_at IS NULL) AS k ON k.n > 0 "
        "LEFT JOIN analytics_activity a ON a.enrollee_id = e.id "
        "LEFT JOIN analytics_person_models m ON m.enrollee_id = e.id "
        "WHERE e.active AND e.id = ANY(%s::int[])",
        (zones, fetch.int_array(ids)),
        (
            ("enrollee_id", "int4"),
            ("zone", "int4"),
            ("last_data_ts", "float8"),
            ("last_activity_ts", "float8"),
            ("last_door_ts", "float8"),
            ("last_checkin_ts", "float8"),
            ("last_answered_ts", "float8"),
            ("unanswered_in_row", "int4"),
            ("wake_h", "float8"),
            ("sleep_h", "float8"),
            ("gap_p90_h", "float8"),
            ("has_home_sensors", "bool"),
            ("has_speaker", "bool"),
            ("has_continuous", "bool"),
        ),
        order_by=("enrollee_id",),
    )
    return zones, found


def clock_devices(
    conn: psycopg.Connection, shards: Sequence[int], now: float, enrollee_ids: Sequence[int]
) -> list[tuple[Any, ...]]:
    """The devices of ``shards`` that the device checks can act on as of ``now``: reported
    offline, with a low battery, or wearables silent for about WEARABLE_SILENT_H (a minute's
    margin: the pure check decides); and, for the enrollees in ``enrollee_ids`` with an
    active low_battery alert, what its clearance reads from the rest of the kit: every
    device not yet charged (below BATTERY_CLEAR) and one with a battery at all. A
    device_offline alert clears when none of its kit is offline, which the first two sets
    already tell. No other device can raise a device alert or clear one, so the pure checks
    reach the same verdicts as over the whole kit. (enrollee, device_id, kind, online,
    status time, battery, last data time), by device."""
    return conn.execute(
        "SELECT d.enrollee_id, d.device_id, d.kind, d.online, d.status_at, d.battery, s.last_ts FROM ("
        f" SELECT id FROM devices WHERE {_ATTENTION}"
        "  AND analytics_shard(enrollee_id) = ANY(%(shards)s::int[])"
        f" UNION SELECT d.id FROM {_SILENT_WEARABLES}"
        " UNION SELECT k.id FROM alerts a CROSS JOIN LATERAL ("
        "  SELECT id FROM devices d WHERE d.enrollee_id = a.enrollee_id AND d.removed_at IS NULL"
        f"  AND d.battery IS NOT NULL AND (d.battery < {int(BATTERY_CLEAR_PCT)} OR d.id = ("
        "   SELECT min(id) FROM devices x WHERE x.enrollee_id = a.enrollee_id AND x.removed_at IS NULL"
        "   AND x.battery IS NOT NULL))) AS k"
        f"  WHERE a.status <> 'resolved' AND a.kind = '{AlertKind.LOW_BATTERY.value}'"
        " AND a.enrollee_id = ANY(%(ids)s::int[])"
        ") AS c(id) "
        "CROSS JOIN LATERAL (SELECT * FROM devices WHERE id = c.id OFFSET 0) AS d "
        "LEFT JOIN analytics_device_seen s ON s.device = d.id "
        "ORDER BY d.id",
        {
            "shards": fetch.int_array(shards),
            "wearable_data_before": reach(now).wearable_data_before,
            "ids": fetch.int_array(enrollee_ids),
        },
    ).fetchall()
