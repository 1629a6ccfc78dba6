"""``dolbom backup`` / ``dolbom restore``: pg_dump custom-format archives of the whole store."""

from __future__ import annotations

import glob
import shutil
import subprocess
from pathlib import Path

from dolbom.errors import DolbomError
from store.db import check, ensure_database


class BackupError(DolbomError):
    """A backup or restore failed."""


def _tool(name: str, server_major: int | None = None) -> str:
    """The pg_dump/pg_restore matching the server's major version when installed."""
    if server_major is not None:
        exact = f"/usr/lib/postgresql/{server_major}/bin/{name}"
        if Path(exact).exists():
            return exact
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                                   reverse=True)), None)
    if not found:
        raise BackupError(f"{name} not found; install the PostgreSQL client (apt-get install "
                          "postgresql-client)")
    return found


def _server_major(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return int(conn.info.server_version) // 10000


def backup(url: str, path: Path) -> int:
    """Write a compressed custom-format dump of the database to ``path``; return its size."""
    check(url)
    tmp = path.with_name(path.name + ".partial")
    result = subprocess.run(
        [_tool("pg_dump", _server_major(url)), "--format=custom", "--compress=6",
         "--no-owner", "--file", str(tmp), url],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip().splitlines()[-1]}")
    tmp.replace(path)  # a backup file is complete or absent, never half-written
    return path.stat().st_size


def restore(url: str, path: Path) -> None:
    """Restore a dump made by ``backup`` into the database at ``url`` (replacing its objects)."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    ensure_database(url)
    check(url)
    result = subprocess.run(
        [_tool("pg_restore", _server_major(url)), "--clean", "--if-exists", "--no-owner",
         "--single-transaction", "--exit-on-error", "--dbname", url, str(path)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["unknown error"]
        raise BackupError(f"pg_restore failed: {lines[-1]}")
