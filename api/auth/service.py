"""Login (argon2 via dolbom.accounts, rate-limited by api/auth/limiter.py) and signed tokens."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import jwt
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from api.auth import queries
from api.auth.limiter import LoginLimiter
from api.errors import Unauthorized
from api.principal import ROLE_RANK, Principal
from dolbom.accounts import hash_password, verify_password

ALGORITHM = "HS256"
ISSUER = "dolbom"

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


def issue_token(principal: Principal, secret: str, ttl_minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": str(principal.user_id),
        "name": principal.username,
        "role": principal.role,
        "region": principal.region_id,
        "ver": principal.token_version,
        "iat": now,
        "exp": now + timedelta(minutes=ttl_minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


_verified: dict[tuple[str, str], tuple[Principal, float]] = {}
_VERIFIED_MAX = 10_000


def read_token(token: str, secret: str) -> Principal:
    """The principal a validly signed, unexpired token names; ``Unauthorized`` otherwise.

    Only the token itself: whether its version is still the user's is
    ``api.auth.tokens.Tokens.principal``'s question. A token already verified is remembered
    until it expires, so its signature is not re-checked on every request of a busy client.
    """
    cached = _verified.get((token, secret))
    if cached is not None and cached[1] > time.time():
        return cached[0]
    principal, expires = _verify(token, secret)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[(token, secret)] = (principal, expires)
    return principal


def _verify(token: str, secret: str) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
            options={"require": ["exp", "sub", "iss", "ver"]},
        )
        principal = Principal(int(claims["sub"]), str(claims["name"]), str(claims["role"]),
                              None if claims.get("region") is None else int(claims["region"]),
                              int(claims["ver"]))
        expires = float(claims["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise Unauthorized("invalid or expired token") from None
    if principal.role not in ROLE_RANK:
        raise Unauthorized("invalid or expired token")
    return principal, expires
