"""POST/GET /v1/devices: provisioning and device status."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ClientAddr, Conn, StaffUser
from api.devices import service
from api.devices.models import Device, DeviceIn
from api.fields import IdQuery, QueryBool
from api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from api.responses import errors
from dolbom.wire import DeviceKind

router = APIRouter(prefix="/v1/devices", tags=["devices"])


@router.post("", response_model=Device, status_code=201, responses=errors(403, 404, 409))
async def provision(body: DeviceIn, conn: Conn, user: StaffUser, addr: ClientAddr) -> Device:
    """Provision a device for an enrollee; ingest accepts its data at once."""
    return await service.provision(conn, user, body, addr)


@router.get("", response_model=Page[Device], responses=errors(403))
async def list_devices(
    conn: Conn,
    user: StaffUser,
    enrollee_id: Annotated[IdQuery | None, Query()] = None,
    kind: DeviceKind | None = None,
    online: QueryBool | None = None,
    include_removed: QueryBool = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Device]:
    """Devices of the enrollees the caller may see, with last seen, battery and online."""
    items, next_cursor = await service.list_devices(
        conn, user, enrollee_id=enrollee_id, kind=kind.value if kind else None, online=online,
        include_removed=include_removed, limit=limit, cursor=cursor,
    )
    return Page[Device](items=items, next_cursor=next_cursor)
