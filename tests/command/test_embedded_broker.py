"""The embedded Mosquitto of ``dolbom up`` keeps a persistent session's queue across a restart
(started as root it used to drop to the mosquitto user and fail to save it, silently)."""

from __future__ import annotations

import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from command.embedded import start_broker
from tests.conftest import free_port


def _session(port: int, received: list[bytes] | None = None) -> mqtt.Client:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="embedded-persist",
                         protocol=MQTTProtocolVersion.MQTTv5)
    if received is not None:
        client.on_message = lambda _c, _u, message: received.append(message.payload)
    client.connect("127.0.0.1", port, clean_start=False, properties=props)
    client.loop_start()
    return client


def test_queued_messages_survive_a_restart_of_the_embedded_broker(tmp_path: Path) -> None:
    url, proc = start_broker(tmp_path, free_port())
    port = int(url.rsplit(":", 1)[1])
    try:
        subscriber = _session(port)
        subscriber.subscribe("dolbom/v1/+/reading", qos=1)
        time.sleep(0.5)
        subscriber.loop_stop()
        subscriber.disconnect()
        publisher = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        publisher.connect("127.0.0.1", port)
        publisher.loop_start()
        for n in range(5):
            publisher.publish("dolbom/v1/band-1/reading", f"{n}".encode(), qos=1).wait_for_publish(5)
        publisher.loop_stop()
        publisher.disconnect()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    log = (tmp_path / "broker" / "mosquitto.log").read_text()
    assert "Error" not in log, log
    url, proc = start_broker(tmp_path, port)
    received: list[bytes] = []
    try:
        subscriber = _session(port, received)
        deadline = time.monotonic() + 10
        while len(received) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        subscriber.loop_stop()
        subscriber.disconnect()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert sorted(received) == [f"{n}".encode() for n in range(5)]
