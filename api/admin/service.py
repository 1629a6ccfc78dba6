"""Creating regions and users (admin)."""

from __future__ import annotations

import anyio.to_thread
import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from api.admin import queries
from api.admin.models import Region, RegionIn, User, UserIn
from api.audit.service import record
from api.db import transactional
from api.errors import Conflict, Invalid
from api.principal import Principal
from dolbom.accounts import AccountError, check_new_user, hash_password


@transactional
async def create_region(
    conn: AsyncConnection[DictRow], principal: Principal, body: RegionIn, client_addr: str | None
) -> Region:
    try:
        async with conn.transaction():
            row = await (await conn.execute(queries.INSERT_REGION, (body.name, body.timezone))).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"region {body.name!r} already exists") from None
    assert row is not None
    await record(conn, principal, "create_region", resource=f"regions/{row['id']}",
                 client_addr=client_addr)
    return Region.model_validate(row)


@transactional
async def create_user(
    conn: AsyncConnection[DictRow], principal: Principal, body: UserIn, client_addr: str | None
) -> User:
    """Same rules as ``dolbom user add`` (dolbom.accounts); argon2 hashing off the loop."""
    try:
        check_new_user(body.username, body.password, body.role)
    except AccountError as error:
        raise Invalid(str(error)) from None
    if body.role in ("care_worker", "center_staff") and body.region_id is None:
        raise Invalid(f"a {body.role} needs a region_id")
    password_hash = await anyio.to_thread.run_sync(hash_password, body.password)
    try:
        async with conn.transaction():
            row = await (await conn.execute(queries.INSERT_USER, (
                body.username, password_hash, body.role, body.region_id, body.display_name,
            ))).fetchone()
    except psycopg.errors.UniqueViolation:
        raise Conflict(f"user {body.username!r} already exists") from None
    except psycopg.errors.ForeignKeyViolation:
        raise Invalid(f"region {body.region_id} does not exist") from None
    assert row is not None
    await record(conn, principal, "create_user", resource=f"users/{row['id']}",
                 client_addr=client_addr, detail={"role": body.role})
    return User.model_validate(row)
