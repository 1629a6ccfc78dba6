"""GET /v1/audit: the access audit log (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.audit import service
from api.audit.models import AuditEntry
from api.deps import AdminUser, Conn
from api.fields import IdQuery, Instant
from api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from api.responses import errors

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEntry], responses=errors(403))
async def list_audit(
    conn: Conn,
    admin: AdminUser,
    user_id: Annotated[IdQuery | None, Query()] = None,
    enrollee_id: Annotated[IdQuery | None, Query()] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_]+$")] = None,
    since: Instant | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AuditEntry]:
    """Every read of health data and every alert action, newest first."""
    items, next_cursor = await service.list_entries(
        conn, user_id=user_id, enrollee_id=enrollee_id, action=action, since=since,
        limit=limit, cursor=cursor,
    )
    return Page[AuditEntry](items=items, next_cursor=next_cursor)
