"""The API's asynchronous connection pool (one per process, opened in the app lifespan)."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from store.db import CONNECT_TIMEOUT_S

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
        kwargs={"connect_timeout": CONNECT_TIMEOUT_S, "row_factory": dict_row},
    )
    await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
    return pool
