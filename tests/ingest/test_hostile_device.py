"""One hostile device must never blind a region (issue 12): a real Mosquitto with the identity
plugin and the production ACL, ``dolbom ingest`` in require mode, a live API and an open SSE
client; and retained zigbee2mqtt states across ingest restarts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from psycopg.types.json import Jsonb

from dolbom.wire import MAX_EVENT_DATA_DEPTH
from tests.api.conftest import LiveServer, build_world, settings  # noqa: F401
from tests.api.test_stream import SseClient
from tests.conftest import Broker
from tests.factories import make_device
from tests.ingest.conftest import IngestProcess, scalar, wait_until
from tests.ingest.test_identity_broker import (  # noqa: F401
    Device,
    devices,
    plugin,
    quarantined,
    run,
)

SPEAKER = "band-a"  # an account the secured broker knows; provisioned here as an AI speaker


def nested(depth: int) -> dict[str, object]:
    """An object nested ``depth`` levels deep (``{"x": 1}`` is one)."""
    value: dict[str, object] = {"x": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def sos(data: object | None = None) -> bytes:
    body: dict[str, object] = {"ts": int(datetime.now(UTC).timestamp() * 1000), "type": "sos"}
    if data is not None:
        body["data"] = data
    return json.dumps(body).encode()  # orjson refuses to encode past 255 levels


def test_deep_sos_is_quarantined_and_the_region_keeps_its_live_alerts(
    db: psycopg.Connection, db_url: str, plugin: Path,  # noqa: F811
    run: Callable[..., tuple[Broker, IngestProcess]],  # noqa: F811
    devices: Callable[..., Device], settings,  # noqa: F811
) -> None:
    world = build_world(db)
    make_device(db, world.enrollees["a1"], "ai_speaker", device_id=SPEAKER, room="living")
    broker, ingest = run(db_url, plugin)
    server = LiveServer(settings)
    server.start()
    stream = SseClient(server.url, world.token("staff_a"))
    try:
        speaker = devices(broker, SPEAKER)
        topic = f"dolbom/v1/{SPEAKER}/event"
        # 300 levels (orjson would not even encode it back) and the limit plus one
        assert speaker.publish(topic, sos(nested(300))) in (0, 16)
        assert speaker.publish(topic, sos(nested(MAX_EVENT_DATA_DEPTH + 1))) in (0, 16)
        wait_until(lambda: len(quarantined(db, topic)) == 2, 30, "both quarantined")
        reasons = sorted(reason for _, reason, _ in quarantined(db, topic))
        assert [code for code, _, _ in quarantined(db, topic)] == ["bad_shape", "bad_shape"]
        assert reasons == ["JSON nested more than 16 levels deep (an event's data may nest at "
                           "most 8)", "event data nested more than 8 levels deep"]
        assert scalar(db, "SELECT count(*) FROM alerts") == 0
        assert scalar(db, "SELECT count(*) FROM events") == 0

        # the inbox, the page and the stream still work, and the next SOS arrives live
        for handle in ("staff_a", "admin"):
            answer = httpx.get(f"{server.url}/v1/alerts", headers=world.headers(handle))
            assert answer.status_code == 200, answer.text
        page = httpx.get(f"{server.url}/app", cookies={"dolbom_token": world.token("staff_a")})
        assert page.status_code == 200
        sent = time.monotonic()
        assert speaker.publish(topic, sos({"phrase": "help me"})) in (0, 16)
        [alert] = stream.alerts(1)
        print(f"SOS publish → SSE client: {(time.monotonic() - sent) * 1000:.0f} ms")
        assert alert["kind"] == "sos" and alert["enrollee_id"] == world.enrollees["a1"]
        assert alert["evidence"]["events"][0]["data"] == {"phrase": "help me"}
        assert "Traceback" not in ingest.log()
    finally:
        stream.close()
        server.stop()


def test_an_alert_stored_too_deep_is_shown_not_a_500(
    db: psycopg.Connection, settings,  # noqa: F811
) -> None:
    """Evidence nested 251 levels, as stored before the limits (written past raise_alert):
    lists, the page and a Last-Event-ID replay show it with the depth cut."""
    world = build_world(db)
    before = scalar(db, "SELECT coalesce(max(id), 0) FROM alert_changes")
    db.execute("INSERT INTO alerts (enrollee_id, kind, severity, summary, evidence, source, "
               "onset_at, last_seen_at) VALUES (%s, 'sos', 'critical', 'SOS', %s, 'ingest', "
               "now(), now())", (world.enrollees["a1"], Jsonb({"events": [nested(251)]})))
    server = LiveServer(settings)
    server.start()
    stream = SseClient(server.url, world.token("staff_a"), last_event_id=before)
    try:
        for query in ("", "?status=open"):
            answer = httpx.get(f"{server.url}/v1/alerts{query}", headers=world.headers("admin"))
            assert answer.status_code == 200, answer.text
            [item] = answer.json()["items"]
            assert "omitted" in orjson.dumps(item["evidence"]).decode()
        page = httpx.get(f"{server.url}/app", cookies={"dolbom_token": world.token("staff_a")})
        assert page.status_code == 200
        [replayed] = stream.alerts(1)
        assert replayed["kind"] == "sos"
    finally:
        stream.close()
        server.stop()


class Hub:
    """A zigbee2mqtt hub publishing (retained, as zigbee2mqtt does with ``retain: true``)."""

    def __init__(self, broker: Broker) -> None:
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  protocol=MQTTProtocolVersion.MQTTv5)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def test_a_retained_fall_survives_two_ingest_restarts_without_a_second_alert(
    db: psycopg.Connection, db_url: str, fresh_broker: Broker, tmp_path: Path,
) -> None:
    world = build_world(db)
    make_device(db, world.enrollees["a1"], "motion_sensor", device_id="radar-1",
                room="bathroom")
    ingest = IngestProcess(db_url, fresh_broker.url, tmp_path / "ingest")
    ingest.start()
    hub = Hub(fresh_broker)
    falls = "SELECT count(*) FROM alerts WHERE kind = 'fall'"
    try:
        hub.publish("zigbee2mqtt/radar-1", b'{"fall_status":"fall_alarm","battery":90}')
        wait_until(lambda: scalar(db, falls) == 1, 30, "the fall alert")
        db.execute("UPDATE alerts SET status = 'resolved', resolved_at = now() "
                   "WHERE kind = 'fall'")
        # 1: same client id, the persistent session remains: retain handling replays nothing
        ingest.stop()
        ingest.start()
        # 2: a new subscription (a new client id), so the broker replays the retained state
        ingest.stop()
        second = IngestProcess(db_url, fresh_broker.url, tmp_path / "ingest2")
        second.start()
        try:
            hub.publish("zigbee2mqtt/radar-1", b'{"temperature":22.5}')  # a later, live state
            wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") == 1, 30,
                       "the later state stored (so the replay before it was processed)")
            assert scalar(db, falls) == 1
            assert scalar(db, "SELECT count(*) FROM alerts WHERE status <> 'resolved'") == 0
            assert scalar(db, "SELECT count(*) FROM events") == 1
            assert "retained zigbee2mqtt state" not in second.log()
        finally:
            second.stop()
    finally:
        hub.close()
        ingest.stop()


def test_a_retained_state_never_stored_is_taken_as_new(
    db: psycopg.Connection, db_url: str, fresh_broker: Broker, tmp_path: Path,
) -> None:
    """A fall published while no ingest session existed is not lost to the comparison."""
    world = build_world(db)
    make_device(db, world.enrollees["a1"], "motion_sensor", device_id="radar-2",
                room="bathroom")
    hub = Hub(fresh_broker)
    hub.publish("zigbee2mqtt/radar-2", b'{"fall_status":"fall_alarm"}')
    ingest = IngestProcess(db_url, fresh_broker.url, tmp_path / "ingest")
    ingest.start()
    try:
        wait_until(lambda: scalar(db, "SELECT count(*) FROM alerts WHERE kind = 'fall'") == 1,
                   30, "the fall alert from the retained state")
        assert "differs from the last one stored" in ingest.log()
    finally:
        hub.close()
        ingest.stop()


@pytest.mark.parametrize("topic", ["dolbom/v1/w-a1/readings", "dolbom/v1/w-a1/reading/x"])
def test_data_on_a_wrong_sub_topic_is_quarantined(
    db: psycopg.Connection, db_url: str, broker: Broker, tmp_path: Path, topic: str,
) -> None:
    build_world(db)
    ingest = IngestProcess(db_url, broker.url, tmp_path / "ingest")
    ingest.start()
    hub = Hub(broker)
    try:
        hub.client.publish(topic, b'{"ts":1,"values":{"heart_rate":70}}', qos=1) \
            .wait_for_publish(10)
        wait_until(lambda: quarantined(db, topic), 30, "the bad_topic row")
        [(code, reason, _)] = quarantined(db, topic)
        assert code == "bad_topic" and "is not dolbom/v1/<device_id>/reading" in reason
    finally:
        hub.close()
        ingest.stop()
