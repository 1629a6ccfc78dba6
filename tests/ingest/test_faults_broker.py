"""The broker stops mid-stream and starts again: devices and ingest reconnect by themselves,
and every reading the broker acknowledged to a device is stored exactly once.

A private Mosquitto with persistence on (as in deploy/mosquitto/mosquitto.conf) is stopped
with SIGTERM, as ``systemctl restart mosquitto`` does: it saves the sessions and the messages
queued for them, and loads them again at start. (A broker killed without saving loses what
it acknowledged since its last autosave: see docs/operations.md.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import psycopg
import pytest

from tests.conftest import Broker
from tests.factories import make_device, make_enrollee
from tests.ingest.conftest import IngestProcess, wait_until
from tests.ingest.faults import PersistentPublisher, assert_stored_exactly_once, stored


@pytest.fixture
def device_publisher(fresh_broker: Broker) -> Iterator[Callable[[str], PersistentPublisher]]:
    made: list[PersistentPublisher] = []

    def make(topic: str) -> PersistentPublisher:
        made.append(PersistentPublisher(fresh_broker, topic))
        return made[-1]

    yield make
    for publisher in made:
        publisher.close()


@pytest.mark.slow
def test_broker_down_and_restarted_mid_stream_loses_and_duplicates_nothing(
    db: psycopg.Connection, db_url: str, fresh_broker: Broker,
    ingest_factory: Callable[..., IngestProcess],
    device_publisher: Callable[[str], PersistentPublisher],
) -> None:
    n, restart_at, down_until = 20_000, 8_000, 10_000
    device, wire_id = make_device(db, make_enrollee(db), device_id="restart-band")
    ingest = ingest_factory(db_url, fresh_broker)
    ingest.start()
    pub = device_publisher(f"dolbom/v1/{wire_id}/reading")
    for i in range(restart_at):
        pub.publish(i)
    wait_until(lambda: stored(db) > 2_000, 60, "ingest to store the first readings")
    fresh_broker.stop()
    # While the broker is down the device keeps measuring; paho keeps the readings for later.
    for i in range(restart_at, down_until):
        pub.publish(i)
    wait_until(lambda: "unreachable; retrying" in ingest.log(), 30,
               "ingest to report the broker down")
    fresh_broker.start()
    for i in range(down_until, n):
        pub.publish(i)
    pub.wait_acked(n)
    assert not pub.refused
    assert pub.disconnects >= 1  # the device really lost its connection
    wait_until(lambda: stored(db) >= n, 90, "every acknowledged reading to be stored")
    wait_until(lambda: ingest.log().count("subscriptions granted") >= 2, 30, "resubscription")
    assert_stored_exactly_once(db, device, pub.acked)

    log = ingest.log()
    assert ingest.alive and ingest.starts == 1  # reconnected by itself, never restarted
    assert "MQTT connection lost" in log
    # The broker kept ingest's session across the restart (persistence on).
    assert re.findall(r"session present: (\w+)", log)[-1] == "True"
    assert "Traceback" not in log
