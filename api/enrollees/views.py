"""Enrollee endpoints: list, read, enroll, update (assignment and thresholds)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ClientAddr, Conn, CurrentUser, StaffUser
from api.enrollees import service
from api.enrollees.models import Enrollee, EnrolleeDetail, EnrolleeIn, EnrolleePatch
from api.fields import IdPath, IdQuery
from api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from api.responses import errors

router = APIRouter(prefix="/v1/enrollees", tags=["enrollees"])


@router.get("", response_model=Page[Enrollee], responses=errors())
async def list_enrollees(
    conn: Conn,
    user: CurrentUser,
    addr: ClientAddr,
    region_id: Annotated[IdQuery | None, Query()] = None,
    care_worker_id: Annotated[IdQuery | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Enrollee]:
    """The enrollees the caller may see, by id (with their phone number; audited)."""
    items, next_cursor = await service.list_enrollees(
        conn, user, region_id=region_id, care_worker_id=care_worker_id, limit=limit,
        cursor=cursor, client_addr=addr,
    )
    return Page[Enrollee](items=items, next_cursor=next_cursor)


@router.post("", response_model=EnrolleeDetail, status_code=201, responses=errors(403))
async def enroll(body: EnrolleeIn, conn: Conn, user: StaffUser, addr: ClientAddr) -> EnrolleeDetail:
    """Enroll an older adult in a region, optionally assigning a care worker."""
    return await service.enroll(conn, user, body, addr)


@router.get("/{enrollee_id}", response_model=EnrolleeDetail, responses=errors(404))
async def read_enrollee(
    enrollee_id: IdPath, conn: Conn, user: CurrentUser, addr: ClientAddr
) -> EnrolleeDetail:
    """One enrollee: thresholds (overrides and in effect), phone, address, guardians (audited)."""
    return await service.read_enrollee(conn, user, enrollee_id, addr)


@router.patch("/{enrollee_id}", response_model=EnrolleeDetail, responses=errors(403, 404))
async def update_enrollee(
    enrollee_id: IdPath, body: EnrolleePatch, conn: Conn, user: StaffUser, addr: ClientAddr
) -> EnrolleeDetail:
    """Change an enrollee: care worker, conditions, timezone, thresholds, phone, address, guardians."""
    return await service.update(conn, user, enrollee_id, body, addr)
