"""Which tokens still work: each user's token version, checked on every request.

A token carries its user's ``token_version`` (claim ``ver``, migration 0051). It works while
the user is active and that is still their version; deactivating a user, changing their
password, role or region, or revoking their tokens bumps the version, so every token issued
before answers 401.

The check must not cost a query per request (bench/api.py): each process remembers a user's
version for ``VERSION_TTL_S``. A change made through this process is seen at once (the
service ``forget``s the user after its commit); one made through another API process within
``VERSION_TTL_S``. An open SSE stream asks before each message and heartbeat, and ends
once its token stops working.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Final

import jwt
import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import PoolTimeout

from api.db import Pool
from api.errors import Unauthorized
from api.principal import ROLE_RANK, Principal
from api.security import queries
from dolbom.config import DEV_SECRET, Settings

ALGORITHM = "HS256"
ISSUER = "dolbom"


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
    ``Tokens.principal``'s question. A token already verified is remembered
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

log = logging.getLogger(__name__)

VERSION_TTL_S: Final = 2.0
_MAX_USERS: Final = 100_000


class Tokens:
    """The API process's token authority: issues tokens and says whether one still works."""

    def __init__(self, secret: str, ttl_minutes: int, version_ttl_s: float = VERSION_TTL_S) -> None:
        self.secret = secret
        self.ttl_minutes = ttl_minutes
        self.version_ttl_s = version_ttl_s
        # user id -> (current token version, or None for a deactivated or deleted user; until)
        self._versions: dict[int, tuple[int | None, float]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Tokens:
        """Refuses (``ConfigError``) without a usable secret; warns when it is the public one."""
        secret = settings.token_secret()
        if secret == DEV_SECRET:
            log.warning("tokens are signed with the public development secret "
                        "(DOLBOM_ENVIRONMENT=%s): anyone can forge one; set DOLBOM_SECRET_KEY "
                        "anywhere but on a development machine", settings.environment)
        return cls(secret, settings.token_ttl_minutes)

    def issue(self, principal: Principal) -> str:
        return issue_token(principal, self.secret, self.ttl_minutes)

    async def principal(self, token: str, conn: AsyncConnection[DictRow]) -> Principal:
        """The caller a token names while it still works; ``Unauthorized`` otherwise."""
        principal = read_token(token, self.secret)
        current = self._known(principal)
        if current is None:
            current = await self._load(principal, conn)
        if not current:
            raise Unauthorized("this token was revoked; log in again")
        return principal

    async def still_works(self, principal: Principal, pool: Pool) -> bool:
        """Whether a long-lived request's token still works (the SSE stream asks before each
        message): a pooled connection only when the cached version has expired. A database
        that does not answer does not end the stream (it answers True)."""
        current = self._known(principal)
        if current is None:
            try:
                async with pool.connection() as conn:
                    current = await self._load(principal, conn)
            except (psycopg.Error, PoolTimeout, OSError):
                log.warning("token version of user %d not read; the stream goes on", principal.user_id)
                return True
        return current

    def _known(self, principal: Principal) -> bool | None:
        """From the cache: whether the token's version is the user's; None when not known."""
        known = self._versions.get(principal.user_id)
        if known is None or known[1] <= time.monotonic():
            return None
        return known[0] == principal.token_version

    async def _load(self, principal: Principal, conn: AsyncConnection[DictRow]) -> bool:
        row = await (await conn.execute(queries.TOKEN_STATE, (principal.user_id,))).fetchone()
        version = row["token_version"] if row is not None and row["active"] else None
        if len(self._versions) >= _MAX_USERS:
            self._versions.clear()
        self._versions[principal.user_id] = (version, time.monotonic() + self.version_ttl_s)
        return version == principal.token_version

    def forget(self, user_id: int) -> None:
        """Read this user's version afresh on their next request (call after the commit)."""
        self._versions.pop(user_id, None)
