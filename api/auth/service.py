"""Login: argon2 via dolbom.accounts, rate-limited by api/security/limiter.py; the token it
earns is issued by api/security/tokens.py."""

from __future__ import annotations

import anyio.to_thread
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from api.auth import queries
from api.errors import Unauthorized
from api.principal import Principal
from api.security.limiter import LoginLimiter
from dolbom.accounts import hash_password, verify_password

_DUMMY_HASH = hash_password("dolbom-timing-equaliser")  # unknown users cost as much as known


async def authenticate(
    conn: AsyncConnection[DictRow], limiter: LoginLimiter, username: str, password: str, client: str
) -> Principal:
    """The user named ``username`` if ``password`` is theirs; 401 or 429 otherwise.

    An unknown user, a wrong password and a deactivated user take the same path (the same
    queries, one argon2 verification, one failure recorded) and the same answer.
    """
    recent_failures = await limiter.check(conn, username, client)
    user = await (await conn.execute(queries.USER_BY_NAME, (username,))).fetchone()
    stored = user["password_hash"] if user else _DUMMY_HASH
    # argon2 is deliberately slow and memory-hard: keep it off the event loop.
    ok = await anyio.to_thread.run_sync(verify_password, stored, password)
    if not ok or user is None or not user["active"]:
        await limiter.failed(conn, username, client)
        raise Unauthorized("incorrect username or password")
    await limiter.succeeded(conn, username, client, recent_failures)
    return Principal(user["id"], user["username"], user["role"], user["region_id"],
                     user["token_version"])
