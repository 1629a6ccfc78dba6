"""Privacy: readings that raise alerts go through ingest, analytics and the API, and the logs
at INFO carry neither the person's name nor their vitals (STYLE.md, DESIGN.md)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.principal import Principal
from api.security.tokens import issue_token
from dolbom.config import Settings
from tests.conftest import Broker
from tests.factories import make_device, make_enrollee, make_region, make_user
from tests.ingest.conftest import DOLBOM, IngestProcess, Publisher, scalar, wait_until

NAME = "김말순 Privacy-Probe"
# Vitals as they would be written in a summary or an evidence dump.
VITALS = [r"\b193\s*mmHg", r"193\s*/\s*117", r"\b38\.7\s*°?C", r"\b41\s*mg", r"\b82\s*%", "glucose=41",
          "spo2=82", "systolic_bp=193"]


def test_logs_at_info_carry_no_names_and_no_vitals(
    db_url: str, db: psycopg.Connection, fresh_broker: Broker, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    region = make_region(db)
    enrollee = make_enrollee(db, region, name=NAME)
    devices = {kind: make_device(db, enrollee, kind)[1] for kind in ("bp_monitor", "glucometer", "wearable")}
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)

    def reading(minutes: int, **values: float) -> str:
        return json.dumps({"ts": int((t0 + timedelta(minutes=minutes)).timestamp() * 1000), "values": values})

    messages = [
        (devices["bp_monitor"], reading(0, systolic_bp=193, diastolic_bp=117)),
        (devices["bp_monitor"], reading(4, systolic_bp=193, diastolic_bp=117)),
        (devices["glucometer"], reading(1, glucose=41)),
        (devices["wearable"], reading(2, body_temp=38.7, spo2=82)),
        (devices["wearable"], reading(3, spo2=82)),
    ]
    ingest = IngestProcess(db_url, fresh_broker.url, tmp_path / "ingest")
    ingest.start()
    try:
        publisher = Publisher(fresh_broker)
        for device_id, payload in messages:
            publisher.publish(f"dolbom/v1/{device_id}/reading", payload)
        publisher.flush()
        wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") >= 8, 60, "ingest to store everything")
    finally:
        ingest.stop()
    env = {**os.environ, "DOLBOM_DATABASE_URL": db_url, "DOLBOM_CONFIG": str(tmp_path / "none.toml"),
           "DOLBOM_LOG_LEVEL": "INFO"}
    analytics = subprocess.run(
        [str(DOLBOM), "analytics", "--once", "--now", (datetime.now(UTC) + timedelta(minutes=1)).isoformat()],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert analytics.returncode == 0, analytics.stderr
    summaries = [r[0] for r in db.execute("SELECT summary FROM alerts").fetchall()]
    # the alerts do carry the vitals (that is what a care worker needs)...
    assert {r[0] for r in db.execute("SELECT kind FROM alerts")} >= {
        "hypertensive_crisis", "hypoglycemia", "low_spo2"}
    assert any(re.search(VITALS[0], s) for s in summaries), summaries

    settings = Settings(database_url=db_url, environment="test",
                        secret_key="privacy-test-secret-key-of-32-bytes-or-more")
    caplog.set_level(logging.INFO)
    with TestClient(create_app(settings)) as client:
        admin = make_user(db, "admin", username="privacy-admin")
        token = issue_token(Principal(admin, "privacy-admin", "admin", None), settings.secret_key, 5)
        headers = {"Authorization": f"Bearer {token}"}
        alerts = client.get("/v1/alerts", headers=headers)
        readings = client.get(f"/v1/enrollees/{enrollee}/readings?metric=glucose", headers=headers)
        page = client.get(f"/v1/enrollees/{enrollee}", headers=headers)
    # ...and the API gives them to an authorised reader
    assert alerts.status_code == readings.status_code == page.status_code == 200
    assert NAME in page.text and any(v["value"] == 41 for v in readings.json()["items"])

    logs = {"ingest": ingest.log(), "analytics": analytics.stderr + analytics.stdout,
            "api": "\n".join(r.getMessage() for r in caplog.records)}
    assert all(logs.values()), "every component logged something at INFO"
    for component, text in logs.items():
        assert NAME not in text and "김말순" not in text, f"{component} logged a name"
        for pattern in VITALS:
            assert not re.search(pattern, text), f"{component} logged a vital ({pattern})"
        for summary in summaries:
            assert summary not in text, f"{component} logged an alert summary"
