"""A small labelled scenario through MQTT -> `dolbom ingest` -> `dolbom analytics --once`:
each injected condition is exactly one alert of the right kind; the control gets none."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from tests.conftest import Broker
from tests.factories import make_device, make_enrollee, make_region
from tests.ingest.conftest import DOLBOM, IngestProcess, Publisher, scalar, wait_until


def reading(ts: datetime, **values: float) -> str:
    return json.dumps({"ts": int(ts.timestamp() * 1000), "values": values})


def test_labelled_scenario_end_to_end(
    db_url: str, db: psycopg.Connection, fresh_broker: Broker, tmp_path: Path
) -> None:
    region = make_region(db)
    people = {name: make_enrollee(db, region) for name in ("hypo", "crisis", "fever", "sos", "control")}
    kit = {
        name: {
            kind: make_device(db, e, kind)[1]
            for kind in ("glucometer", "bp_monitor", "wearable", "ai_speaker")
        }
        for name, e in people.items()
    }
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    messages = [
        (kit["hypo"]["glucometer"], "reading", reading(t0, glucose=48)),
        (kit["hypo"]["glucometer"], "reading", reading(t0 + timedelta(minutes=15), glucose=58)),
        (kit["crisis"]["bp_monitor"], "reading", reading(t0, systolic_bp=192, diastolic_bp=104)),
        (
            kit["crisis"]["bp_monitor"],
            "reading",
            reading(t0 + timedelta(minutes=5), systolic_bp=188, diastolic_bp=101),
        ),
        (kit["fever"]["wearable"], "reading", reading(t0, body_temp=38.4)),
        (kit["sos"]["ai_speaker"], "event", json.dumps({"ts": int(t0.timestamp() * 1000), "type": "sos"})),
        (kit["control"]["glucometer"], "reading", reading(t0, glucose=112)),
        (kit["control"]["bp_monitor"], "reading", reading(t0, systolic_bp=128, diastolic_bp=79)),
        (
            kit["control"]["wearable"],
            "reading",
            json.dumps(
                [
                    {
                        "ts": int((t0 + timedelta(minutes=i)).timestamp() * 1000),
                        "values": {"heart_rate": 70 + i % 5, "body_temp": 36.5},
                    }
                    for i in range(30)
                ]
            ),
        ),
    ]
    broker = fresh_broker  # a broker of its own: no retained messages from other tests
    ingest = IngestProcess(db_url, broker.url, tmp_path / "ingest")
    ingest.start()
    try:
        publisher = Publisher(broker)
        for device_id, kind, payload in messages:
            publisher.publish(f"dolbom/v1/{device_id}/{kind}", payload)
        publisher.flush()
        wait_until(
            lambda: (
                scalar(db, "SELECT count(*) FROM readings") >= 10 + 30 * 2
                and scalar(db, "SELECT count(*) FROM events") >= 1
            ),
            60,
            "ingest to store everything",
        )
    finally:
        ingest.stop()
    assert scalar(db, "SELECT count(*) FROM quarantine") == 0
    env = {**os.environ, "DOLBOM_DATABASE_URL": db_url, "DOLBOM_CONFIG": str(tmp_path / "none.toml")}
    now = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    done = subprocess.run(
        [str(DOLBOM), "analytics", "--once", "--now", now],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    alerts = db.execute("SELECT enrollee_id, kind FROM alerts ORDER BY enrollee_id, kind").fetchall()
    expected = {
        (people["hypo"], "hypoglycemia"),
        (people["crisis"], "hypertensive_crisis"),
        (people["fever"], "fever"),
        (people["sos"], "sos"),
    }
    assert sorted(alerts) == sorted(expected)  # exactly one each; none for the control
    crisis = db.execute("SELECT severity, evidence FROM alerts WHERE kind = 'hypertensive_crisis'").fetchone()
    assert crisis[0] == "critical"
    fever = db.execute("SELECT source, summary FROM alerts WHERE kind = 'fever'").fetchone()
    assert fever[0] == "analytics" and "38.4" in fever[1]
