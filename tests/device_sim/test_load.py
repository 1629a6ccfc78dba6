"""Load mode against a private broker: it reports what was sent and acknowledged."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device_sim.cli import main
from device_sim.load import LoadPlan, run_load
from dolbom.config import Settings
from tests.conftest import Broker

decode_mod = pytest.importorskip("ingest.decode")


@pytest.mark.parametrize(("qos", "batch"), [(1, 1), (0, 20)])
def test_load_sends_valid_readings_and_counts_acks(broker: Broker, qos: int, batch: int) -> None:
    prefix = f"lt{qos}{batch}"
    received: list[tuple[str, bytes]] = []
    lock = threading.Lock()
    ready = threading.Event()
    sub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    sub.on_connect = lambda c, *a: c.subscribe("dolbom/v1/+/reading", qos=1)
    sub.on_subscribe = lambda *a: ready.set()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.split("/")[2].startswith(prefix + "-"):
            with lock:
                received.append((msg.topic, bytes(msg.payload)))

    sub.on_message = on_message
    sub.connect("127.0.0.1", broker.port)
    sub.loop_start()
    try:
        assert ready.wait(5)
        plan = LoadPlan(broker.url, rate=400, devices=6, processes=2, qos=qos, batch=batch,
                        seconds=1.0, prefix=prefix)
        result = run_load(plan, progress=False)
        assert result.sent > 50 and result.acked == result.sent and result.failed == 0
        assert result.readings == result.sent * batch
        assert len(result.per_process) == 2
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(received) < result.sent:
            time.sleep(0.05)
    finally:
        sub.loop_stop()
        sub.disconnect()
    if qos == 1:
        assert len(received) == result.sent
    now = datetime.now(UTC)
    readings = set()
    for topic, payload in received:
        decoded = decode_mod.decode(topic, payload, now, now)
        assert decoded.rejects == ()
        readings |= {(r.device_id, r.ts) for r in decoded.readings}
    assert len(readings) == sum(1 for _ in received) * batch  # no two readings collide
    assert {t.split("/")[2] for t, _ in received} == {f"{prefix}-d{n:06d}" for n in range(1, 7)}


def test_load_cli_provisions_devices_and_reports(
    db_url: str, broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(database_url=db_url, mqtt_url=broker.url)
    argv = ["load", "--rate", "200", "--devices", "4", "--processes", "1", "--qos", "1",
            "--batch", "3", "--seconds", "0.5", "--prefix", "lcli"]
    assert main(argv, settings) == 0
    out = capsys.readouterr().out
    assert "acknowledged" in out and "sent" in out
    assert main(argv, settings) == 0  # provisioning again adds nothing
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM devices WHERE device_id LIKE 'lcli-d%'")
        count = row.fetchone()
        assert count is not None and count[0] == 4
