"""MQTT client construction shared by ingest, the simulator and ``dolbom up``."""

from __future__ import annotations

import socket
import ssl
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from dolbom.config import MqttTarget
from dolbom.errors import BrokerUnavailable

CONNECT_TIMEOUT_S = 5.0
# DESIGN: MQTT 5 with a large receive maximum, so acknowledging after commit does not stall.
RECEIVE_MAXIMUM = 65535
SESSION_EXPIRY_S = 7 * 24 * 3600


def make_client(
    target: MqttTarget,
    client_id: str = "",
    *,
    protocol: MQTTProtocolVersion = MQTTProtocolVersion.MQTTv5,
    manual_ack: bool = False,
    clean_start: bool = True,
) -> mqtt.Client:
    """A paho-mqtt 2 client configured for ``target`` (credentials, TLS)."""
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=protocol,
        manual_ack=manual_ack,
        clean_session=None if protocol == MQTTProtocolVersion.MQTTv5 else clean_start,
    )
    if target.username:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        # The broker's certificate is verified (chain and host name), against
        # DOLBOM_MQTT_CA_FILE when set, else the system's trusted CAs.
        client.tls_set(ca_certs=str(target.ca_file) if target.ca_file else None,
                       cert_reqs=ssl.CERT_REQUIRED, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    return client


def connect_properties(*, session_expiry_s: int = 0) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.ReceiveMaximum = RECEIVE_MAXIMUM
    if session_expiry_s:
        props.SessionExpiryInterval = session_expiry_s
    return props


def check_broker(target: MqttTarget, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise ``BrokerUnavailable`` unless the broker accepts an MQTT connection."""
    hint = "start Mosquitto or set DOLBOM_MQTT_URL to a reachable mqtt://host:port"
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout):
            pass
    except OSError as error:
        raise BrokerUnavailable(
            f"cannot reach the MQTT broker at {target.display()} ({error.strerror or error}); {hint}"
        ) from error
    done = threading.Event()
    result: dict[str, object] = {}

    def on_connect(client: mqtt.Client, userdata: object, flags: object, reason: object,
                   properties: object) -> None:
        result["reason"] = reason
        done.set()

    client = make_client(target)
    client.on_connect = on_connect
    try:
        client.connect(target.host, target.port, keepalive=10)
        client.loop_start()
        if not done.wait(timeout):
            raise BrokerUnavailable(
                f"the MQTT broker at {target.display()} did not answer CONNECT within "
                f"{timeout:.0f} s; {hint}"
            )
        reason = result["reason"]
        if getattr(reason, "is_failure", False):
            raise BrokerUnavailable(
                f"the MQTT broker at {target.display()} refused the connection ({reason}); "
                "check the user and password in DOLBOM_MQTT_URL"
            )
    except OSError as error:
        raise BrokerUnavailable(
            f"cannot reach the MQTT broker at {target.display()} ({error}); {hint}"
        ) from error
    finally:
        client.loop_stop()
        try:
            client.disconnect()
        except Exception:
            pass
