"""Device provisioning (ingest hears of it through the devices trigger's NOTIFY) and listing."""

from __future__ import annotations

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from api.audit.service import record
from api.db import transactional
from api.devices import queries
from api.devices.models import Device, DeviceIn
from api.enrollees.service import visible_enrollee
from api.errors import Conflict
from api.pagination import IdCursor, decode_cursor, page
from api.principal import Principal, enrollee_scope


@transactional
async def provision(
    conn: AsyncConnection[DictRow], principal: Principal, body: DeviceIn, client_addr: str | None
) -> Device:
    """Register a device for an enrollee the caller may see; 409 if the id is taken."""
    await visible_enrollee(conn, principal, body.enrollee_id)
    try:
        async with conn.transaction():
            row = await (await conn.execute(queries.INSERT, body.model_dump(mode="json"))).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"device {body.device_id!r} is already provisioned") from None
    assert row is not None
    await record(conn, principal, "provision_device", enrollee_id=body.enrollee_id,
                 resource=f"devices/{body.device_id}", client_addr=client_addr)
    return Device.model_validate(row)


async def list_devices(
    conn: AsyncConnection[DictRow], principal: Principal, *, enrollee_id: int | None,
    kind: str | None, online: bool | None, include_removed: bool, limit: int, cursor: str | None,
) -> tuple[list[Device], str | None]:
    position = decode_cursor(cursor, IdCursor)
    scope, params = enrollee_scope(principal)
    query = sql.SQL(queries.LIST).format(scope=scope)  # type: ignore[arg-type]
    rows = await (await conn.execute(query, {
        **params, "enrollee_id": enrollee_id, "kind": kind, "online": online,
        "include_removed": include_removed, "after_id": position.id if position else None,
        "limit": limit + 1,
    })).fetchall()
    devices = [Device.model_validate(row) for row in rows]
    return page(devices, limit, lambda device: {"id": device.id})


async def devices_of(conn: AsyncConnection[DictRow], enrollee_id: int) -> list[Device]:
    """Current devices of an enrollee already checked visible by the caller."""
    rows = await (await conn.execute(queries.OF_ENROLLEE, (enrollee_id,))).fetchall()
    return [Device.model_validate(row) for row in rows]
