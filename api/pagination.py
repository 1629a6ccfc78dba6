"""Cursor pagination shared by every list: ``{"items": [...], "next_cursor": str | null}``.

A cursor is URL-safe base64 of a small JSON object, the position of a page's last row. A
client can send any text, so each list decodes its cursor against its own schema (strict
types, no extra keys: ``IdCursor`` here, the readings' and events' in api/readings/models.py)
and answers 422 ``cursor is not valid`` for anything else: no forged value reaches SQL.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Generic, TypeVar

import orjson
from annotated_types import Ge, Le
from fastapi import Query
from pydantic import BaseModel, ConfigDict

from api.errors import Invalid
from api.fields import BigId, Digits, Id

T = TypeVar("T")
CursorT = TypeVar("CursorT", bound="CursorModel")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

CURSOR_INVALID = "cursor is not valid; pass next_cursor from a previous page"

Limit = Annotated[int, Ge(1), Le(MAX_LIMIT), Digits,
                  Query(description="page size (default 50, at most 500)")]
Cursor = Annotated[
    str | None,
    Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$",
          description="opaque cursor from a previous page's next_cursor"),
]


class CursorModel(BaseModel):
    """The schema of one list's cursor: strict types (``Id``, ``Instant``...), no other keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class IdCursor(CursorModel):
    """Lists ordered by an integer id (enrollees, devices)."""

    id: Id


class BigIdCursor(CursorModel):
    """Lists ordered by a bigint id (alerts, the audit log)."""

    id: BigId


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str | None, schema: type[CursorT]) -> CursorT | None:
    """The position inside ``cursor`` (None for the first page); 422 unless it is base64 of a
    JSON object that ``schema`` accepts."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return schema.model_validate_json(raw)
    except (binascii.Error, ValueError):  # pydantic's ValidationError is a ValueError
        raise Invalid(CURSOR_INVALID) from None


def page(items: list[T], limit: int, position_of: Any) -> tuple[list[T], str | None]:
    """Cut a result fetched with ``limit + 1`` rows into the page and its next cursor."""
    if len(items) <= limit:
        return items, None
    kept = items[:limit]
    return kept, encode_cursor(position_of(kept[-1]))
