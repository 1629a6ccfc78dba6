"""Connections to PostgreSQL, with one clear line when the database cannot be reached or
refuses to write (read-only, disk full): ``refusal`` is the one classification of such errors,
used by ingest (retry, acknowledge nothing), the API (503) and the command line (one line)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import psycopg.conninfo
import psycopg.sql

from dolbom.config import redact_url
from dolbom.errors import DatabaseUnavailable

CONNECT_TIMEOUT_S = 5

# What the database says about itself when it refuses a statement that is fine in itself.
UNAVAILABLE = "database unavailable"
READ_ONLY = "database refuses writes (read-only)"
DISK_FULL = "database is out of disk space"
NO_RESOURCES = "database is out of resources"
CONFLICT = "database aborted the transaction (deadlock or serialization conflict)"

_HINTS = {
    UNAVAILABLE: "check that PostgreSQL is running and reachable, then run again",
    READ_ONLY: "make it writable (ALTER DATABASE ... RESET default_transaction_read_only) or "
               "point DOLBOM_DATABASE_URL at the primary, then run again",
    DISK_FULL: "free disk space on the database server, then run again",
    NO_RESOURCES: "check the database server (memory, max_connections), then run again",
    CONFLICT: "run again",
}


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _unavailable(url: str, error: Exception) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"cannot connect to PostgreSQL at {redact_url(url)} ({first_line(error)}); "
        "start PostgreSQL or set DOLBOM_DATABASE_URL to a reachable postgresql:// URL"
    )


def refusal(error: BaseException) -> str | None:
    """Why PostgreSQL refused, when the reason is the database and not the statement.

    None for errors the statement or its data caused (retrying the same cannot help). For the
    others, the same work succeeds once the database is back, writable or has room again:
    retry it unchanged.
    """
    if not isinstance(error, psycopg.Error):
        return None
    state = error.sqlstate or ""
    if isinstance(error, psycopg.errors.ReadOnlySqlTransaction):  # 25006, also a hot standby
        return READ_ONLY
    if state == "53100":
        return DISK_FULL
    if state.startswith("53"):  # out of memory, too many connections
        return NO_RESOURCES
    if state.startswith("40"):  # serialization failure, deadlock
        return CONFLICT
    if isinstance(error, psycopg.OperationalError):  # lost or refused connection, shutdown
        return UNAVAILABLE
    return None


def refusal_line(error: BaseException, url: str) -> str | None:
    """One line for a command that failed because the database refused; None otherwise."""
    why = refusal(error)
    if why is None:
        return None
    return f"{why} at {redact_url(url)}: {first_line(error)}; {_HINTS[why]}"


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
