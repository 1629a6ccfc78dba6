"""Ordered, idempotent migrations: ``dolbom migrate``.

Each file in ``store/migrations`` named ``NNNN_name.sql`` or ``NNNN_name.py`` (with an
``apply(conn)`` function) is applied once, in order, in its own transaction, under an advisory
lock so two processes migrating at once do not race. Reference data (metric and event codes
from ``dolbom.wire``) is synchronised on every run.
"""

from __future__ import annotations

import importlib.util
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from dolbom.wire import EVENT_CODES, METRICS
from store.db import connect

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(sql|py)$")
LOCK_KEY = 0x646F6C626F6D  # "dolbom"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def apply(self, conn: psycopg.Connection) -> None:
        if self.path.suffix == ".sql":
            conn.execute(self.path.read_text(encoding="utf-8"))  # type: ignore[arg-type]
            return
        spec = importlib.util.spec_from_file_location(f"dolbom_migration_{self.version}", self.path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.apply(conn)


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found: dict[int, Migration] = {}
    for path in sorted(directory.iterdir()):
        match = _NAME_RE.match(path.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise RuntimeError(f"two migrations share version {version}: {path.name}")
        found[version] = Migration(version, match.group(2), path)
    return [found[v] for v in sorted(found)]


def migrate(url: str) -> list[int]:
    """Apply pending migrations; return the versions applied (empty when up to date)."""
    applied: list[int] = []
    with connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
            for migration in discover():
                if migration.version in done:
                    continue
                with conn.transaction():
                    migration.apply(conn)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
                log.info("applied migration %04d_%s", migration.version, migration.name)
                applied.append(migration.version)
            with conn.transaction():
                sync_reference_data(conn)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied


def sync_reference_data(conn: psycopg.Connection) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO metrics (code, name, unit) VALUES (%s, %s, %s) "
            "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, unit = EXCLUDED.unit "
            "WHERE (metrics.name, metrics.unit) IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.unit)",
            [(m.code, m.name, m.unit) for m in METRICS],
        )
        cur.executemany(
            "INSERT INTO event_types (code, name) VALUES (%s, %s) "
            "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name "
            "WHERE event_types.name IS DISTINCT FROM EXCLUDED.name",
            [(code, str(name)) for name, code in EVENT_CODES.items()],
        )


def current_version(url: str) -> int | None:
    with connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT to_regclass('schema_migrations') IS NOT NULL"
        ).fetchone()
        if not row or not row[0]:
            return None
        version = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return version[0] if version else None
