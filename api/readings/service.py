"""Readings and events of one enrollee: raw points, SQL buckets (date_bin), activity by hour.

Every read is written to the audit log in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from api.audit.service import audited
from api.enrollees.models import Enrollee
from api.enrollees.service import visible_enrollee
from api.errors import Invalid, NotFound
from api.pagination import decode_cursor, page
from api.principal import Principal, enrollee_scope
from api.readings import queries
from api.readings.models import (
    BucketCursor,
    EventCursor,
    ReadingBucket,
    ReadingCursor,
    parse_bucket,
)
from dolbom.wire import EVENT_BY_CODE, EVENT_CODES, METRIC_BY_CODE, METRIC_BY_NAME, EventType

DEFAULT_SPAN = timedelta(days=7)
HOUR = timedelta(hours=1)
# Whether the database has the hourly rollup, per (host, port, database): read once.
_hourly_rollup: dict[tuple[str, int, str], bool] = {}
ACTIVITY_EVENTS = (EventType.MOTION, EventType.BED_EXIT, EventType.DOOR_OPEN, EventType.TOILET)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime


def window(start: datetime | None, end: datetime | None) -> Window:
    """``[from, to)``, defaulting to the 7 days before now; 422 when empty."""
    try:
        end = end or datetime.now(UTC)
        start = start or end - DEFAULT_SPAN
    except OverflowError:
        raise Invalid("from/to out of range") from None
    if start >= end:
        raise Invalid("from must be before to")
    return Window(start, end)


async def enrollee_devices(
    conn: AsyncConnection[DictRow], principal: Principal, enrollee_id: int
) -> tuple[Enrollee, list[int]]:
    enrollee = await visible_enrollee(conn, principal, enrollee_id)
    rows = await (await conn.execute(queries.DEVICES_OF, (enrollee_id,))).fetchall()
    return enrollee, [row["id"] for row in rows]


async def _visible_devices(
    conn: AsyncConnection[DictRow], principal: Principal, enrollee_id: int
) -> tuple[str, list[int]]:
    """(timezone, device ids) of an enrollee the caller may see; 404 otherwise."""
    scope, params = enrollee_scope(principal)
    query = sql.SQL(queries.ENROLLEE_DEVICES).format(scope=scope)  # type: ignore[arg-type]
    row = await (await conn.execute(query, {**params, "enrollee_id": enrollee_id})).fetchone()
    if row is None:
        raise NotFound(f"enrollee {enrollee_id} not found")
    return str(row["timezone"]), list(row["devices"])


async def readings(
    conn: AsyncConnection[DictRow], principal: Principal, enrollee_id: int, *,
    metric: str | None, span: Window, bucket: str | None, limit: int, cursor: str | None,
    client_addr: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Raw points ``{ts, metric, value, device_id}``, or per ``bucket`` count/min/avg/max (SQL)."""
    width = None
    if bucket is not None:
        width = parse_bucket(bucket)
        if width is None:
            raise Invalid("bucket must be 1m to 1d, e.g. 5m, 1h, 1d")
        if metric is None:
            raise Invalid("bucket needs a metric")
    code = METRIC_BY_NAME[metric].code if metric else None
    # The cursor is checked before any query: a forged one never reaches SQL.
    after = decode_cursor(cursor, BucketCursor) if width is not None else None
    position = decode_cursor(cursor, ReadingCursor) if width is None else None
    timezone, devices = await _visible_devices(conn, principal, enrollee_id)
    if width is not None:
        start = max(span.start, after.after) if after else span.start
        query, params = await _bucket_query(conn, width, timezone, start, span.end), {
            "width": width, "tz": timezone, "devices": devices, "metric": code, "from": start,
            "to": span.end, "limit": limit + 1}
    else:
        query, params = queries.RAW, {
            "devices": devices, "metric": code, "from": span.start, "to": span.end, "limit": limit + 1,
            "after_ts": position.ts if position else None,
            "after_device": position.device if position else None,
            "after_metric": position.metric if position else None}
    statement, params = audited(query, params, principal, "read_readings", enrollee_id=enrollee_id,
                                resource=f"enrollees/{enrollee_id}/readings", client_addr=client_addr,
                                detail={"metric": metric, "from": span.start.isoformat(),
                                        "to": span.end.isoformat(), "bucket": bucket})
    rows = await (await conn.execute(statement, params)).fetchall()
    if width is not None:
        step = width
        return page(list(rows), limit, lambda b: {"after": (b["bucket_start"] + step).isoformat()})
    kept, next_cursor = page(list(rows), limit, lambda r: {
        "ts": r["ts"].isoformat(), "device": r["device"], "metric": r["metric"]})
    return [{"ts": r["ts"], "metric": METRIC_BY_CODE[r["metric"]].name, "value": r["value"],
             "device_id": r["device_id"]} for r in kept], next_cursor


def _whole_hour(moment: datetime) -> bool:
    return moment.minute == moment.second == moment.microsecond == 0


async def _bucket_query(
    conn: AsyncConnection[DictRow], width: timedelta, tz: str, start: datetime, end: datetime
) -> str:
    """The rollup query when each bucket is a union of whole UTC hours, else the raw one.

    That holds when the width is whole hours, ``from``/``to`` fall on whole hours and the
    buckets' origin (local midnight of 2000-01-01) does too (every zone with a whole-hour
    offset, e.g. Asia/Seoul); otherwise a rollup hour would straddle a bucket edge.
    """
    if width % HOUR or not (_whole_hour(start.astimezone(UTC)) and _whole_hour(end.astimezone(UTC))):
        return queries.BUCKETS
    try:
        origin = datetime(2000, 1, 1, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    except (ZoneInfoNotFoundError, ValueError):
        return queries.BUCKETS
    if not _whole_hour(origin):
        return queries.BUCKETS
    key = (conn.info.host, conn.info.port, conn.info.dbname)
    if key not in _hourly_rollup:
        row = await (await conn.execute(queries.HOURLY_ROLLUP)).fetchone()
        _hourly_rollup[key] = bool(row and row["rollup"] == "readings_hourly")
    return queries.BUCKETS_HOURLY if _hourly_rollup[key] else queries.BUCKETS


async def events(
    conn: AsyncConnection[DictRow], principal: Principal, enrollee_id: int, *,
    event_type: str | None, span: Window, limit: int, cursor: str | None, client_addr: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    position = decode_cursor(cursor, EventCursor)
    await visible_enrollee(conn, principal, enrollee_id)
    statement, params = audited(queries.EVENTS, {
        "enrollee_id": enrollee_id, "type": EVENT_CODES[event_type] if event_type else None,
        "from": span.start, "to": span.end, "limit": limit + 1,
        "after_ts": position.ts if position else None,
        "after_device": position.device if position else None,
        "after_type": position.type if position else None,
    }, principal, "read_events", enrollee_id=enrollee_id, resource=f"enrollees/{enrollee_id}/events",
        client_addr=client_addr, detail={"type": event_type, "from": span.start.isoformat(),
                                         "to": span.end.isoformat()})
    rows = await (await conn.execute(statement, params)).fetchall()
    kept, next_cursor = page(list(rows), limit, lambda r: {
        "ts": r["ts"].isoformat(), "device": r["device"], "type": r["type"]})
    return [{"ts": r["ts"], "type": EVENT_BY_CODE.get(r["type"], str(r["type"])),
             "device_id": r["device_id"], "data": r["data"]} for r in kept], next_cursor


# --- for the web app's enrollee page (same scoping, audited by the page) -------------------

async def baseline(
    conn: AsyncConnection[DictRow], devices: list[int], metric: str, end: datetime,
    days: int = 90,
) -> dict[str, Any] | None:
    """The person's usual range (p10-p90 of their own readings over ``days``), if enough data."""
    row = await (await conn.execute(queries.BASELINE, {
        "devices": devices, "metric": METRIC_BY_NAME[metric].code,
        "from": end - timedelta(days=days), "to": end,
    })).fetchone()
    if row is None or row["n"] < 10:
        return None
    return dict(row)


async def metrics_present(
    conn: AsyncConnection[DictRow], devices: list[int], span: Window
) -> list[str]:
    rows = await (await conn.execute(queries.METRICS_PRESENT, {
        "devices": devices, "from": span.start, "to": span.end})).fetchall()
    return [METRIC_BY_CODE[row["metric"]].name for row in rows if row["metric"] in METRIC_BY_CODE]


async def bucket_series(
    conn: AsyncConnection[DictRow], devices: list[int], metric: str, tz: str, span: Window,
    width: timedelta,
) -> list[ReadingBucket]:
    query = await _bucket_query(conn, width, tz, span.start, span.end)
    rows = await (await conn.execute(query, {
        "width": width, "tz": tz, "devices": devices, "metric": METRIC_BY_NAME[metric].code,
        "from": span.start, "after": span.start, "to": span.end, "limit": 100_000,
    })).fetchall()
    return [ReadingBucket.model_validate(row) for row in rows]


async def activity_by_hour(
    conn: AsyncConnection[DictRow], enrollee: Enrollee, devices: list[int], span: Window
) -> tuple[dict[tuple[str, int], float], dict[tuple[str, int], float]]:
    """(motion events, steps) per (local day ISO, hour)."""
    params = {"tz": enrollee.timezone, "enrollee_id": enrollee.id, "from": span.start,
              "to": span.end, "devices": devices, "metric": METRIC_BY_NAME["steps"].code,
              "types": [EVENT_CODES[t] for t in ACTIVITY_EVENTS]}
    motion = await (await conn.execute(queries.MOTION_BY_HOUR, params)).fetchall()
    steps = await (await conn.execute(queries.STEPS_BY_HOUR, params)).fetchall()
    return ({(r["day"].isoformat(), r["hour"]): float(r["n"]) for r in motion},
            {(r["day"].isoformat(), r["hour"]): float(r["n"]) for r in steps})
