"""Publisher identity end to end: a real Mosquitto with the dolbom_identity plugin (built here
with gcc from deploy/mosquitto/plugin), password file and the production ACL, and a real
``dolbom ingest`` with ``DOLBOM_INGEST_DEVICE_IDENTITY=require``."""

from __future__ import annotations

import shutil
import subprocess
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from command.broker_auth import issue_credentials
from tests.conftest import Broker, free_port
from tests.factories import make_device, make_enrollee
from tests.ingest.conftest import IngestProcess, scalar, wait_until

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SRC = ROOT / "deploy" / "mosquitto" / "plugin"
ACL = ROOT / "deploy" / "mosquitto" / "acl"
PROPERTY = "dolbom-username"
INGEST_PASSWORD = "password-of-ingest"
ACCOUNTS = ("band-a", "band-b", "hub-1")


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/mosquitto/plugin built with its Makefile; a missing toolchain fails the test."""
    missing = [tool for tool in ("make", "gcc") if shutil.which(tool) is None]
    missing += [f"/usr/include/{header}" for header in ("mosquitto_broker.h", "mosquitto.h")
                if not Path("/usr/include", header).exists()]
    if missing:
        pytest.fail(f"cannot build the Mosquitto identity plugin, missing: {', '.join(missing)} "
                    "(scripts/bootstrap.sh installs gcc, make, mosquitto-dev, libmosquitto-dev)")
    build = tmp_path_factory.mktemp("plugin")
    for name in ("dolbom_identity.c", "Makefile"):
        shutil.copy(PLUGIN_SRC / name, build / name)
    result = subprocess.run(["make", "-C", str(build)], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"building the identity plugin failed:\n{result.stdout}\n{result.stderr}")
    return build / "dolbom_identity.so"


def secured_broker(workdir: Path, plugin: Path | None, acl_extra: str = "") -> Broker:
    """Mosquitto with passwords, the production ACL (plus ``acl_extra``) and the plugin."""
    workdir.mkdir(parents=True, exist_ok=True)
    passwd = workdir / "passwd"
    issue_credentials(passwd, "dolbom-ingest", INGEST_PASSWORD)
    for account in ACCOUNTS:
        issue_credentials(passwd, account, f"password-of-{account}")
    acl = workdir / "acl"
    acl.write_text(ACL.read_text() + acl_extra)
    conf = f"allow_anonymous false\npassword_file {passwd}\nacl_file {acl}\n"
    if plugin is not None:
        conf += f"plugin {plugin}\nplugin_opt_identity_property {PROPERTY}\n"
    return Broker(workdir / "mqtt", extra_conf=conf)


class Device:
    """A device's MQTT connection, logged in as its device_id."""

    def __init__(self, broker: Broker, username: str,
                 protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
                 will: tuple[str, bytes] | None = None) -> None:
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=f"{username}-{uuid.uuid4().hex[:6]}",
                                  protocol=protocol)
        self.client.username_pw_set(username, f"password-of-{username}")
        if will is not None:
            self.client.will_set(will[0], will[1], qos=1)
        connected = threading.Event()
        self.acks: dict[int, int] = {}
        self.acked = threading.Condition()
        self.client.on_connect = lambda *args: connected.set()
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        assert connected.wait(10), f"{username} could not connect"

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object,
                    properties: object) -> None:
        with self.acked:
            self.acks[mid] = int(getattr(reason, "value", 0))
            self.acked.notify_all()

    def publish(self, topic: str, payload: bytes, stamp: str | None = None,
                properties: Properties | None = None) -> int:
        """Publish with QoS 1; the broker's reason code (0 / 16 accepted, 135 refused)."""
        if stamp is not None:  # a client trying to say who it is itself
            properties = properties or Properties(PacketTypes.PUBLISH)
            properties.UserProperty = [("note", "x"), (PROPERTY, stamp)]
        info = self.client.publish(topic, payload, qos=1, properties=properties)
        with self.acked:
            assert self.acked.wait_for(lambda: info.mid in self.acks, 10)
            return self.acks[info.mid]

    def vanish(self) -> None:
        """Drop the connection without DISCONNECT, so the broker publishes the will."""
        sock = self.client.socket()
        assert sock is not None
        sock.close()
        self.client.loop_stop()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Callable[..., tuple[Broker, IngestProcess]]]:
    """Start a secured broker and ``dolbom ingest`` (require mode) logged in to it."""
    started: list[tuple[Broker, IngestProcess]] = []

    def start(db_url: str, plugin: Path | None, acl_extra: str = "",
              **env: str) -> tuple[Broker, IngestProcess]:
        broker = secured_broker(tmp_path / f"broker{len(started)}", plugin, acl_extra)
        broker.start()
        ingest = IngestProcess(
            db_url, f"mqtt://dolbom-ingest:{INGEST_PASSWORD}@127.0.0.1:{broker.port}",
            tmp_path / "ingest", DOLBOM_INGEST_DEVICE_IDENTITY="require", **env)
        started.append((broker, ingest))
        ingest.start()
        return broker, ingest

    yield start
    for broker, ingest in started:
        ingest.stop()
        broker.stop()


@pytest.fixture
def devices() -> Iterator[Callable[..., Device]]:
    made: list[Device] = []

    def connect(broker: Broker, username: str, **kwargs: object) -> Device:
        device = Device(broker, username, **kwargs)  # type: ignore[arg-type]
        made.append(device)
        return device

    yield connect
    for device in made:
        device.close()


@pytest.fixture
def kits(db: psycopg.Connection) -> dict[str, int]:
    """Two enrollees: A with band-a, hub-1 and pir-1; B with band-b and pir-2."""
    first, second = make_enrollee(db), make_enrollee(db)
    make_device(db, first, device_id="band-a")
    make_device(db, first, kind="hub", device_id="hub-1")
    make_device(db, first, kind="motion_sensor", device_id="pir-1", room="bathroom")
    make_device(db, second, device_id="band-b")
    make_device(db, second, kind="motion_sensor", device_id="pir-2", room="bathroom")
    return {"A": first, "B": second}


def reading(value: int = 70) -> bytes:
    return orjson.dumps({"ts": int(datetime.now(UTC).timestamp() * 1000),
                         "values": {"heart_rate": value}})


def stored_readings(db: psycopg.Connection, device_id: str) -> int:
    return scalar(db, "SELECT count(*) FROM readings r JOIN devices d ON d.id = r.device "
                      "WHERE d.device_id = %s", device_id)


def quarantined(db: psycopg.Connection, topic: str) -> list[tuple[str, str, bytes]]:
    rows = db.execute("SELECT reason_code, reason, payload FROM quarantine WHERE topic = %s",
                      (topic,)).fetchall()
    return [(code, reason, bytes(payload)) for code, reason, payload in rows]


def wait_quarantined(db: psycopg.Connection, topic: str) -> tuple[str, str, bytes]:
    wait_until(lambda: quarantined(db, topic), 30, f"a quarantine row for {topic}")
    [row] = quarantined(db, topic)
    return row


def test_plugin_stamps_the_username_and_drops_a_forged_stamp(
    tmp_path: Path, plugin: Path, devices: Callable[..., Device],
) -> None:
    broker = secured_broker(tmp_path, plugin)
    broker.start()
    received: list[tuple[str, list[tuple[str, str]], dict[str, object]]] = []
    got = threading.Condition()
    subscriber = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                             protocol=MQTTProtocolVersion.MQTTv5)
    subscriber.username_pw_set("dolbom-ingest", INGEST_PASSWORD)
    subscribed = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with got:
            others = {name: value for name, value in vars(message.properties).items()
                      if name in ("ContentType", "CorrelationData", "ResponseTopic",
                                  "PayloadFormatIndicator")}
            received.append((message.topic,
                             list(getattr(message.properties, "UserProperty", [])), others))
            got.notify_all()

    subscriber.on_message = on_message
    subscriber.on_subscribe = lambda *args: subscribed.set()
    subscriber.on_connect = lambda c, *args: c.subscribe("dolbom/v1/#", qos=1)
    try:
        subscriber.connect("127.0.0.1", broker.port)
        subscriber.loop_start()
        assert subscribed.wait(10)
        # the list is rebuilt without the client's stamp: every other property must survive
        others = Properties(PacketTypes.PUBLISH)
        others.ContentType = "application/json"
        others.CorrelationData = b"\x00\x01"
        others.ResponseTopic = "reply/here"
        others.PayloadFormatIndicator = 1
        devices(broker, "band-a").publish("dolbom/v1/band-a/reading", reading(), stamp="band-b",
                                          properties=others)
        devices(broker, "band-b", protocol=MQTTProtocolVersion.MQTTv311).publish(
            "dolbom/v1/band-b/reading", reading())
        with got:
            assert got.wait_for(lambda: len(received) == 2, 10)
        assert sorted(received) == [
            # the client's own "dolbom-username: band-b" is gone, its other property kept
            ("dolbom/v1/band-a/reading", [("note", "x"), (PROPERTY, "band-a")], {
                "ContentType": "application/json", "CorrelationData": b"\x00\x01",
                "ResponseTopic": "reply/here", "PayloadFormatIndicator": 1}),
            ("dolbom/v1/band-b/reading", [(PROPERTY, "band-b")], {}),  # MQTT 3.1.1 publisher
        ]
    finally:
        subscriber.loop_stop()
        subscriber.disconnect()
        broker.stop()
    assert "dolbom_identity: removed a 'dolbom-username' user property" in (
        broker.workdir / "mosquitto.log").read_text()


def test_devices_and_hubs_pass_for_their_own_topics_only(
    db: psycopg.Connection, db_url: str, kits: dict[str, int], plugin: Path,
    run: Callable[..., tuple[Broker, IngestProcess]], devices: Callable[..., Device],
) -> None:
    metrics_port = free_port()
    broker, ingest = run(db_url, plugin, DOLBOM_INGEST_METRICS_PORT=str(metrics_port))
    # (a) a device on its own topic is stored, stamped even when it speaks MQTT 3.1.1
    band_a = devices(broker, "band-a", protocol=MQTTProtocolVersion.MQTTv311)
    assert band_a.publish("dolbom/v1/band-a/reading", reading(71)) == 0
    wait_until(lambda: stored_readings(db, "band-a") == 1, 30, "band-a's reading")

    # (c) a hub publishes for its own enrollee's sensor ...
    hub = devices(broker, "hub-1")
    assert hub.publish("zigbee2mqtt/pir-1", b'{"occupancy":true,"battery":90}') == 0
    wait_until(lambda: scalar(db, "SELECT count(*) FROM events e JOIN devices d ON "
                                  "d.id = e.device WHERE d.device_id = 'pir-1'") == 1,
               30, "pir-1's motion event")
    # ... but not for another enrollee's (the ACL lets any device write zigbee2mqtt/#)
    payload = b'{"occupancy":true,"battery":90}'
    assert hub.publish("zigbee2mqtt/pir-2", payload) == 0
    code, reason, raw = wait_quarantined(db, "zigbee2mqtt/pir-2")
    assert (code, raw) == ("wrong_publisher", payload)
    assert reason == ("published by hub 'hub-1' of another enrollee, not by 'pir-2' whose topic "
                      "this is nor by a hub of its enrollee")

    # (d) the hub saying it is pir-2 itself changes nothing: the plugin drops its property
    assert hub.publish("zigbee2mqtt/pir-2/availability", b"offline", stamp="pir-2") == 0
    code, reason, _ = wait_quarantined(db, "zigbee2mqtt/pir-2/availability")
    assert code == "wrong_publisher" and reason.startswith("published by hub 'hub-1' of another")
    assert scalar(db, "SELECT count(*) FROM events e JOIN devices d ON d.id = e.device "
                      "WHERE d.device_id = 'pir-2'") == 0
    assert scalar(db, "SELECT count(*) FROM devices WHERE device_id = 'pir-2' "
                      "AND (online IS NOT NULL OR battery IS NOT NULL "
                      "OR last_seen IS NOT NULL)") == 0

    # A device's last will is published by Mosquitto without the plugin: unstamped, and
    # accepted in require mode only as the contract's "offline" status.
    assert scalar(db, "SELECT count(*) FROM devices WHERE device_id = 'band-b' "
                      "AND online IS FALSE") == 0
    band_b = devices(broker, "band-b", will=("dolbom/v1/band-b/status", b'{"online": false}'))
    band_b.vanish()
    wait_until(lambda: scalar(db, "SELECT count(*) FROM devices WHERE device_id = 'band-b' "
                                  "AND online IS FALSE") == 1, 30, "band-b's last will")

    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as page:
        text = page.read().decode()
    assert 'dolbom_ingest_quarantined_total{reason="wrong_publisher"} 2.0' in text
    assert quarantined(db, "dolbom/v1/band-b/status") == []
    assert ingest.alive and "Traceback" not in ingest.log()


def test_a_too_permissive_acl_is_caught_by_ingest(
    db: psycopg.Connection, db_url: str, kits: dict[str, int], plugin: Path,
    run: Callable[..., tuple[Broker, IngestProcess]], devices: Callable[..., Device],
) -> None:
    # An operator's mistake: every device may write every dolbom/v1 topic.
    broker, ingest = run(db_url, plugin, acl_extra="\npattern write dolbom/v1/#\n")
    band_a = devices(broker, "band-a")
    # (b) the broker lets band-a publish on band-b's topic; ingest quarantines it
    payload = reading(150)
    assert band_a.publish("dolbom/v1/band-b/reading", payload) == 0
    code, reason, raw = wait_quarantined(db, "dolbom/v1/band-b/reading")
    assert (code, raw) == ("wrong_publisher", payload)
    assert reason == "published by device 'band-a', not by 'band-b' whose topic this is"
    # (d) claiming to be band-b in its own user property does not help, even for an SOS
    sos = orjson.dumps({"ts": int(datetime.now(UTC).timestamp() * 1000), "type": "sos"})
    assert band_a.publish("dolbom/v1/band-b/event", sos, stamp="band-b") == 0
    code, reason, _ = wait_quarantined(db, "dolbom/v1/band-b/event")
    assert code == "wrong_publisher" and "device 'band-a'" in reason, reason
    # a will is not stamped by Mosquitto 2.0: an SOS left as band-a's will on band-b's topic
    # is published by the (too permissive) broker and refused by ingest as unauthenticated
    will = orjson.dumps({"ts": int(datetime.now(UTC).timestamp() * 1000), "type": "sos"})
    devices(broker, "band-a", will=("dolbom/v1/band-b/event", will)).vanish()
    wait_until(lambda: any(code == "unauthenticated" for code, _, _ in
                           quarantined(db, "dolbom/v1/band-b/event")), 30, "the will")
    # band-a's own data still flows
    assert band_a.publish("dolbom/v1/band-a/reading", reading(72), stamp="band-a") == 0
    wait_until(lambda: stored_readings(db, "band-a") == 1, 30, "band-a's own reading")
    assert stored_readings(db, "band-b") == 0
    assert scalar(db, "SELECT count(*) FROM events") == 0
    assert scalar(db, "SELECT count(*) FROM alerts") == 0
    assert ingest.alive and "Traceback" not in ingest.log()


def test_without_the_plugin_require_mode_quarantines_unauthenticated(
    db: psycopg.Connection, db_url: str, kits: dict[str, int],
    run: Callable[..., tuple[Broker, IngestProcess]], devices: Callable[..., Device],
) -> None:
    # (e) the same broker without the plugin: messages arrive with no stamp
    broker, ingest = run(db_url, None)
    band_a = devices(broker, "band-a")
    payload = reading(73)
    assert band_a.publish("dolbom/v1/band-a/reading", payload) == 0
    code, reason, raw = wait_quarantined(db, "dolbom/v1/band-a/reading")
    assert (code, raw) == ("unauthenticated", payload)
    assert "dolbom_identity plugin" in reason
    # nor can a client stamp itself when no plugin removes its property
    assert band_a.publish("dolbom/v1/band-a/event", orjson.dumps(
        {"ts": int(datetime.now(UTC).timestamp() * 1000), "type": "motion"}),
        stamp="band-b") == 0
    code, _, _ = wait_quarantined(db, "dolbom/v1/band-a/event")
    assert code == "wrong_publisher"
    assert stored_readings(db, "band-a") == 0
    assert scalar(db, "SELECT count(*) FROM events") == 0
    assert ingest.alive
