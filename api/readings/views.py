"""GET /v1/enrollees/{id}/readings and /events."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import ClientAddr, Conn, CurrentUser
from api.fields import IdPath, Instant
from api.jsonresp import page_response
from api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from api.readings import service
from api.readings.models import BUCKET_PATTERN, Event, ReadingBucket, ReadingPoint
from api.responses import errors
from dolbom.wire import METRICS, EventType

MetricName = StrEnum("MetricName", {m.name: m.name for m in METRICS})  # type: ignore[misc]

router = APIRouter(prefix="/v1/enrollees", tags=["readings"])

From = Annotated[Instant | None, Query(alias="from", description="start (inclusive)")]
To = Annotated[Instant | None, Query(alias="to", description="end (exclusive), default now")]


@router.get(
    "/{enrollee_id}/readings",
    response_model=Page[ReadingPoint] | Page[ReadingBucket],
    responses=errors(404),
)
async def list_readings(
    enrollee_id: IdPath,
    conn: Conn,
    user: CurrentUser,
    addr: ClientAddr,
    metric: MetricName | None = None,  # type: ignore[valid-type]
    start: From = None,
    end: To = None,
    bucket: Annotated[str | None, Query(pattern=BUCKET_PATTERN, description="1m ... 1d")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Raw points `{ts, value, device_id}`, or per `bucket` `{bucket_start, count, min, avg, max}`."""
    items, next_cursor = await service.readings(
        conn, user, enrollee_id, metric=metric.value if metric else None,
        span=service.window(start, end), bucket=bucket, limit=limit, cursor=cursor,
        client_addr=addr,
    )
    return page_response(items, next_cursor)


@router.get("/{enrollee_id}/events", response_model=Page[Event], responses=errors(404))
async def list_events(
    enrollee_id: IdPath,
    conn: Conn,
    user: CurrentUser,
    addr: ClientAddr,
    type: EventType | None = None,
    start: From = None,
    end: To = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Events (sos, fall, motion, door, bed, check-in, medication, toilet) in time order."""
    items, next_cursor = await service.events(
        conn, user, enrollee_id, event_type=type.value if type else None,
        span=service.window(start, end), limit=limit, cursor=cursor, client_addr=addr,
    )
    return page_response(items, next_cursor)
