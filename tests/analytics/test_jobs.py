"""The jobs against a real PostgreSQL: --once scoring, watermark, lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from analytics.service import run_once
from tests.analytics.conftest import alerts_of, store_readings
from tests.factories import make_device

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
