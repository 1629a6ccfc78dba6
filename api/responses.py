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


COMMON = (401, 403, 404, 413, 422, 503)


def document_common_errors(schema: dict[str, Any]) -> None:
    """Every /v1 operation may answer these (errors are uniform, api/errors.py): list them
    where a route, including one mounted from another component, did not."""
    error_schema = {"type": "object", "properties": {"detail": {}}, "required": ["detail"]}
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in COMMON:
                if status == 401 and path == "/v1/auth/token":
                    continue
                responses.setdefault(str(status), {
                    "description": _DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": error_schema}},
                })
