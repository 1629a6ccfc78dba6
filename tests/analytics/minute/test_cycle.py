"""The jobs against a real PostgreSQL: --once scoring, watermark, lifecycle."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import psycopg

from analytics.service import run_once
from tests.analytics.conftest import alerts_of, store_events, store_readings
from tests.factories import make_device, make_enrollee, make_region, make_user

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 10:00 in Seoul


def test_confirmed_crisis_opens_one_critical_alert_with_evidence(
    db_url: str, db: psycopg.Connection, enrollee: int
) -> None:
    cuff, _ = make_device(db, enrollee, "bp_monitor")
    store_readings(
        db,
        cuff,
        enrollee,
        [
            (T0, "systolic_bp", 186),
            (T0, "diastolic_bp", 100),
            (T0 + timedelta(minutes=5), "systolic_bp", 188),
        ],
    )
    run_once(db_url, T0 + timedelta(minutes=6))
    rows = alerts_of(db, enrollee)
    assert [(r[0], r[1], r[2]) for r in rows] == [("hypertensive_crisis", "critical", "open")]
    evidence = rows[0][5]
    assert evidence["value"] == 188 and evidence["threshold"]["value"] == 180
    assert "repeat" in rows[0][4] and evidence["threshold"]["source"].startswith("AHA")
    # running again with nothing new changes nothing (watermark)
    run_once(db_url, T0 + timedelta(minutes=7))
    assert alerts_of(db, enrollee)[0][3] == 1


def test_auto_resolve_after_clear_reading_and_time(
    db_url: str, db: psycopg.Connection, enrollee: int
) -> None:
    meter, _ = make_device(db, enrollee, "glucometer")
    store_readings(db, meter, enrollee, [(T0, "glucose", 50)])
    run_once(db_url, T0 + timedelta(minutes=1))
    store_readings(db, meter, enrollee, [(T0 + timedelta(minutes=30), "glucose", 110)])
    run_once(db_url, T0 + timedelta(minutes=31))
    assert alerts_of(db, enrollee)[0][2] == "open"  # cleared, but not for an hour yet
    run_once(db_url, T0 + timedelta(minutes=62))
    ((kind, _, status, _, _, _, outcome),) = alerts_of(db, enrollee)
    assert (kind, status, outcome) == ("hypoglycemia", "resolved", "auto_resolved")
    actions = [r[0] for r in db.execute("SELECT action FROM alert_actions ORDER BY id")]
    assert actions == ["open", "escalate", "auto_resolve"]  # level 2 is critical: escalated at 5 min


def test_value_hovering_in_the_band_does_not_flap(db_url: str, db: psycopg.Connection, enrollee: int) -> None:
    meter, _ = make_device(db, enrollee, "glucometer")
    for i, value in enumerate([68, 72, 69, 75, 67, 73]):
        at = T0 + timedelta(hours=2 * i)
        store_readings(db, meter, enrollee, [(at, "glucose", value)])
        run_once(db_url, at + timedelta(minutes=1))
    rows = alerts_of(db, enrollee)
    assert len(rows) == 1 and rows[0][2] == "open" and rows[0][3] == 3  # one alert, three breaches


def test_unacknowledged_critical_escalates_to_centre_staff(db_url: str, db: psycopg.Connection) -> None:
    region = make_region(db)
    staff = make_user(db, "center_staff", region)
    person = make_enrollee(db, region)
    other = make_enrollee(db, region)
    cuff, _ = make_device(db, person, "bp_monitor")
    cuff2, _ = make_device(db, other, "bp_monitor")
    for device, who in ((cuff, person), (cuff2, other)):
        store_readings(
            db, device, who, [(T0, "systolic_bp", 200), (T0 + timedelta(minutes=3), "systolic_bp", 205)]
        )
    run_once(db_url, T0 + timedelta(minutes=4))
    db.execute("UPDATE alerts SET status = 'acknowledged' WHERE enrollee_id = %s", (other,))
    run_once(db_url, T0 + timedelta(minutes=7, seconds=59))  # 5 min after the confirming reading
    assert db.execute("SELECT count(*) FROM alerts WHERE escalated_at IS NOT NULL").fetchone() == (0,)
    run_once(db_url, T0 + timedelta(minutes=8))
    escalated = db.execute("SELECT enrollee_id FROM alerts WHERE escalated_at IS NOT NULL").fetchall()
    assert escalated == [(person,)]
    detail = db.execute("SELECT detail FROM alert_actions WHERE action = 'escalate'").fetchone()[0]
    assert detail["user_ids"] == [staff]
    assert db.execute("SELECT count(*) FROM access_audit WHERE action = 'escalate_alert'").fetchone() == (1,)


def test_snooze_holds_same_level_but_not_a_worse_one(
    db_url: str, db: psycopg.Connection, enrollee: int
) -> None:
    meter, _ = make_device(db, enrollee, "glucometer")
    store_readings(db, meter, enrollee, [(T0, "glucose", 65)])
    run_once(db_url, T0 + timedelta(minutes=1))
    db.execute("UPDATE alerts SET snoozed_until = %s", (T0 + timedelta(hours=2),))
    store_readings(db, meter, enrollee, [(T0 + timedelta(minutes=10), "glucose", 66)])
    run_once(db_url, T0 + timedelta(minutes=11))
    assert alerts_of(db, enrollee)[0][3] == 1  # snoozed: not updated
    store_readings(db, meter, enrollee, [(T0 + timedelta(minutes=20), "glucose", 50)])
    run_once(db_url, T0 + timedelta(minutes=21))
    row = db.execute("SELECT severity, status, snoozed_until, occurrences FROM alerts").fetchone()
    assert row == ("critical", "open", None, 2)


def test_data_beyond_now_waits_for_its_time(db_url: str, db: psycopg.Connection, enrollee: int) -> None:
    meter, _ = make_device(db, enrollee, "glucometer")
    store_readings(db, meter, enrollee, [(T0, "glucose", 120), (T0 + timedelta(hours=2), "glucose", 45)])
    run_once(db_url, T0 + timedelta(hours=1))
    assert alerts_of(db, enrollee) == []
    run_once(db_url, T0 + timedelta(hours=3))
    assert [r[0] for r in alerts_of(db, enrollee)] == ["hypoglycemia"]
    run_once(db_url, T0 + timedelta(hours=3, minutes=1))
    assert alerts_of(db, enrollee)[0][3] == 1  # scored once


def test_inactivity_by_the_clock_then_resolved(db_url: str, db: psycopg.Connection, enrollee: int) -> None:
    pir, _ = make_device(db, enrollee, "motion_sensor", room="living")
    morning = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # 09:00 Seoul
    store_events(db, pir, enrollee, [(morning + timedelta(minutes=10 * i), "motion", None) for i in range(6)])
    run_once(db_url, morning + timedelta(hours=4))
    assert alerts_of(db, enrollee) == []
    run_once(db_url, morning + timedelta(hours=5, minutes=25))  # 4.6 h since 09:50 (cold start 4.5 h)
    ((kind, severity, status, _, summary, evidence, _),) = alerts_of(db, enrollee)
    assert (kind, severity, status) == ("inactivity", "high", "open")
    assert "No movement at home" in summary and evidence["baseline"]["source"].startswith("population")
    back = morning + timedelta(hours=5, minutes=40)
    store_events(db, pir, enrollee, [(back, "motion", None)])
    run_once(db_url, back + timedelta(minutes=1))
    run_once(db_url, back + timedelta(minutes=32))
    assert alerts_of(db, enrollee)[0][2] == "resolved"


def test_cli_once_with_now(db_url: str, db: psycopg.Connection, enrollee: int) -> None:
    meter, _ = make_device(db, enrollee, "glucometer")
    store_readings(db, meter, enrollee, [(T0, "glucose", 320)])
    env = {**os.environ, "DOLBOM_DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-m", "command", "analytics", "--once", "--now", "2026-11-02T10:05:00+09:00"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [r[0] for r in alerts_of(db, enrollee)] == ["hyperglycemia"]


def test_missed_checkins_counted_from_the_store(db_url: str, db: psycopg.Connection, enrollee: int) -> None:
    speaker, _ = make_device(db, enrollee, "ai_speaker")
    day = timedelta(days=1)
    store_events(db, speaker, enrollee, [(T0, "checkin", {"answered": True, "mood": 4})])
    store_events(db, speaker, enrollee, [(T0 + day, "checkin", {"answered": False})])
    run_once(db_url, T0 + day + timedelta(minutes=1))
    # the same day queued again (a backlog re-covering it) must not count twice
    db.execute(
        "INSERT INTO scoring_queue (enrollee_id, ts_min, ts_max) VALUES (%s, %s, %s)",
        (enrollee, T0, T0 + day),
    )
    run_once(db_url, T0 + day + timedelta(minutes=2))
    assert alerts_of(db, enrollee) == []
    store_events(db, speaker, enrollee, [(T0 + 2 * day, "checkin", {"answered": False})])
    run_once(db_url, T0 + 2 * day + timedelta(minutes=1))
    ((kind, _, status, _, summary, _, _),) = alerts_of(db, enrollee)
    assert (kind, status) == ("missed_checkins", "open") and summary.startswith("2 daily check-ins in a row")
    store_events(db, speaker, enrollee, [(T0 + 3 * day, "checkin", {"answered": True, "mood": 3})])
    run_once(db_url, T0 + 3 * day + timedelta(minutes=1))
    run_once(db_url, T0 + 3 * day + timedelta(minutes=62))
    assert alerts_of(db, enrollee)[0][2] == "resolved"


def _weigh_in(db_url: str, db: psycopg.Connection, enrollee: int, today_kg: float) -> None:
    scale, _ = make_device(db, enrollee, "scale")
    for day, kg in ((-3, 60.0), (-2, 60.2), (-1, 60.1), (0, today_kg)):
        at = T0 + timedelta(days=day)
        store_readings(db, scale, enrollee, [(at, "weight", kg)])
        run_once(db_url, at + timedelta(minutes=1))


def test_weight_gain_alerts_on_arrival_of_the_crossing_reading(
    db_url: str, db: psycopg.Connection, enrollee: int
) -> None:
    """ESC 2021: > 2 kg in 3 days. Scored in the minute cycle, not at the next nightly run."""
    _weigh_in(db_url, db, enrollee, 62.1)
    rows = alerts_of(db, enrollee)
    assert [(r[0], r[2]) for r in rows] == [("rapid_weight_gain", "open")]
    evidence = rows[0][5]
    assert evidence["on_arrival"] and evidence["reference_kg"] == 60.0
    assert evidence["threshold"]["source"].startswith("ESC")
    onset = db.execute("SELECT onset_at FROM alerts WHERE enrollee_id = %s", (enrollee,)).fetchone()
    assert onset is not None and onset[0] == T0


def test_weight_gain_of_exactly_two_kg_is_not_an_alert(
    db_url: str, db: psycopg.Connection, enrollee: int
) -> None:
    _weigh_in(db_url, db, enrollee, 62.0)
    assert alerts_of(db, enrollee) == []


def test_data_of_an_enrollee_deactivated_meanwhile_is_consumed_without_alert(
    db_url: str, db: psycopg.Connection, enrollee: int
) -> None:
    """Her shard's windows hold nobody active: the group must not fail (it did, every minute,
    with the watermark stuck behind her rows)."""
    meter, _ = make_device(db, enrollee, "glucometer")
    store_readings(db, meter, enrollee, [(T0, "glucose", 45)])
    db.execute("UPDATE enrollees SET active = false WHERE id = %s", (enrollee,))
    results = run_once(db_url, T0 + timedelta(minutes=1))
    assert results["score"]["queue_rows"] == 1 and results["score"]["alerts"] == 0
    assert alerts_of(db, enrollee) == []
    assert run_once(db_url, T0 + timedelta(minutes=2))["score"].get("queue_rows", 0) == 0  # consumed
