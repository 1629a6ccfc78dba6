"""Helpers of the fault tests: a private PostgreSQL cluster, a persistent MQTT 5 publisher,
and a view of what the broker still holds (Mosquitto's ``$SYS`` message-store count).

The shared PostgreSQL server and the system Mosquitto are never stopped: a test that restarts
the database gets a cluster of its own (initdb + pg_ctl on a free port under /tmp), a test that
restarts the broker a Mosquitto of its own (``tests.conftest.Broker``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from psycopg import sql

from command.embedded import _pg_bin
from tests.conftest import Broker, free_port
from tests.ingest.conftest import scalar, wait_until

BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
STORE_COUNT_TOPIC = "$SYS/broker/store/messages/count"
UPTIME_TOPIC = "$SYS/broker/uptime"


def reading(i: int) -> bytes:
    """The i-th reading of a stream: one heart rate a second from ``BASE`` (its key is i)."""
    ts = int((BASE + timedelta(seconds=i)).timestamp() * 1000)
    return orjson.dumps({"ts": ts, "values": {"heart_rate": 60 + i % 40}})


def stored(conn: psycopg.Connection) -> int:
    return scalar(conn, "SELECT count(*) FROM readings")


def assert_stored_exactly_once(conn: psycopg.Connection, device: int, indices: set[int]) -> None:
    """The readings numbered ``indices`` are each stored once, and nothing else is."""
    rows = conn.execute("SELECT ts FROM readings WHERE device = %s", (device,)).fetchall()
    stamps = [row[0] for row in rows]
    assert len(stamps) == len(set(stamps)), "a reading was stored twice"
    expected = {BASE + timedelta(seconds=i) for i in indices}
    missing = expected - set(stamps)
    assert not missing, f"{len(missing)} acknowledged readings were lost, e.g. {min(missing)}"
    assert set(stamps) == expected
    assert scalar(conn, "SELECT value FROM counters WHERE name = 'readings_stored'") == len(indices)


class PersistentPublisher:
    """A device-like QoS 1 publisher: MQTT 5, fixed client id, clean_start False, a session
    that outlives a broker restart; remembers which readings the broker acknowledged.

    paho keeps every QoS 1 message until its PUBACK and sends it again after a reconnect, so a
    reading published while the broker is down is delivered once it is back.
    """

    def __init__(self, broker: Broker, topic: str) -> None:
        self.topic = topic
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=f"dev-{uuid.uuid4().hex[:8]}",
                                  protocol=MQTTProtocolVersion.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(1, 2)
        # paho calls on_publish holding its own lock, possibly before publish() returns the
        # mid: PUBACKs are recorded by mid, and mids turned into reading numbers when asked
        # (mids are unique while a test publishes fewer than 65535 messages).
        self._index_of: dict[int, int] = {}
        self._acked_mids: set[int] = set()
        self.refused: list[str] = []
        self.disconnects = 0
        self.connected = threading.Event()
        self.client.on_publish = self._on_publish
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", broker.port, clean_start=False, properties=props)
        self.client.loop_start()
        wait_until(self.connected.is_set, 10, "the publisher to connect")

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object,
                    properties: object) -> None:
        if not getattr(reason, "is_failure", False):
            self.connected.set()

    def _on_disconnect(self, *args: object) -> None:
        self.connected.clear()
        self.disconnects += 1

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object,
                    properties: object) -> None:
        if getattr(reason, "is_failure", False):
            self.refused.append(str(reason))
        else:
            self._acked_mids.add(mid)

    @property
    def acked(self) -> set[int]:
        """The readings the broker acknowledged (PUBACK with a success code)."""
        index_of = self._index_of
        return {index_of[mid] for mid in list(self._acked_mids) if mid in index_of}

    def publish(self, index: int) -> None:
        """Publish reading ``index``; while the broker is down paho keeps it for later."""
        info = self.client.publish(self.topic, reading(index), qos=1)
        assert info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN), info.rc
        assert info.mid not in self._index_of, "message ids wrapped: publish fewer messages"
        self._index_of[info.mid] = index

    def wait_acked(self, count: int, timeout: float = 90) -> None:
        wait_until(lambda: len(self._acked_mids) >= count, timeout,
                   f"the broker to acknowledge {count} readings")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class BrokerStore:
    """How many messages the broker holds: retained ones, and every message queued for or in
    flight to a persistent session that has not acknowledged it (PUBACK) yet.

    Mosquitto publishes a $SYS figure only when it changes, every ``sys_interval``; the
    uptime changes every tick, so two uptime updates after a call mean the count received
    by then is the broker's figure from after the call.
    """

    def __init__(self, broker: Broker) -> None:
        self.count: int | None = None
        self.ticks = 0
        self._cond = threading.Condition()
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=f"sys-{uuid.uuid4().hex[:8]}",
                                  protocol=MQTTProtocolVersion.MQTTv5)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *a: c.subscribe([(STORE_COUNT_TOPIC, 0),
                                                            (UPTIME_TOPIC, 0)])
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._cond:
            if message.topic == STORE_COUNT_TOPIC:
                self.count = int(message.payload)
            else:
                self.ticks += 1
            self._cond.notify_all()

    def fresh(self, timeout: float = 15) -> int:
        """The broker's store count as of a moment after this call."""
        with self._cond:
            target = self.ticks + 2
            assert self._cond.wait_for(lambda: self.ticks >= target, timeout), \
                "no $SYS update from the broker (sys_interval set?)"
            assert self.count is not None
            return self.count

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class PrivatePostgres:
    """A PostgreSQL cluster of one test module, on a free port, in a directory of its own.

    As root, initdb and the server run as the ``postgres`` user (initdb refuses root), as in
    ``command.embedded``; the directory is therefore made under /tmp, not under pytest's
    root-only tmp_path.
    """

    def __init__(self) -> None:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError("initdb/pg_ctl not found")
        self.initdb, self.pg_ctl = initdb, pg_ctl
        self.as_root = os.geteuid() == 0
        self.as_user = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        self.root = Path(tempfile.mkdtemp(prefix="dolbom-pg-"))
        self.pgdata = self.root / "data"
        self.port = free_port()
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)

    def init(self) -> None:
        self._run(self.initdb, "-D", str(self.pgdata), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=40 -c shared_buffers=32MB")
        self._run(self.pg_ctl, "-D", str(self.pgdata), "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(self.pg_ctl, "-D", str(self.pgdata), "-m", mode, "-w", "-t", "60", "stop")

    @property
    def running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True, application_name="dolbom-test")

    def create_db(self, name: str, template: str | None = None) -> str:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template))
        with self.admin() as conn:
            conn.execute(query)
        return self.url(name)

    def drop_db(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    def destroy(self) -> None:
        """Stop the server (immediately if need be) and remove its directory."""
        if self.running:
            try:
                self.stop("fast")
            except subprocess.SubprocessError:
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
