"""Cursor pagination shared by every list: ``{"items": [...], "next_cursor": str | null}``."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import Query
from pydantic import BaseModel

from api.errors import Invalid

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size (default 50, at most 500)")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="opaque cursor from a previous page's next_cursor")
]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str | None, *keys: str) -> dict[str, Any] | None:
    """The position inside ``cursor`` (None for the first page); 422 if it is not ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise Invalid("cursor is not valid; pass next_cursor from a previous page") from None
    if not isinstance(position, dict) or any(key not in position for key in keys):
        raise Invalid("cursor is not valid; pass next_cursor from a previous page")
    return position


def page(items: list[T], limit: int, position_of: Any) -> tuple[list[T], str | None]:
    """Cut a result fetched with ``limit + 1`` rows into the page and its next cursor."""
    if len(items) <= limit:
        return items, None
    kept = items[:limit]
    return kept, encode_cursor(position_of(kept[-1]))
