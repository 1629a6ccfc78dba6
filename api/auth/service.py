"""Login (argon2 via dolbom.accounts), signed short-lived tokens, failed-login rate limit."""

from __future__ import annotations

import time
from collections import deque
from datetime import UTC, datetime, timedelta

import anyio.to_thread
import jwt
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from api.auth import queries
from api.errors import TooManyAttempts, Unauthorized
from api.principal import ROLE_RANK, Principal
from dolbom.accounts import hash_password, verify_password

ALGORITHM = "HS256"
ISSUER = "dolbom"

# Failed logins per (username, client address): at most MAX_FAILURES in WINDOW_S, then 429
# until the oldest failure leaves the window. In-process: each API process counts its own.
MAX_FAILURES = 5
WINDOW_S = 15 * 60
_MAX_TRACKED = 100_000

_DUMMY_HASH = hash_password("dolbom-timing-equaliser")  # unknown users cost as much as known


class LoginLimiter:
    """Sliding-window count of failed logins per (username, client address)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def check(self, username: str, client: str) -> None:
        """Raise ``TooManyAttempts`` while this username+address is locked out."""
        now = time.monotonic()
        times = self._recent((username, client), now)
        if len(times) >= self.max_failures:
            retry = max(1, int(times[0] + self.window_s - now) + 1)
            raise TooManyAttempts("too many failed logins; try again later", retry)

    def failed(self, username: str, client: str) -> None:
        now = time.monotonic()
        if len(self._failures) >= _MAX_TRACKED:
            self._failures = {k: v for k, v in self._failures.items() if self._recent(k, now)}
        key = (username, client)
        times = self._recent(key, now)
        times.append(now)
        self._failures[key] = times

    def succeeded(self, username: str, client: str) -> None:
        self._failures.pop((username, client), None)


async def authenticate(
    conn: AsyncConnection[DictRow], limiter: LoginLimiter, username: str, password: str, client: str
) -> Principal:
    """The user named ``username`` if ``password`` is theirs; 401 or 429 otherwise."""
    limiter.check(username, client)
    user = await (await conn.execute(queries.USER_BY_NAME, (username,))).fetchone()
    stored = user["password_hash"] if user else _DUMMY_HASH
    # argon2 is deliberately slow and memory-hard: keep it off the event loop.
    ok = await anyio.to_thread.run_sync(verify_password, stored, password)
    if not ok or user is None or not user["active"]:
        limiter.failed(username, client)
        raise Unauthorized("incorrect username or password")
    limiter.succeeded(username, client)
    return Principal(user["id"], user["username"], user["role"], user["region_id"])


def issue_token(principal: Principal, secret: str, ttl_minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "sub": str(principal.user_id),
        "name": principal.username,
        "role": principal.role,
        "region": principal.region_id,
        "iat": now,
        "exp": now + timedelta(minutes=ttl_minutes),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


_verified: dict[tuple[str, str], tuple[Principal, float]] = {}
_VERIFIED_MAX = 10_000


def read_token(token: str, secret: str) -> Principal:
    """The principal a valid token names; ``Unauthorized`` for anything else.

    A token already verified is remembered until it expires, so its signature is not
    re-checked on every request of a busy client.
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
            options={"require": ["exp", "sub", "iss"]},
        )
        principal = Principal(int(claims["sub"]), str(claims["name"]), str(claims["role"]),
                              None if claims.get("region") is None else int(claims["region"]))
        expires = float(claims["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise Unauthorized("invalid or expired token") from None
    if principal.role not in ROLE_RANK:
        raise Unauthorized("invalid or expired token")
    return principal, expires
