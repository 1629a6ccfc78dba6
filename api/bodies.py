"""JSON request bodies with a key given twice are refused (422), not read as the last one.

``{"name": "a", "name": "b"}`` is valid JSON to Python's parser, which keeps the last value,
while another reader (a proxy, an audit tool) may keep the first: the same body would mean
two things. Installed once for every route (``app.router.dependencies``); the body has
already been read and parsed by FastAPI, so this re-parses bytes of at most 1 MB.
"""

from __future__ import annotations

import email.message
import json
from typing import Any

from fastapi import Request

from api.errors import Invalid

_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    object_: dict[str, Any] = {}
    for key, value in pairs:
        if key in object_:
            raise _DuplicateKey(key)
        object_[key] = value
    return object_


def _is_json(content_type: str | None) -> bool:
    """As FastAPI decides: no content type, ``application/json`` or ``application/*+json``."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json"))


async def no_duplicate_keys(request: Request) -> None:
    """422 when the JSON body has an object with a key twice."""
    if request.method not in _WITH_BODY or not _is_json(request.headers.get("content-type")):
        return
    body = await request.body()
    if not body:
        return
    try:
        json.loads(body, object_pairs_hook=_refuse_duplicates)
    except _DuplicateKey as duplicate:
        raise Invalid(f"the JSON body gives the key {duplicate.key[:64]!r} more than once") from None
    except (ValueError, RecursionError):
        return  # not JSON at all: FastAPI has answered (or answers) that itself
