"""The production broker config (deploy/mosquitto) against a real Mosquitto: a device may
publish only under its own topics, and an unauthenticated client cannot connect."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from command.broker_auth import CredentialsError, issue_credentials
from tests.conftest import Broker

ACL = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "acl"


def _client(broker: Broker, username: str | None, password: str | None) -> tuple[mqtt.Client, object]:
    done = threading.Event()
    result: dict[str, object] = {}
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                         protocol=MQTTProtocolVersion.MQTTv5)
    if username:
        client.username_pw_set(username, password)

    def on_connect(c: mqtt.Client, u: object, f: object, reason: object, p: object) -> None:
        result["reason"] = reason
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    assert done.wait(10)
    return client, result["reason"]


def _publish_reason(client: mqtt.Client, topic: str) -> int:
    done = threading.Event()
    codes: list[int] = []

    def on_publish(c: mqtt.Client, u: object, mid: int, reason: object, p: object) -> None:
        codes.append(int(getattr(reason, "value", reason)))  # type: ignore[call-overload]
        done.set()

    client.on_publish = on_publish
    client.publish(topic, b'{"ts": 1, "values": {"heart_rate": 70}}', qos=1)
    assert done.wait(10)
    return codes[0]


@pytest.fixture
def secured_broker(tmp_path: Path) -> Broker:
    passwd = tmp_path / "passwd"
    issue_credentials(passwd, "band-a", "password-of-a")
    issue_credentials(passwd, "band-b", "password-of-b")
    broker = Broker(tmp_path / "mqtt", extra_conf=(
        # (Broker keeps Mosquitto root when started as root, so it can read tmp_path)
        f"allow_anonymous false\npassword_file {passwd}\nacl_file {ACL}\n"))
    return broker


def test_device_publishes_only_on_its_own_topic(secured_broker: Broker) -> None:
    # Broker.start writes "allow_anonymous true" first; the later line wins in Mosquitto 2.
    secured_broker.start()
    try:
        client, reason = _client(secured_broker, "band-a", "password-of-a")
        assert not getattr(reason, "is_failure", True)
        # 0 or 16 ("no matching subscribers") are successes; >= 128 is a refusal
        assert _publish_reason(client, "dolbom/v1/band-a/reading") in (0, 16)
        assert _publish_reason(client, "dolbom/v1/band-b/reading") == 135  # not authorized
        client.loop_stop()
        client.disconnect()
        _, anonymous = _client(secured_broker, None, None)
        assert getattr(anonymous, "is_failure", False)
        _, wrong = _client(secured_broker, "band-a", "password-of-b")
        assert getattr(wrong, "is_failure", False)
    finally:
        secured_broker.stop()


def test_credentials_refuse_a_bad_device_id(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="not a valid device id"):
        issue_credentials(tmp_path / "passwd", "band a")
