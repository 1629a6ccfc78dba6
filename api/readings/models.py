"""Schemas of readings (raw points or buckets) and events of one enrollee."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, Field, Strict

from api.fields import INT2, INT4, Instant
from api.pagination import CursorModel

BUCKET_RE = re.compile(r"^([1-9][0-9]{0,3})([mhd])$")
BUCKET_PATTERN = BUCKET_RE.pattern
MIN_BUCKET = timedelta(minutes=1)  # CONTRACT §3: buckets from 1m ...
MAX_BUCKET = timedelta(days=1)  # ... to 1d
_UNIT = {"m": "minutes", "h": "hours", "d": "days"}


def parse_bucket(text: str) -> timedelta | None:
    """``15m`` → 15 minutes; None when not a bucket of 1 minute to 1 day."""
    match = BUCKET_RE.match(text)
    if not match:
        return None
    width = timedelta(**{_UNIT[match.group(2)]: int(match.group(1))})
    return width if MIN_BUCKET <= width <= MAX_BUCKET else None


Code = Annotated[int, Strict(), Field(ge=0, le=INT2)]  # a stored smallint code (dolbom.wire)
DeviceKey = Annotated[int, Strict(), Field(ge=1, le=INT4)]


class ReadingCursor(CursorModel):
    """Raw readings are ordered by (ts, device, metric)."""

    ts: Instant
    device: DeviceKey
    metric: Code


class BucketCursor(CursorModel):
    """Buckets continue at the next bucket's start."""

    after: Instant


class EventCursor(CursorModel):
    """Events are ordered by (ts, device, type)."""

    ts: Instant
    device: DeviceKey
    type: Code


class ReadingPoint(BaseModel):
    ts: datetime
    metric: str
    value: float
    device_id: str


class ReadingBucket(BaseModel):
    bucket_start: datetime
    count: int
    min: float
    avg: float
    max: float


class Event(BaseModel):
    ts: datetime
    type: str
    device_id: str
    data: dict[str, Any] | list[Any] | str | int | float | bool | None
