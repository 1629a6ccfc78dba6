"""Contact-log endpoints (CONTRACT §5.2): record a contact with an enrollee, list them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.contacts import service
from api.contacts.models import Contact, ContactIn
from api.deps import ClientAddr, Conn, CurrentUser
from api.fields import BigIdQuery, IdPath
from api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from api.responses import errors

router = APIRouter(prefix="/v1/enrollees", tags=["contacts"])


@router.post("/{enrollee_id}/contacts", response_model=Contact, status_code=201,
             responses=errors(404))
async def add_contact(
    enrollee_id: IdPath, body: ContactIn, conn: Conn, user: CurrentUser, addr: ClientAddr
) -> Contact:
    """Record a call, visit, message, speaker message or video call with the enrollee."""
    return await service.add_contact(conn, user, enrollee_id, body, addr)


@router.get("/{enrollee_id}/contacts", response_model=Page[Contact], responses=errors(404))
async def list_contacts(
    enrollee_id: IdPath,
    conn: Conn,
    user: CurrentUser,
    addr: ClientAddr,
    alert_id: Annotated[BigIdQuery | None, Query(description="only contacts about this alert")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Contact]:
    """The enrollee's contacts, newest first (audited)."""
    items, next_cursor = await service.list_contacts(
        conn, user, enrollee_id, alert_id=alert_id, limit=limit, cursor=cursor, client_addr=addr,
    )
    return Page[Contact](items=items, next_cursor=next_cursor)
