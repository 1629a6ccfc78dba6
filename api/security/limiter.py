"""The failed-login limit, shared by every API process through PostgreSQL (``login_failures``).

Two sliding windows of ``WINDOW_S`` (15 minutes), both counted from the database, so the
limit holds however many API processes share the load:

| key | at most | against |
|---|---|---|
| (username, client address) | ``MAX_FAILURES`` = 5 | one address guessing; a typing slip |
| username alone | ``MAX_USER_FAILURES`` = 20 | guesses spread over many addresses |

The second catches guesses spread over addresses (a botnet). Behind a proxy that is not
trusted with ``DOLBOM_API_FORWARDED_ALLOW_IPS`` every client has the proxy's address, and five
failures from anyone lock a username out for everyone: set it.

Past either, the login answers 429 with ``Retry-After`` (the seconds until enough failures
leave the window) without checking the password. A successful login clears the failures of
its own (username, address), not those of other addresses. The price of the second key: 20
wrong guesses from anywhere hold one username locked for up to 15 minutes; the first key
alone allowed unlimited guesses spread over addresses. Two attempts checked at the same
instant may both pass: the count can overshoot by the number of concurrent attempts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from api.errors import TooManyAttempts
from api.security import queries

MAX_FAILURES: Final = 5
MAX_USER_FAILURES: Final = 20
WINDOW_S: Final = 15 * 60
# A username longer than any stored one (200) cannot log in; its first characters are key enough.
_KEY_CHARS: Final = 256


@dataclass(frozen=True, slots=True)
class LoginLimiter:
    """Sliding-window counts of failed logins per (username, address) and per username."""

    max_failures: int = MAX_FAILURES
    max_user_failures: int = MAX_USER_FAILURES
    window_s: float = WINDOW_S

    async def check(self, conn: AsyncConnection[DictRow], username: str, client: str) -> int:
        """Raise ``TooManyAttempts`` while locked out; else this address's recent failures."""
        row = await (await conn.execute(queries.RECENT_FAILURES, {
            "username": username[:_KEY_CHARS], "client": client, "window_s": self.window_s,
            "pair_nth": self.max_failures - 1, "user_nth": self.max_user_failures - 1,
        })).fetchone()
        assert row is not None
        # The n-th newest failure leaving the window brings the count below n.
        ages = [age for age in (row["pair_age_s"], row["user_age_s"]) if age is not None]
        if ages:
            retry = max(1, math.ceil(self.window_s - min(ages)))
            raise TooManyAttempts("too many failed logins; try again later", retry)
        return int(row["pair_failures"])

    async def failed(self, conn: AsyncConnection[DictRow], username: str, client: str) -> None:
        await conn.execute(queries.INSERT_FAILURE, {
            "username": username[:_KEY_CHARS], "client": client, "window_s": self.window_s,
        })

    async def succeeded(
        self, conn: AsyncConnection[DictRow], username: str, client: str, recent_failures: int
    ) -> None:
        """Forget this address's failures (no write when there were none)."""
        if recent_failures:
            await conn.execute(queries.CLEAR_FAILURES, (username[:_KEY_CHARS], client))
