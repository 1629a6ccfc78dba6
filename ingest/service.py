"""``dolbom ingest``: MQTT 5 subscriber → batches in PostgreSQL, acknowledged after commit.

One ``IngestService`` owns the MQTT client (fixed client id, persistent session, receive
maximum 65535, ``manual_ack``), the device registry and its listener, and the two writer
threads of ``ingest/pipeline.py``. At start an unreachable broker or database is one clear
line (``BrokerUnavailable`` / ``DatabaseUnavailable``); after start, lost connections are
retried with backoff (paho for MQTT, the writers for PostgreSQL) and nothing is acknowledged
before it is stored.
"""

from __future__ import annotations

import logging
import signal
import struct
import threading
import time
from collections import deque
from datetime import UTC, datetime
from types import FrameType
from typing import Any, Final

import paho.mqtt.client as mqtt
from paho.mqtt.subscribeoptions import SubscribeOptions

from dolbom.config import Settings
from dolbom.errors import BrokerUnavailable
from dolbom.mqtt import SESSION_EXPIRY_S, check_broker, connect_properties, make_client
from dolbom.wire import TOPIC_PREFIX, Z2M_PREFIX
from ingest import metrics
from ingest.checks import identity_policy, publishers_of
from ingest.pipeline import BatchWriter, Inbound, UrgentWriter
from ingest.registry import Registry, RegistryListener
from store.db import check, connect

log = logging.getLogger(__name__)

# Everything under dolbom/v1/, so data on a wrong sub-topic (``…/readings``, ``…/reading/x``)
# is quarantined as bad_topic instead of vanishing; the platform's own ``…/command`` messages
# arrive too and are acknowledged without storing (ingest/decode.py).
TOPICS: Final = (
    f"{TOPIC_PREFIX}/#",
    f"{Z2M_PREFIX}/+",
    f"{Z2M_PREFIX}/+/availability",
)
KEEPALIVE_S = 30
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 30
# Bytes that mark a message as possibly carrying sos or fall (checked without decoding).
_URGENT_MARKS: Final = (b'"sos"', b'"fall"', b"fall_alarm", b"falling")
_SHUTDOWN_ACK_GRACE_S = 0.3
_PUBACK: Final = 0x40
_PUBACK_PACKET: Final = struct.Struct("!BBH")


def subscriptions(shared_group: str | None) -> list[str]:
    """The topic filters, as ``$share/<group>/…`` when several ingest processes share load."""
    if shared_group:
        return [f"$share/{shared_group}/{topic}" for topic in TOPICS]
    return list(TOPICS)


def may_be_urgent(topic: str, payload: bytes) -> bool:
    """Cheap pre-check for the fast path; the decoder decides."""
    if topic.endswith(("/reading", "/status", "/availability", "/command")):
        return False
    return any(mark in payload for mark in _URGENT_MARKS)


class IngestService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = Registry()
        self.queue: deque[Inbound] = deque()
        self.urgent: deque[Inbound] = deque()
        self.wake = threading.Event()
        self.urgent_wake = threading.Event()
        self.stopping = threading.Event()
        self.gen = 0  # connection generation: a PUBACK is only valid on the same connection
        self.connected = threading.Event()
        self.client: mqtt.Client | None = None
        self.identity = identity_policy(settings.ingest_device_identity,
                                        settings.ingest_identity_property,
                                        settings.ingest_trusted_publishers)
        self.listener = RegistryListener(settings.database_url, self.registry)
        self.writer = BatchWriter(
            settings.database_url, self.registry, self.queue, self.wake, self._ack,
            self.stopping, batch_rows=settings.ingest_batch_rows,
            batch_ms=settings.ingest_batch_ms,
            max_payload_bytes=settings.ingest_max_payload_bytes, identity=self.identity,
        )
        self.urgent_writer = UrgentWriter(
            settings.database_url, self.registry, self.urgent, self.urgent_wake, self.stopping,
            max_payload_bytes=settings.ingest_max_payload_bytes, identity=self.identity,
        )

    # -- MQTT callbacks (network thread: no database, no blocking) --------------------------

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT broker refused the connection: %s", reason)
            return
        self.gen += 1
        topics = subscriptions(self.settings.ingest_shared_group)
        # Retain handling 1: the broker replays retained states only when the subscription is
        # new, not on every reconnection of the persistent session; what it does replay is
        # marked retained and compared with the last stored state (docs/protocol.md).
        client.subscribe([(t, SubscribeOptions(
            qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)) for t in topics])
        self.connected.set()
        log.info("connected to %s as %s (session present: %s); subscribed to %d topics",
                 self.settings.mqtt.display(), self.settings.ingest_client_id,
                 getattr(flags, "session_present", "?"), len(topics))

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                       properties: Any) -> None:
        self.connected.clear()
        if not self.stopping.is_set():
            metrics.MQTT_RECONNECTS.inc()
            log.warning("MQTT connection lost (%s); reconnecting", reason)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        # paho calls this for every failed reconnection attempt (backoff up to RECONNECT_MAX_S):
        # one line per attempt while the broker is down, not silence until it is back.
        log.warning("MQTT broker at %s unreachable; retrying (backoff up to %d s)",
                    self.settings.mqtt.display(), RECONNECT_MAX_S)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any,
                      properties: Any) -> None:
        failed = [str(r) for r in reasons if getattr(r, "is_failure", False)]
        if failed:
            log.error("broker refused subscriptions: %s", ", ".join(failed))
        else:
            log.info("subscriptions granted (%d topics)", len(reasons))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if self.stopping.is_set():
            return  # not acknowledged: the broker delivers it again to the next session
        topic = message.topic
        payload = bytes(message.payload)
        retain = bool(message.retain)
        urgent = not retain and may_be_urgent(topic, payload)
        publishers = () if self.identity is None else publishers_of(
            getattr(message.properties, "UserProperty", None), self.identity.property_name)
        inbound = Inbound(topic, payload, message.mid, message.qos, self.gen,
                          datetime.now(UTC), urgent, publishers, retain)
        if urgent:
            self.urgent.append(inbound)
            self.urgent_wake.set()
        self.queue.append(inbound)
        if not self.wake.is_set():
            self.wake.set()

    def _ack(self, messages: list[Inbound]) -> None:
        """PUBACK after commit, from the writer thread, in arrival order.

        paho queues one packet per ``ack()`` and wakes its network thread each time (~6 µs);
        here a committed batch's PUBACKs go out as one write: MQTT is a byte stream, so the
        concatenated 4-byte PUBACK packets (reason code omitted = success, MQTT 5 §3.4.2.1)
        are the same bytes paho would send one by one.
        """
        client = self.client
        if client is None:
            return
        gen = self.gen
        mids = [m.mid for m in messages if m.qos == 1 and m.gen == gen]
        if not mids:
            return
        queue = getattr(client, "_packet_queue", None)
        if queue is None:  # a paho without the internal we rely on: one by one
            for mid in mids:
                client.ack(mid, 1)
            return
        queue(_PUBACK, b"".join([_PUBACK_PACKET.pack(_PUBACK, 2, mid) for mid in mids]), 0, 0)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Check broker and database (one clear line each if unreachable), then run."""
        settings = self.settings
        target = settings.mqtt
        check(settings.database_url)
        check_broker(target)
        with connect(settings.database_url) as conn:
            self.registry.load_all(conn)
        self.listener.start()
        self.writer.start()
        self.urgent_writer.start()
        if settings.ingest_metrics_port:
            from prometheus_client import start_http_server

            start_http_server(settings.ingest_metrics_port, addr="127.0.0.1")
        client = make_client(target, settings.ingest_client_id, manual_ack=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self.client = client
        try:
            client.connect(target.host, target.port, keepalive=KEEPALIVE_S, clean_start=False,
                           properties=connect_properties(session_expiry_s=SESSION_EXPIRY_S))
        except OSError as error:
            raise BrokerUnavailable(
                f"cannot reach the MQTT broker at {target.display()} ({error})") from error
        client.loop_start()

    def stop(self) -> None:
        """Store and acknowledge what was received, then disconnect."""
        self.stopping.set()
        self.wake.set()
        self.urgent_wake.set()
        self.writer.join(timeout=30)
        self.urgent_writer.join(timeout=5)
        time.sleep(_SHUTDOWN_ACK_GRACE_S)  # let the network thread send the last PUBACKs
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
        self.listener.stop()
        log.info("ingest stopped")


def run(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; raises BrokerUnavailable/DatabaseUnavailable at start."""
    service = IngestService(settings)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service.start()
    log.info("ingest running (batch %d rows / %d ms, shared group %s)",
             settings.ingest_batch_rows, settings.ingest_batch_ms,
             settings.ingest_shared_group or "none")
    try:
        while not stop.wait(0.5):
            if not service.writer.is_alive():
                log.error("ingest writer stopped; exiting")
                break
    finally:
        service.stop()
