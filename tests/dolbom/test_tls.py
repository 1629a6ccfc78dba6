"""MQTT over TLS (mqtts://) against a real Mosquitto with a certificate from a private CA:
readings arrive through ingest; a client that does not trust the CA, or speaks plain MQTT to
the TLS port, gets one clear error instead."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psycopg
import pytest

from device_sim.publish import Publisher
from dolbom.config import MqttTarget
from dolbom.errors import BrokerUnavailable
from dolbom.mqtt import check_broker
from tests.conftest import Broker
from tests.factories import make_device, make_enrollee
from tests.ingest.conftest import IngestProcess, scalar, wait_until


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _make_ca(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", "ca.key", "-out", "ca.crt", cwd=directory)
    return directory


def _server_cert(ca: Path) -> tuple[Path, Path]:
    (ca / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-keyout", "server.key", "-out", "server.csr", cwd=ca)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.cnf", "-out", "server.crt", cwd=ca)
    return ca / "server.crt", ca / "server.key"


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Broker, Path]]:
    ca = _make_ca(tmp_path / "ca", "Dolbom test CA")
    cert, key = _server_cert(ca)
    broker = Broker(tmp_path / "broker", extra_conf=f"certfile {cert}\nkeyfile {key}\ntls_version tlsv1.2\n")
    broker.start()
    yield broker, ca / "ca.crt"
    broker.stop()


def test_readings_travel_over_tls_to_ingest(
    tls_broker: tuple[Broker, Path], db_url: str, db: psycopg.Connection, tmp_path: Path
) -> None:
    broker, ca_file = tls_broker
    url = f"mqtts://localhost:{broker.port}"
    _, band = make_device(db, make_enrollee(db), "wearable")
    ingest = IngestProcess(db_url, url, tmp_path / "ingest", DOLBOM_MQTT_CA_FILE=str(ca_file))
    ingest.start()
    try:
        publisher = Publisher(MqttTarget.parse(url, ca_file=ca_file), "tls-band")
        publisher.connect()
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        for n in range(20):
            publisher.publish(f"dolbom/v1/{band}/reading",
                              orjson.dumps({"ts": now_ms - n * 1000, "values": {"heart_rate": 70}}), qos=1)
        publisher.flush()
        publisher.close()
        assert publisher.counts.acked == 20
        wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") == 20, 30, "ingest to store over TLS")
    finally:
        ingest.stop()
    assert "connected to mqtts://localhost" in ingest.log()


def test_an_untrusted_certificate_or_plain_mqtt_gets_a_clear_error(
    tls_broker: tuple[Broker, Path], tmp_path: Path
) -> None:
    broker, _ = tls_broker
    other = _make_ca(tmp_path / "other", "Someone else")
    with pytest.raises(BrokerUnavailable, match="certificate verify failed"):
        check_broker(MqttTarget.parse(f"mqtts://localhost:{broker.port}", ca_file=other / "ca.crt"))
    with pytest.raises(BrokerUnavailable) as plain:
        check_broker(MqttTarget.parse(f"mqtt://localhost:{broker.port}"), timeout=2)
    assert "\n" not in str(plain.value)
