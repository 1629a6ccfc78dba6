from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest

from store.migrate import current_version, discover, migrate
from store.partitions import drop_partitions_before, ensure_partitions, week_start
from tests.factories import make_device, make_enrollee


def test_migrations_apply_to_an_empty_database_and_rerun_is_a_noop(empty_db_url: str) -> None:
    applied = migrate(empty_db_url)
    assert applied == [m.version for m in discover()]
    assert current_version(empty_db_url) == applied[-1]
    assert migrate(empty_db_url) == []
    with psycopg.connect(empty_db_url) as conn:
        tables = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        metric_count = conn.execute("SELECT count(*) FROM metrics").fetchone()
    for table in ("regions", "users", "enrollees", "devices", "readings", "events", "alerts",
                  "alert_actions", "access_audit", "quarantine"):
        assert table in tables
    assert metric_count == (12,)


def test_readings_reject_duplicate_but_accept_same_ts_for_another_metric(
    db: psycopg.Connection,
) -> None:
    device, _ = make_device(db, make_enrollee(db))
    ts = datetime.now(UTC).replace(microsecond=0)
    insert = "INSERT INTO readings (device, metric, ts, value) VALUES (%s, %s, %s, %s)"
    db.execute(insert, (device, 1, ts, 72))
    db.execute(insert, (device, 2, ts, 97))  # same ts, another metric: accepted
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(insert, (device, 1, ts, 75))
    # The same instant in another offset is the same ts.
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(insert, (device, 1, ts.astimezone(timezone(timedelta(hours=9))), 75))
    assert db.execute("SELECT count(*) FROM readings").fetchone() == (2,)


def test_rows_outside_partitions_land_in_default_and_move_when_a_partition_is_made(
    db: psycopg.Connection,
) -> None:
    device, _ = make_device(db, make_enrollee(db))
    old = datetime(2025, 3, 5, 12, tzinfo=UTC)
    db.execute("INSERT INTO readings VALUES (%s, 1, %s, 60)", (device, old))
    assert db.execute("SELECT count(*) FROM readings_default").fetchone() == (1,)
    created = ensure_partitions(db, old, old + timedelta(days=1))
    assert created == [f"readings_{week_start(old):%Y%m%d}", f"events_{week_start(old):%Y%m%d}"]
    assert db.execute("SELECT count(*) FROM readings_default").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM readings").fetchone() == (1,)
    assert ensure_partitions(db, old, old + timedelta(days=1)) == []
    dropped = drop_partitions_before(db, week_start(old) + timedelta(days=7))
    assert f"readings_{week_start(old):%Y%m%d}" in dropped
    assert db.execute("SELECT count(*) FROM readings").fetchone() == (0,)


def test_device_change_notifies_listeners(db_url: str, db: psycopg.Connection) -> None:
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN dolbom_devices")
        make_device(db, make_enrollee(db), device_id="band-42")
        notes = list(listener.notifies(timeout=2, stop_after=1))
    assert [n.payload for n in notes] == ["band-42"]


def test_alert_changes_get_increasing_ids_and_notify(db_url: str, db: psycopg.Connection) -> None:
    enrollee = make_enrollee(db)
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN dolbom_alerts")
        alert = db.execute(
            "INSERT INTO alerts (enrollee_id, kind, severity, summary, onset_at, last_seen_at)"
            " VALUES (%s, 'sos', 'critical', 'SOS pressed', now(), now()) RETURNING id",
            (enrollee,),
        ).fetchone()
        db.execute("UPDATE alerts SET status = 'acknowledged' WHERE id = %s", (alert[0],))
        notes = list(listener.notifies(timeout=2, stop_after=2))
    change_ids = [int(n.payload.split(":")[0]) for n in notes]
    assert change_ids == sorted(change_ids) and len(set(change_ids)) == 2
    assert {n.payload.split(":")[1] for n in notes} == {str(alert[0])}
    # one active alert per (enrollee, kind)
    with pytest.raises(psycopg.errors.UniqueViolation):
        db.execute(
            "INSERT INTO alerts (enrollee_id, kind, severity, summary, onset_at, last_seen_at)"
            " VALUES (%s, 'sos', 'critical', 'again', now(), now())",
            (enrollee,),
        )


def test_analytics_maintenance_creates_partitions_ahead_of_now(db_url: str, db: psycopg.Connection) -> None:
    from command.system_jobs import maintain_partitions

    later = datetime.now(UTC) + timedelta(days=120)
    assert f"readings_{week_start(later):%Y%m%d}" not in {
        r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'readings_%'")}
    counts = maintain_partitions(db_url, later)
    assert counts is not None and counts["partitions_created"] > 0
    names = {r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'readings_%'")}
    assert f"readings_{week_start(later + timedelta(days=27)):%Y%m%d}" in names
    assert maintain_partitions(db_url, later) == {"partitions_created": 0}
