"""The store path (offline loader = the live writer without MQTT) and on-arrival alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import psycopg

from dolbom.alerts import AlertKind
from dolbom.rules import CONFIRM_WINDOW_S
from ingest.offline import load
from tests.factories import make_device, make_enrollee
from tests.ingest.conftest import scalar

SIM_START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # simulated time, far from the wall clock


def ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


def bp(device: str, ts: datetime, sbp: float, dbp: float) -> tuple[str, bytes, datetime]:
    body = {"ts": ms(ts), "values": {"systolic_bp": sbp, "diastolic_bp": dbp}}
    return f"dolbom/v1/{device}/reading", orjson.dumps(body), ts + timedelta(seconds=2)


def test_backfill_of_simulated_weeks_is_accepted_and_stored_once(
    db: psycopg.Connection, db_url: str
) -> None:
    e1, e2 = make_enrollee(db), make_enrollee(db)
    d1, _ = make_device(db, e1, device_id="sim-band-1")
    make_device(db, e2, kind="motion_sensor", device_id="sim-pir-2")
    messages = []
    for minute in range(0, 21 * 24 * 60, 10):  # three weeks, a reading every 10 min
        ts = SIM_START + timedelta(minutes=minute)
        messages.append(("dolbom/v1/sim-band-1/reading",
                         orjson.dumps({"ts": ms(ts), "values": {"heart_rate": 72, "steps": 12}}),
                         ts))
        messages.append(("zigbee2mqtt/sim-pir-2", b'{"occupancy": true}', ts))
    stats = load(db_url, messages, batch_rows=2_000)
    n = 21 * 24 * 6
    assert stats.readings_stored == 2 * n and stats.events_stored == n
    assert not stats.quarantined and stats.batches > 1
    again = load(db_url, messages[:100])
    assert again.readings_stored == 0 and again.readings_duplicate == 100
    late = SIM_START + timedelta(days=21, minutes=1)
    twice = ("dolbom/v1/sim-band-1/reading",
             orjson.dumps({"ts": ms(late), "values": {"heart_rate": 70}}), late)
    mixed = load(db_url, [messages[0], twice, twice])  # old, new, and new again in one batch
    assert (mixed.readings_stored, mixed.readings_duplicate) == (1, 3)
    n_extra = 1
    assert scalar(db, "SELECT count(*) FROM readings") == 2 * n + n_extra
    assert scalar(db, "SELECT value FROM counters WHERE name = 'readings_stored'") \
        == 2 * n + n_extra
    assert scalar(db, "SELECT value FROM counters WHERE name = 'events_stored'") == n
    window = db.execute("SELECT min(ts_min), max(ts_max) FROM scoring_queue WHERE enrollee_id = %s",
                        (e1,)).fetchone()
    assert window == (SIM_START, late)
    assert scalar(db, "SELECT count(DISTINCT enrollee_id) FROM scoring_queue") == 2
    last_seen = db.execute("SELECT last_seen FROM devices WHERE id = %s", (d1,)).fetchone()
    assert last_seen == (late,)


def test_hypertensive_crisis_is_high_then_critical_on_a_repeat(
    db: psycopg.Connection, db_url: str
) -> None:
    enrollee = make_enrollee(db)
    make_device(db, enrollee, kind="bp_monitor", device_id="cuff-1")
    t0 = SIM_START + timedelta(hours=8)
    load(db_url, [bp("cuff-1", t0, 186, 95)])
    row = db.execute("SELECT id, severity, status, source, summary, evidence FROM alerts "
                     "WHERE kind = 'hypertensive_crisis'").fetchone()
    assert row is not None
    alert_id, severity, status, source, summary, evidence = row
    assert (severity, status, source) == ("high", "open", "ingest")
    assert "186/95 mmHg" in summary and "repeat" in summary
    assert evidence["thresholds"][0]["source"].startswith("AHA/ACC 2017")
    assert evidence["readings"][0]["value"] == 186
    assert evidence["confirmation"]["readings_past_line"] == 1
    load(db_url, [bp("cuff-1", t0 + timedelta(minutes=5), 150, 124)])
    row = db.execute("SELECT id, severity, occurrences FROM alerts "
                     "WHERE kind = 'hypertensive_crisis'").fetchone()
    assert row == (alert_id, "critical", 2)
    # Redelivery of the same readings changes nothing.
    load(db_url, [bp("cuff-1", t0 + timedelta(minutes=5), 150, 124)])
    assert scalar(db, "SELECT occurrences FROM alerts WHERE id = %s", alert_id) == 2


def test_a_repeat_confirms_within_its_kinds_window_only(
    db: psycopg.Connection, db_url: str
) -> None:
    """dolbom.rules.CONFIRM_WINDOW_S per kind, all groups of a batch in one look-back."""
    enrollee = make_enrollee(db)
    make_device(db, enrollee, kind="bp_monitor", device_id="cuff-w")
    make_device(db, enrollee, device_id="band-w")
    t0 = SIM_START + timedelta(hours=10)

    def band(ts: datetime, **values: float) -> tuple[str, bytes, datetime]:
        return ("dolbom/v1/band-w/reading", orjson.dumps({"ts": ms(ts), "values": values}),
                ts + timedelta(seconds=2))

    def window(kind: AlertKind) -> timedelta:
        return timedelta(seconds=CONFIRM_WINDOW_S[kind])

    load(db_url, [bp("cuff-w", t0, 186, 95), band(t0, spo2=86, heart_rate=150)])
    # Past the heart-rate window, within SpO2's; within the crisis window (past 15 min).
    band_later = t0 + window(AlertKind.TACHYCARDIA) + timedelta(minutes=1)
    assert band_later - t0 < window(AlertKind.LOW_SPO2)
    cuff_later = t0 + window(AlertKind.HYPERTENSIVE_CRISIS) - timedelta(minutes=1)
    load(db_url, [bp("cuff-w", cuff_later, 184, 96), band(band_later, spo2=87, heart_rate=152)])
    rows = {kind: (severity, evidence["confirmation"]) for kind, severity, evidence in db.execute(
        "SELECT kind, severity, evidence FROM alerts WHERE enrollee_id = %s", (enrollee,))}
    minutes = {kind: CONFIRM_WINDOW_S[kind] / 60 for kind in CONFIRM_WINDOW_S}
    assert rows == {
        "hypertensive_crisis": ("critical", {"window_min": minutes[AlertKind.HYPERTENSIVE_CRISIS],
                                             "readings_past_line": 2}),
        "low_spo2": ("critical", {"window_min": minutes[AlertKind.LOW_SPO2],
                                  "readings_past_line": 2}),
        "tachycardia": ("high", {"window_min": minutes[AlertKind.TACHYCARDIA],
                                 "readings_past_line": 1}),
    }


def test_severe_hypoglycemia_is_critical_at_once(db: psycopg.Connection, db_url: str) -> None:
    enrollee = make_enrollee(db)
    make_device(db, enrollee, kind="glucometer", device_id="meter-1")
    t0 = SIM_START + timedelta(hours=7)
    load(db_url, [("dolbom/v1/meter-1/reading",
                   orjson.dumps({"ts": ms(t0), "values": {"glucose": 45}}), t0)])
    row = db.execute("SELECT severity, summary, evidence FROM alerts WHERE kind = 'hypoglycemia'"
                     ).fetchone()
    assert row is not None
    severity, summary, evidence = row
    assert severity == "critical" and "repeat" not in summary
    assert "confirmation" not in evidence  # nothing to confirm


def test_thresholds_follow_the_enrollee_overrides(db: psycopg.Connection, db_url: str) -> None:
    relaxed = make_enrollee(db, thresholds='{"sbp_crisis": 200, "spo2_critical": 90}')
    usual = make_enrollee(db)
    make_device(db, relaxed, kind="bp_monitor", device_id="cuff-r")
    make_device(db, usual, kind="bp_monitor", device_id="cuff-u")
    make_device(db, relaxed, device_id="band-r")
    t0 = SIM_START + timedelta(hours=9)
    spo2 = ("dolbom/v1/band-r/reading", orjson.dumps({"ts": ms(t0), "values": {"spo2": 89}}),
            t0)
    load(db_url, [bp("cuff-r", t0, 190, 90), bp("cuff-u", t0, 190, 90), spo2])
    # SBP 190 is below the relaxed 200 line; SpO2 89 is above the default 88 but within the
    # stricter 90 line of this enrollee.
    alerts = db.execute("SELECT enrollee_id, kind FROM alerts").fetchall()
    assert sorted(alerts) == sorted([(relaxed, "low_spo2"), (usual, "hypertensive_crisis")])
    evidence = db.execute("SELECT evidence FROM alerts WHERE kind = 'low_spo2'").fetchone()
    assert evidence is not None and evidence[0]["thresholds"][0]["value"] == 90


def test_sos_and_fall_open_critical_alerts_and_notify(db: psycopg.Connection, db_url: str) -> None:
    enrollee = make_enrollee(db)
    make_device(db, enrollee, kind="ai_speaker", device_id="spk-1", room="living")
    make_device(db, enrollee, kind="bed_sensor", device_id="radar-1", room="bedroom")
    db.execute("LISTEN dolbom_alerts")
    t0 = SIM_START + timedelta(hours=23, minutes=15)  # 08:15 in Asia/Seoul
    load(db_url, [
        ("dolbom/v1/spk-1/event", orjson.dumps({"ts": ms(t0), "type": "sos"}), t0),
        ("zigbee2mqtt/radar-1", b'{"fall_status": "fall_alarm", "battery": 80}', t0),
    ])
    rows = dict(db.execute("SELECT kind, summary FROM alerts WHERE severity = 'critical'"
                           ).fetchall())
    assert rows["sos"].startswith("SOS from AI speaker (living room) at 08:15")
    assert rows["fall"].startswith("Fall detected by bed sensor (bedroom) at 08:15")
    notes = list(db.notifies(timeout=2, stop_after=2))
    assert len(notes) == 2 and all(":" in n.payload for n in notes)


def test_removed_device_and_bad_parts_are_quarantined(db: psycopg.Connection, db_url: str) -> None:
    enrollee = make_enrollee(db)
    make_device(db, enrollee, device_id="old-band")
    db.execute("UPDATE devices SET removed_at = now() WHERE device_id = 'old-band'")
    make_device(db, enrollee, device_id="new-band")
    t0 = SIM_START
    stats = load(db_url, [
        ("dolbom/v1/old-band/reading", orjson.dumps({"ts": ms(t0), "values": {"spo2": 97}}), t0),
        ("dolbom/v1/new-band/reading",
         orjson.dumps([{"ts": ms(t0), "values": {"spo2": 97, "heart_rate": 999}},
                       {"ts": ms(t0) + 1000, "values": {"spo2": 96}}]), t0),
    ])
    assert stats.readings_stored == 2
    assert stats.quarantined == {"unknown_device": 1, "out_of_range": 1}
    reason = db.execute("SELECT reason FROM quarantine WHERE reason_code = 'unknown_device'"
                        ).fetchone()
    assert reason is not None and "removed" in reason[0]
