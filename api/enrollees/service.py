"""Enrollees: who the caller may see, enrolment, assignment, per-person thresholds, and how to
reach them (phone, address, guardians: personal data, audited on every read, never logged)."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from api.audit.service import record
from api.db import transactional
from api.enrollees import queries
from api.enrollees.models import Enrollee, EnrolleeDetail, EnrolleeIn, EnrolleePatch
from api.errors import Forbidden, Invalid, NotFound
from api.pagination import IdCursor, decode_cursor, page
from api.principal import Principal, enrollee_scope
from dolbom.thresholds import effective


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    overrides = dict(row["thresholds"] or {})
    return {**row, "sex": row["sex"].strip(), "thresholds": overrides,
            "effective_thresholds": effective(overrides)}


def _listed(row: dict[str, Any]) -> Enrollee:
    return Enrollee.model_validate(_fields(row))


def _enrollee(row: dict[str, Any]) -> EnrolleeDetail:
    return EnrolleeDetail.model_validate({**_fields(row), "guardians": list(row["guardians"] or [])})


def _scoped(template: str, principal: Principal) -> tuple[sql.Composed, dict[str, Any]]:
    scope, params = enrollee_scope(principal)
    return sql.SQL(template).format(scope=scope), dict(params)  # type: ignore[arg-type]


async def visible_enrollee(
    conn: AsyncConnection[DictRow], principal: Principal, enrollee_id: int, *, for_update: bool = False
) -> EnrolleeDetail:
    """The enrollee if the caller may see them; 404 otherwise (existence is not revealed)."""
    query, params = _scoped(queries.ONE_FOR_UPDATE if for_update else queries.ONE, principal)
    params["enrollee_id"] = enrollee_id
    row = await (await conn.execute(query, params)).fetchone()
    if row is None:
        raise NotFound(f"enrollee {enrollee_id} not found")
    return _enrollee(row)


async def read_enrollee(
    conn: AsyncConnection[DictRow], principal: Principal, enrollee_id: int, client_addr: str | None
) -> EnrolleeDetail:
    enrollee = await visible_enrollee(conn, principal, enrollee_id)
    await record(conn, principal, "read_enrollee", enrollee_id=enrollee_id,
                 resource=f"enrollees/{enrollee_id}", client_addr=client_addr)
    return enrollee


async def list_enrollees(
    conn: AsyncConnection[DictRow], principal: Principal, *, region_id: int | None,
    care_worker_id: int | None, limit: int, cursor: str | None, client_addr: str | None,
) -> tuple[list[Enrollee], str | None]:
    position = decode_cursor(cursor, IdCursor)
    query, params = _scoped(queries.LIST, principal)
    params.update(region_id=region_id, care_worker_id=care_worker_id, limit=limit + 1,
                  after_id=position.id if position else None)
    rows = await (await conn.execute(query, params)).fetchall()
    enrollees, next_cursor = page([_listed(row) for row in rows], limit, lambda enrollee: {"id": enrollee.id})
    # The list carries phone numbers: the audit row names whose (CONTRACT §5.1).
    await record(conn, principal, "list_enrollees", resource="enrollees", client_addr=client_addr,
                 detail={"returned": len(enrollees), "enrollee_ids": [e.id for e in enrollees]})
    return enrollees, next_cursor


async def _check_care_worker(
    conn: AsyncConnection[DictRow], care_worker_id: int | None, region_id: int
) -> None:
    if care_worker_id is None:
        return
    row = await (await conn.execute(queries.CARE_WORKER_OF_REGION, (care_worker_id, region_id))).fetchone()
    if row is None:
        raise Invalid(f"user {care_worker_id} is not an active care worker of region {region_id}")


@transactional
async def enroll(
    conn: AsyncConnection[DictRow], principal: Principal, body: EnrolleeIn, client_addr: str | None
) -> EnrolleeDetail:
    if principal.role != "admin" and body.region_id != principal.region_id:
        raise Forbidden("centre staff enroll people in their own region only")
    if await (await conn.execute(queries.REGION_EXISTS, (body.region_id,))).fetchone() is None:
        raise Invalid(f"region {body.region_id} does not exist")
    await _check_care_worker(conn, body.care_worker_id, body.region_id)
    row = await (await conn.execute(queries.INSERT, {
        **body.model_dump(exclude={"thresholds", "guardians"}), "thresholds": Jsonb(body.thresholds),
        "guardians": Jsonb([guardian.model_dump() for guardian in body.guardians]),
    })).fetchone()
    assert row is not None
    await record(conn, principal, "enroll", enrollee_id=row["id"], resource="enrollees",
                 client_addr=client_addr)
    return _enrollee(row)


@transactional
async def update(
    conn: AsyncConnection[DictRow], principal: Principal, enrollee_id: int, patch: EnrolleePatch,
    client_addr: str | None,
) -> EnrolleeDetail:
    current = await visible_enrollee(conn, principal, enrollee_id, for_update=True)
    sent = patch.model_fields_set
    values = current.model_dump()
    for name in ("name", "conditions", "timezone", "active"):
        if name in sent:
            if getattr(patch, name) is None:
                raise Invalid(f"{name} cannot be null")
            values[name] = getattr(patch, name)
    for name in ("phone", "address"):  # null removes them
        if name in sent:
            values[name] = getattr(patch, name)
    if "guardians" in sent:
        values["guardians"] = [guardian.model_dump() for guardian in patch.guardians or []]
    if "care_worker_id" in sent:
        await _check_care_worker(conn, patch.care_worker_id, current.region_id)
        values["care_worker_id"] = patch.care_worker_id
    thresholds = dict(current.thresholds)
    if "thresholds" in sent and patch.thresholds is not None:
        for name, value in patch.thresholds.items():
            if value is None:
                thresholds.pop(name, None)
            else:
                thresholds[name] = value
    row = await (await conn.execute(queries.UPDATE, {
        **values, "thresholds": Jsonb(thresholds), "guardians": Jsonb(values["guardians"]),
    })).fetchone()
    assert row is not None
    await record(conn, principal, "update_enrollee", enrollee_id=enrollee_id,
                 resource=f"enrollees/{enrollee_id}", client_addr=client_addr,
                 detail={"fields": sorted(sent)})
    return _enrollee(row)
