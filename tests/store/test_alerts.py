from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from store.alerts import raise_alert
from tests.factories import make_enrollee


def _raise(conn: psycopg.Connection, enrollee: int, severity: str, ts: datetime,
           summary: str = "x") -> tuple[int, bool, str]:
    r = raise_alert(conn, enrollee_id=enrollee, kind="low_spo2", severity=severity,
                    summary=summary, evidence={"value": 1}, data_ts=ts, source="test")
    return r.alert_id, r.opened, r.severity


def test_repeats_update_one_alert_and_never_lower_severity(db: psycopg.Connection) -> None:
    enrollee = make_enrollee(db)
    t0 = datetime(2026, 11, 20, 8, tzinfo=UTC)
    first = _raise(db, enrollee, "high", t0, "SpO2 90 %")
    second = _raise(db, enrollee, "medium", t0 + timedelta(minutes=5), "SpO2 92 %")
    third = _raise(db, enrollee, "critical", t0 + timedelta(minutes=9), "SpO2 85 %")
    assert first[1] is True and second[1] is False and third[1] is False
    assert first[0] == second[0] == third[0]
    row = db.execute(
        "SELECT severity, occurrences, summary, onset_at, last_seen_at FROM alerts"
    ).fetchone()
    assert row == ("critical", 3, "SpO2 85 %", t0, t0 + timedelta(minutes=9))
    actions = [r[0] for r in db.execute("SELECT action FROM alert_actions ORDER BY id")]
    assert actions == ["open", "update", "update"]


def test_a_resolved_alert_is_not_reused(db: psycopg.Connection) -> None:
    enrollee = make_enrollee(db)
    t0 = datetime(2026, 11, 20, 8, tzinfo=UTC)
    first, _, _ = _raise(db, enrollee, "high", t0)
    db.execute("UPDATE alerts SET status = 'resolved', resolved_at = now() WHERE id = %s", (first,))
    second, opened, _ = _raise(db, enrollee, "high", t0 + timedelta(hours=1))
    assert opened and second != first
