"""dolbom ingest as a subprocess against a private Mosquitto and a fresh database."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime

import orjson
import psycopg

from tests.conftest import Broker
from tests.factories import make_device, make_enrollee
from tests.ingest.conftest import DOLBOM, IngestProcess, Publisher, scalar, wait_until


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def test_readings_events_status_and_zigbee_are_stored(
    db: psycopg.Connection, db_url: str, broker: Broker,
    ingest_factory: Callable[..., IngestProcess], publisher_factory: Callable[..., Publisher],
) -> None:
    enrollee = make_enrollee(db)
    make_device(db, enrollee, device_id="e2e-band")
    make_device(db, enrollee, kind="motion_sensor", device_id="e2e-pir", room="bathroom")
    make_device(db, enrollee, kind="ai_speaker", device_id="e2e-spk", room="living")
    ingest = ingest_factory(db_url, broker)
    ingest.start()
    pub = publisher_factory(broker)
    t = now_ms()
    pub.publish("dolbom/v1/e2e-band/reading",
                orjson.dumps([{"ts": t - i * 1000, "values": {"heart_rate": 70 + i % 5}}
                              for i in range(100)]))
    pub.publish("dolbom/v1/e2e-band/status", b'{"battery": 42, "online": true}')
    pub.publish("zigbee2mqtt/e2e-pir", b'{"occupancy":true,"battery":97,"linkquality":120}')
    pub.publish("zigbee2mqtt/e2e-pir/availability", b"offline")
    pub.publish("dolbom/v1/e2e-spk/event", orjson.dumps({"ts": t, "type": "sos"}))
    pub.flush()
    wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") == 100, 30, "readings")
    wait_until(lambda: scalar(db, "SELECT count(*) FROM events") == 2, 30, "events")
    wait_until(lambda: scalar(db, "SELECT count(*) FROM devices WHERE online IS NOT NULL") == 2,
               30, "device state")
    band = db.execute("SELECT battery, online, last_seen IS NOT NULL FROM devices "
                      "WHERE device_id = 'e2e-band'").fetchone()
    assert band == (42, True, True)
    pir = db.execute("SELECT battery, online FROM devices WHERE device_id = 'e2e-pir'").fetchone()
    assert pir == (97, False)
    wait_until(lambda: scalar(db, "SELECT count(*) FROM alerts WHERE kind = 'sos'") == 1, 30)
    summary, severity, source = db.execute(
        "SELECT summary, severity, source FROM alerts WHERE kind = 'sos'").fetchone() or ()
    assert severity == "critical" and source == "ingest"
    assert summary.startswith("SOS from AI speaker (living room) at ")
    wait_until(lambda: scalar(db, "SELECT value FROM counters WHERE name = 'readings_stored'")
               == 100, 30, "counters")
    assert scalar(db, "SELECT value FROM counters WHERE name = 'events_stored'") == 2
    assert scalar(db, "SELECT count(DISTINCT enrollee_id) FROM scoring_queue") == 1
    assert ingest.alive
    assert ingest.stop() == 0  # SIGTERM: stores, acknowledges, exits cleanly
    assert "Traceback" not in ingest.log() and "ingest stopped" in ingest.log()


def test_unknown_device_is_quarantined_then_accepted_once_provisioned(
    db: psycopg.Connection, db_url: str, broker: Broker,
    ingest_factory: Callable[..., IngestProcess], publisher_factory: Callable[..., Publisher],
) -> None:
    enrollee = make_enrollee(db)
    ingest = ingest_factory(db_url, broker)
    ingest.start()
    pub = publisher_factory(broker)
    topic = "dolbom/v1/late-cuff/reading"
    pub.publish(topic, orjson.dumps({"ts": now_ms(), "values": {"systolic_bp": 128}}))
    pub.flush()
    wait_until(lambda: scalar(db, "SELECT count(*) FROM quarantine WHERE reason_code = "
                                  "'unknown_device' AND device_id = 'late-cuff'") == 1, 30)
    assert scalar(db, "SELECT count(*) FROM readings") == 0
    make_device(db, enrollee, kind="bp_monitor", device_id="late-cuff")
    time.sleep(0.2)
    pub.publish(topic, orjson.dumps({"ts": now_ms(), "values": {"systolic_bp": 131}}))
    pub.flush()
    wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") == 1, 30, "accepted reading")
    assert ingest.alive and ingest.starts == 1


def test_start_without_broker_or_database_is_one_clear_line(db_url: str, broker: Broker) -> None:
    from tests.conftest import free_port

    env = {"DOLBOM_CONFIG": "/nonexistent.toml", "PATH": "/usr/bin:/bin"}
    no_broker = subprocess.run(
        [str(DOLBOM), "ingest"], capture_output=True, text=True, timeout=60,
        env={**env, "DOLBOM_DATABASE_URL": db_url,
             "DOLBOM_MQTT_URL": f"mqtt://127.0.0.1:{free_port()}"})
    assert no_broker.returncode != 0
    assert "MQTT broker" in no_broker.stderr and "Traceback" not in no_broker.stderr
    no_db = subprocess.run(
        [str(DOLBOM), "ingest"], capture_output=True, text=True, timeout=60,
        env={**env, "DOLBOM_MQTT_URL": broker.url,
             "DOLBOM_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"})
    assert no_db.returncode != 0
    assert "PostgreSQL" in no_db.stderr and "Traceback" not in no_db.stderr


def _scrape(port: int, name: str) -> float:
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in metrics")


def test_two_ingest_processes_share_the_load(
    db: psycopg.Connection, db_url: str, broker: Broker,
    ingest_factory: Callable[..., IngestProcess], publisher_factory: Callable[..., Publisher],
) -> None:
    from tests.conftest import free_port

    _, wire_id = make_device(db, make_enrollee(db), device_id="shared-band")
    ports = [free_port(), free_port()]
    group = f"g{time.monotonic_ns()}"
    workers = [ingest_factory(db_url, broker, DOLBOM_INGEST_SHARED_GROUP=group,
                              DOLBOM_INGEST_METRICS_PORT=str(port)) for port in ports]
    for worker in workers:
        worker.start()
    pub = publisher_factory(broker)
    t = now_ms() - 3_600_000
    n = 2_000
    for i in range(n):
        pub.publish(f"dolbom/v1/{wire_id}/reading",
                    orjson.dumps({"ts": t + i, "values": {"heart_rate": 60 + i % 30}}))
    pub.flush()
    wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") == n, 60, "all readings")
    taken = [_scrape(port, "dolbom_ingest_readings_stored_total") for port in ports]
    assert sum(taken) == n
    assert all(share > 0 for share in taken), taken
    assert scalar(db, "SELECT value FROM counters WHERE name = 'readings_stored'") == n
