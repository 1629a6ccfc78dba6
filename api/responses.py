"""OpenAPI documentation of error answers, so the schema lists every status a route gives."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

_DESCRIPTIONS = {
    401: "missing or invalid token",
    403: "the caller's role may not do this",
    404: "not found, or not visible to the caller",
    409: "conflicts with the current state",
    413: "request body over 1 MB",
    422: "invalid request",
    429: "too many failed logins",
    503: "database unavailable",
}


class ErrorDetail(BaseModel):
    detail: Any


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` mapping for these error statuses (401, 413, 422 and 503 always)."""
    every = sorted({*statuses, 401, 413, 422, 503})
    return {status: {"model": ErrorDetail, "description": _DESCRIPTIONS[status]} for status in every}
