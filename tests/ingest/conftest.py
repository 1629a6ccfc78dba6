"""Ingest test helpers: ``dolbom ingest`` as a real subprocess, a QoS 1 publisher, polling."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from tests.conftest import Broker, free_port

ROOT = Path(__file__).resolve().parents[2]
DOLBOM = ROOT / ".venv" / "bin" / "dolbom"


def wait_until(predicate: Callable[[], object], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or predicate}")


def scalar(conn: psycopg.Connection, query: str, *args: object) -> int:
    row = conn.execute(query, args).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])


class IngestProcess:
    """``dolbom ingest`` in a subprocess, with its log in a file."""

    def __init__(self, db_url: str, mqtt_url: str, workdir: Path, client_id: str | None = None,
                 **env: str) -> None:
        self.db_url = db_url
        self.mqtt_url = mqtt_url
        self.client_id = client_id or f"ingest-test-{uuid.uuid4().hex[:8]}"
        self.workdir = workdir
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.log_path = workdir / f"{self.client_id}.log"

    def start(self, wait: bool = True) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update({
            "DOLBOM_DATABASE_URL": self.db_url,
            "DOLBOM_MQTT_URL": self.mqtt_url,
            "DOLBOM_INGEST_CLIENT_ID": self.client_id,
            "DOLBOM_CONFIG": str(self.workdir / "none.toml"),
            "DOLBOM_LOG_LEVEL": "INFO",
            **self.env,
        })
        self.starts += 1
        log = open(self.log_path, "ab")  # noqa: SIM115
        log.write(f"--- start {self.starts}\n".encode())
        log.flush()
        self.proc = subprocess.Popen([str(DOLBOM), "ingest"], env=env, stdout=log, stderr=log)
        if wait:
            wait_until(lambda: self.log().count("subscriptions granted") >= self.starts,
                       30, f"ingest to subscribe (log: {self.log_path})")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)


@pytest.fixture
def ingest_factory(tmp_path: Path) -> Iterator[Callable[..., IngestProcess]]:
    started: list[IngestProcess] = []

    def make(db_url: str, broker: Broker, **kwargs: str) -> IngestProcess:
        proc = IngestProcess(db_url, broker.url, tmp_path / "ingest", **kwargs)
        started.append(proc)
        return proc

    yield make
    for proc in started:
        proc.stop()


class Publisher:
    """A QoS 1 MQTT 5 publisher that can wait until the broker acknowledged everything."""

    def __init__(self, broker: Broker) -> None:
        self.client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                                  client_id=f"pub-{uuid.uuid4().hex[:8]}",
                                  protocol=MQTTProtocolVersion.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.acked = 0
        self.sent = 0
        self._lock = threading.Lock()
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_publish(self, *args: object) -> None:
        with self._lock:
            self.acked += 1

    def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> None:
        self.sent += 1
        info = self.client.publish(topic, payload, qos=qos)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, info.rc

    def flush(self, timeout: float = 120) -> None:
        wait_until(lambda: self.acked >= self.sent, timeout, "the broker to ack every publish")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def publisher_factory() -> Iterator[Callable[[Broker], Publisher]]:
    made: list[Publisher] = []

    def make(broker: Broker) -> Publisher:
        pub = Publisher(broker)
        made.append(pub)
        return pub

    yield make
    for pub in made:
        pub.close()


@pytest.fixture
def metrics_port() -> int:
    return free_port()


# Mosquitto publishes its $SYS figures every ``sys_interval`` seconds (default 10).
SYS_CONF = "sys_interval 1"


@pytest.fixture
def sys_broker(tmp_path: Path) -> Iterator[Broker]:
    """A private Mosquitto that publishes its $SYS figures (store counts) every second."""
    broker = Broker(tmp_path / "mosquitto", extra_conf=SYS_CONF)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
