from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from dolbom.alerts import AlertKind, Severity
from store.alerts import raise_alert
from tests.factories import make_enrollee


def _raise(conn: psycopg.Connection, enrollee: int, severity: str, ts: datetime,
           summary: str = "x") -> tuple[int, bool, str]:
    r = raise_alert(conn, enrollee_id=enrollee, kind=AlertKind.LOW_SPO2, severity=Severity(severity),
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
    assert second[2] is Severity.HIGH and third[2] is Severity.CRITICAL
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


def _raise_any(conn: psycopg.Connection, enrollee: int, kind: Any, severity: Any) -> None:
    raise_alert(conn, enrollee_id=enrollee, kind=kind, severity=severity, summary="x",
                evidence={}, data_ts=datetime(2026, 11, 20, 8, tzinfo=UTC), source="test")


@pytest.mark.parametrize("kind", ["heart_attack", "SOS", "", None, 3])
def test_a_kind_outside_alert_kind_is_refused_before_anything_is_written(
    db: psycopg.Connection, kind: object
) -> None:
    enrollee = make_enrollee(db)
    with pytest.raises(ValueError, match=r"not an alert AlertKind of dolbom\.alerts"):
        _raise_any(db, enrollee, kind, Severity.HIGH)
    assert db.execute("SELECT count(*) FROM alerts").fetchone() == (0,)
    assert db.execute("SELECT count(*) FROM alert_actions").fetchone() == (0,)


@pytest.mark.parametrize("severity", ["urgent", "CRITICAL", 4])
def test_a_severity_outside_severity_is_refused(db: psycopg.Connection, severity: object) -> None:
    enrollee = make_enrollee(db)
    with pytest.raises(ValueError, match=r"not an alert Severity of dolbom\.alerts"):
        _raise_any(db, enrollee, AlertKind.FEVER, severity)
    assert db.execute("SELECT count(*) FROM alerts").fetchone() == (0,)


def test_a_plain_string_naming_a_member_is_taken_as_that_member(db: psycopg.Connection) -> None:
    enrollee = make_enrollee(db)
    _raise_any(db, enrollee, "fever", "medium")
    assert db.execute("SELECT kind, severity FROM alerts").fetchone() == ("fever", "medium")
