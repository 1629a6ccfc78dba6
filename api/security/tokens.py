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
from typing import Final

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg_pool import PoolTimeout

from api.auth import queries
from api.auth.service import issue_token, read_token
from api.db import Pool
from api.errors import Unauthorized
from api.principal import Principal
from dolbom.config import DEV_SECRET, Settings

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
