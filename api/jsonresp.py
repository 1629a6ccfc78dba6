"""Fast JSON answers for the hot lists (alerts, readings, events): rows straight to orjson.

The routes still declare their pydantic ``response_model`` for the OpenAPI schema; rows are
shaped exactly like it (tests/api/test_schemathesis.py checks the answers against it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final

import orjson
from fastapi import Response

from dolbom.jsonsafe import SHOWN_DEPTH, TooDeep, nesting, shown

log = logging.getLogger(__name__)

OPTIONS = orjson.OPT_UTC_Z
_LOGGED_MAX: Final = 10_000
_ITEM_DEPTH: Final = 200
_logged: set[object] = set()


def dumps(value: Any) -> bytes:
    """orjson, and when a value cannot be encoded as it is (nested past orjson's 255 levels,
    a type it does not know) the same value with what can be shown (``dolbom.jsonsafe.shown``):
    one malformed alert or event never fails a list, a page or the stream. Logged once per
    item (by its id), never with its content."""
    try:
        return orjson.dumps(value, option=OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        pass
    if isinstance(value, Mapping) and isinstance(value.get("items"), list):
        value = {**value, "items": [_showable(item) for item in value["items"]]}
    else:
        value = _showable(value)
    return orjson.dumps(value, option=OPTIONS)


def _showable(item: Any) -> Any:
    try:
        # orjson's 255 levels count from the top of the page the item is wrapped in
        nesting(item, _ITEM_DEPTH)
        orjson.dumps(item, option=OPTIONS)
        return item
    except (TooDeep, TypeError, orjson.JSONEncodeError):
        key = item.get("id") if isinstance(item, Mapping) else None
        if key not in _logged:
            if len(_logged) >= _LOGGED_MAX:
                _logged.clear()
            _logged.add(key)
            log.warning("item %s could not be encoded as stored; shown with nesting past %d "
                        "levels omitted", key if key is not None else "(without id)", SHOWN_DEPTH)
        return shown(item)


def pick(row: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {name: row[name] for name in fields}


def page_response(items: list[Any], next_cursor: str | None) -> Response:
    return Response(dumps({"items": items, "next_cursor": next_cursor}), media_type="application/json")
