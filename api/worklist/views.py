"""The worklist endpoint (CONTRACT §5.3)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query

from api.contacts.models import Day
from api.deps import ClientAddr, Conn, CurrentUser
from api.fields import IdQuery
from api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from api.responses import errors
from api.worklist import service
from api.worklist.models import Lang, WorklistItem
from api.worklist.texts import pick_lang

router = APIRouter(prefix="/v1/worklist", tags=["worklist"])

WorklistDay = Annotated[
    Day | None, Query(alias="date", description="YYYY-MM-DD in the region's timezone; default today there")
]
WorklistLang = Annotated[
    Lang | None, Query(description="language of the sentences; else Accept-Language; default ko")
]


@router.get("", response_model=Page[WorklistItem], responses=errors(403, 404))
async def worklist(
    conn: Conn,
    user: CurrentUser,
    addr: ClientAddr,
    day: WorklistDay = None,
    region_id: Annotated[IdQuery | None, Query(description="required for an admin")] = None,
    care_worker_id: Annotated[IdQuery | None, Query(description="only this care worker's enrollees")] = None,
    lang: WorklistLang = None,
    accept_language: Annotated[str | None, Header(max_length=1000)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[WorklistItem]:
    """Who of the caller's enrollees needs attention on a day, highest priority first, and why."""
    items, next_cursor = await service.worklist(
        conn, user, region_id=region_id, care_worker_id=care_worker_id, day=day,
        lang=pick_lang(lang, accept_language), limit=limit, cursor=cursor, client_addr=addr,
    )
    return Page[WorklistItem](items=items, next_cursor=next_cursor)
