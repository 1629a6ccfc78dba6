from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from store.backup import BackupError, backup, restore
from tests.factories import make_device, make_enrollee


def test_backup_and_restore_round_trip(db_url: str, empty_db_url: str, db: psycopg.Connection,
                                       tmp_path: Path) -> None:
    enrollee = make_enrollee(db, name="김영희")
    device, _ = make_device(db, enrollee)
    ts = datetime(2026, 11, 20, 8, tzinfo=UTC)
    db.execute("INSERT INTO readings VALUES (%s, 4, %s, 151), (%s, 5, %s, 92)",
               (device, ts, device, ts))
    archive = tmp_path / "dolbom.dump"
    assert backup(db_url, archive) > 0
    restore(empty_db_url, archive)
    with psycopg.connect(empty_db_url) as copy:
        assert copy.execute("SELECT name FROM enrollees").fetchall() == [("김영희",)]
        assert copy.execute("SELECT metric, ts, value FROM readings ORDER BY metric").fetchall() == [
            (4, ts, 151.0), (5, ts, 92.0)]
        versions = copy.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert versions is not None and versions[0] >= 2


def test_restore_of_a_missing_file_is_a_clear_error(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no backup file"):
        restore(db_url, tmp_path / "nope.dump")
