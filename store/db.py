"""Connections to PostgreSQL, with one clear line when the database cannot be reached."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import psycopg.conninfo
import psycopg.sql

from dolbom.config import redact_url
from dolbom.errors import DatabaseUnavailable

CONNECT_TIMEOUT_S = 5


def _unavailable(url: str, error: Exception) -> DatabaseUnavailable:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return DatabaseUnavailable(
        f"cannot connect to PostgreSQL at {redact_url(url)} ({first}); "
        "start PostgreSQL or set DOLBOM_DATABASE_URL to a reachable postgresql:// URL"
    )


def connect(url: str, *, autocommit: bool = False, **kwargs: object) -> psycopg.Connection:
    """Open one connection or raise ``DatabaseUnavailable`` with a readable message."""
    try:
        return psycopg.connect(
            url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S, **kwargs  # type: ignore[arg-type]
        )
    except (psycopg.OperationalError, psycopg.ProgrammingError) as error:
        raise _unavailable(url, error) from error


def check(url: str) -> None:
    """Raise ``DatabaseUnavailable`` unless ``url`` answers."""
    with connect(url, autocommit=True) as conn:
        conn.execute("SELECT 1")


@contextmanager
def transaction(url: str) -> Iterator[psycopg.Connection]:
    """One connection in one transaction, committed on success."""
    with connect(url) as conn, conn.transaction():
        yield conn


def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` if the server has none by that name.

    Returns True when it was created. Raises ``DatabaseUnavailable`` if the server itself
    cannot be reached.
    """
    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.get("dbname")
    if not name:
        return False
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S):
            return False
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise _unavailable(url, error) from error
    with connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(str(name))))
    return True
