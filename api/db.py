"""The API's asynchronous connection pool (one per process, opened in the app lifespan)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, ParamSpec, TypeVar

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from store.db import CONNECT_TIMEOUT_S

P = ParamSpec("P")
R = TypeVar("R")

POOL_MIN = 2
POOL_MAX = 16

Pool = AsyncConnectionPool[AsyncConnection[DictRow]]


async def open_pool(url: str, *, min_size: int = POOL_MIN, max_size: int = POOL_MAX) -> Pool:
    """Open the pool; rows come back as dicts."""
    pool: Pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        name="dolbom-api",
        open=False,
        connection_class=AsyncConnection[DictRow],
        # No server-side prepared statements: the catch-all filters ("x IS NULL OR col = x")
        # need a plan for the actual values, which a generic prepared plan cannot give.
        # Reads commit asynchronously: the audit row of a read is flushed by the WAL writer
        # within a fraction of a second instead of an fsync per request; actions and other
        # writes run in ``durable`` transactions, which commit synchronously.
        kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "row_factory": dict_row, "autocommit": True,
                "prepare_threshold": None, "options": "-c synchronous_commit=off"},
    )
    await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
    return pool


@asynccontextmanager
async def durable(conn: AsyncConnection[Any]) -> AsyncIterator[None]:
    """One transaction that commits synchronously (an alert action must survive a crash)."""
    async with conn.transaction():
        await conn.execute("SET LOCAL synchronous_commit = on")
        yield


def transactional(func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Run a service function (first argument: the connection) in one transaction.

    Pool connections are in autocommit, so plain reads cost no COMMIT round trip; every
    function that writes more than one row (an action and its audit row) is wrapped in this.
    """

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        conn = args[0]
        assert isinstance(conn, AsyncConnection)
        async with durable(conn):
            return await func(*args, **kwargs)

    return wrapper
