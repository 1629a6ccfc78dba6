"""Fast JSON answers for the hot lists (alerts, readings, events): rows straight to orjson.

The routes still declare their pydantic ``response_model`` for the OpenAPI schema; rows are
shaped exactly like it (tests/api/test_schemathesis.py checks the answers against it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from fastapi import Response

OPTIONS = orjson.OPT_UTC_Z


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=OPTIONS)


def pick(row: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {name: row[name] for name in fields}


def page_response(items: list[Any], next_cursor: str | None) -> Response:
    return Response(dumps({"items": items, "next_cursor": next_cursor}), media_type="application/json")
