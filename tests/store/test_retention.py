"""Retention per data class: each class keeps exactly what its policy says, and nothing else goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from dolbom.config import Settings
from store.partitions import ensure_partitions, existing_partitions, week_start
from store.retention import RetentionPolicy, apply_retention
from tests.factories import make_device, make_enrollee

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
POLICY = RetentionPolicy(
    readings_days=70, events_days=35, quarantine_days=10, audit_days=800, alerts_days=400
)


def _count(db: psycopg.Connection, query: str) -> int:
    row = db.execute(query).fetchone()
    assert row is not None
    return int(row[0])


def _alert(
    db: psycopg.Connection, enrollee: int, kind: str, status: str, resolved_days_ago: int | None
) -> int:
    resolved = None if resolved_days_ago is None else NOW - timedelta(days=resolved_days_ago)
    row = db.execute(
        "INSERT INTO alerts (enrollee_id, kind, severity, status, summary, onset_at, last_seen_at, "
        "resolved_at) VALUES (%s, %s, 'high', %s, 's', %s, %s, %s) RETURNING id",
        (enrollee, kind, status, NOW - timedelta(days=900), NOW - timedelta(days=900), resolved),
    ).fetchone()
    assert row is not None
    db.execute("INSERT INTO alert_actions (alert_id, action) VALUES (%s, 'open')", (row[0],))
    return int(row[0])


def test_each_data_class_keeps_what_its_policy_says(db: psycopg.Connection) -> None:
    enrollee = make_enrollee(db)
    device, _ = make_device(db, enrollee)
    ensure_partitions(db, NOW - timedelta(days=120), NOW + timedelta(days=7), now=NOW)
    # one reading and one event per 10 days back to 110 days, and one far outside any partition
    ages = list(range(0, 111, 10))
    for age in ages:
        ts = NOW - timedelta(days=age)
        db.execute("INSERT INTO readings VALUES (%s, 1, %s, 70)", (device, ts))
        db.execute("INSERT INTO events VALUES (%s, %s, 3, %s, NULL)", (device, enrollee, ts))
    db.execute("INSERT INTO readings VALUES (%s, 1, %s, 70)", (device, NOW - timedelta(days=400)))
    for age in (1, 9, 11, 30):
        db.execute(
            "INSERT INTO quarantine (received_at, topic, reason_code, reason, payload) "
            "VALUES (%s, 't', 'not_json', 'r', 'x')",
            (NOW - timedelta(days=age),),
        )
    for age in (10, 799, 801):
        db.execute("INSERT INTO access_audit (at, action) VALUES (%s, 'read_readings')",
                   (NOW - timedelta(days=age),))
    old_resolved = _alert(db, enrollee, "fever", "resolved", 401)
    recent_resolved = _alert(db, enrollee, "tachycardia", "resolved", 399)
    old_open = _alert(db, enrollee, "no_data", "open", None)
    db.execute("UPDATE alert_changes SET changed_at = %s", (NOW - timedelta(days=31),))

    counts = apply_retention(db, POLICY, NOW)

    def kept(table: str, days: int) -> int:
        since = (NOW - timedelta(days=days)).isoformat()
        return _count(db, f"SELECT count(*) FROM {table} WHERE ts < '{since}'")

    # Time series go by whole weeks: nothing newer than the cutoff goes, nothing older than
    # the cutoff's week stays.
    assert _count(db, "SELECT count(*) FROM readings") == sum(
        1 for a in ages if NOW - timedelta(days=a) >= week_start(NOW - timedelta(days=70))
    )
    assert kept("readings", 77) == 0 and _count(
        db, f"SELECT count(*) FROM readings WHERE ts >= '{(NOW - timedelta(days=70)).isoformat()}'"
    ) == sum(1 for a in ages if a <= 70)
    assert kept("events", 42) == 0 and _count(
        db, f"SELECT count(*) FROM events WHERE ts >= '{(NOW - timedelta(days=35)).isoformat()}'"
    ) == sum(1 for a in ages if a <= 35)
    assert _count(db, "SELECT count(*) FROM readings_default") == 0
    assert counts["readings_partitions"] > 0 and counts["events_partitions"] > counts["readings_partitions"]
    assert all(p >= f"readings_{week_start(NOW - timedelta(days=70)):%Y%m%d}"
               for p in existing_partitions(db, "readings") if p[-8:].isdigit())

    assert _count(db, "SELECT count(*) FROM quarantine") == 2 and counts["quarantine"] == 2
    assert _count(db, "SELECT count(*) FROM access_audit") == 2 and counts["access_audit"] == 1
    alerts = {r[0] for r in db.execute("SELECT id FROM alerts").fetchall()}
    assert alerts == {recent_resolved, old_open} and old_resolved not in alerts
    assert _count(db, f"SELECT count(*) FROM alert_actions WHERE alert_id = {old_resolved}") == 0
    assert _count(db, "SELECT count(*) FROM alert_changes") == 0

    # Applying it again removes nothing more.
    again = apply_retention(db, POLICY, NOW)
    assert sum(again.values()) == 0


def test_scoring_queue_rows_go_only_once_every_worker_has_passed_them(db: psycopg.Connection) -> None:
    enrollee = make_enrollee(db)
    ids = [
        db.execute(
            "INSERT INTO scoring_queue (enrollee_id, ts_min, ts_max, received_at) "
            "VALUES (%s, %s, %s, %s) RETURNING id",
            (enrollee, NOW, NOW, NOW - timedelta(days=10)),
        ).fetchone()[0]  # type: ignore[index]
        for _ in range(4)
    ]
    apply_retention(db, POLICY, NOW)  # no analytics watermark yet: nothing goes
    assert _count(db, "SELECT count(*) FROM scoring_queue") == 4
    db.execute("DELETE FROM job_state WHERE job LIKE 'analytics.score%'")
    db.execute("INSERT INTO job_state (job, watermark) VALUES ('analytics.score/0', %s), "
               "('analytics.score/1', %s)", (ids[3], ids[1]))
    apply_retention(db, POLICY, NOW)
    assert [r[0] for r in db.execute("SELECT id FROM scoring_queue ORDER BY id").fetchall()] == ids[2:]


def test_policy_comes_from_settings_and_refuses_too_short_audit_retention() -> None:
    settings = Settings(quarantine_retention_days=30, audit_retention_days=1000)
    policy = RetentionPolicy.from_settings(settings)
    assert (policy.quarantine_days, policy.audit_days) == (30, 1000)
    with pytest.raises(ValueError, match="audit_retention_days"):
        Settings(audit_retention_days=365)


def test_the_scheduled_retention_job_applies_the_configured_policy(
    db_url: str, db: psycopg.Connection
) -> None:
    from command.system_jobs import retention_job

    for age in (5, 20, 40):
        db.execute("INSERT INTO quarantine (received_at, topic, reason_code, reason, payload) "
                   "VALUES (%s, 't', 'not_json', 'r', 'x')", (NOW - timedelta(days=age),))
    job = retention_job(RetentionPolicy.from_settings(Settings(quarantine_retention_days=30)))
    counts = job(db_url, NOW)
    assert counts is not None and counts["quarantine"] == 1
    assert _count(db, "SELECT count(*) FROM quarantine") == 2
