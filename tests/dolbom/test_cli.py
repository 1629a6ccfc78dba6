"""The command line fails in one clear line when a service is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from dolbom.config import MqttTarget
from dolbom.errors import BrokerUnavailable
from dolbom.mqtt import check_broker
from tests.conftest import Broker, free_port
from tests.factories import make_device, make_enrollee


def _dolbom(*args: str, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DOLBOM_CONFIG": "/nonexistent/dolbom.toml", **(env or {})}
    return subprocess.run([sys.executable, "-m", "command", *args], capture_output=True, text=True,
                          env=full_env, input=stdin, timeout=60)


def test_unreachable_database_prints_one_line_and_exits_nonzero() -> None:
    port = free_port()
    result = _dolbom("migrate", env={"DOLBOM_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/x"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dolbom: cannot connect to PostgreSQL at")
    assert f"127.0.0.1:{port}" in lines[0] and "DOLBOM_DATABASE_URL" in lines[0]
    assert "Traceback" not in result.stderr


def test_malformed_database_url_prints_one_line() -> None:
    result = _dolbom("migrate", env={"DOLBOM_DATABASE_URL": "mysql://root@localhost/x"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "postgresql://" in result.stderr


def test_unreachable_broker_raises_a_readable_error() -> None:
    port = free_port()
    with pytest.raises(BrokerUnavailable, match=rf"127\.0\.0\.1:{port}.*DOLBOM_MQTT_URL"):
        check_broker(MqttTarget.parse(f"mqtt://127.0.0.1:{port}"), timeout=2)


def test_reachable_broker_passes(broker: Broker) -> None:
    check_broker(MqttTarget.parse(broker.url), timeout=5)


def test_migrate_twice_is_a_noop(empty_db_url: str) -> None:
    first = _dolbom("migrate", env={"DOLBOM_DATABASE_URL": empty_db_url})
    second = _dolbom("migrate", env={"DOLBOM_DATABASE_URL": empty_db_url})
    assert first.returncode == 0 and "applied migrations 0001" in first.stdout
    assert second.returncode == 0 and second.stdout.strip() == "database is up to date"


def test_user_add_reads_password_from_stdin(db_url: str) -> None:
    env = {"DOLBOM_DATABASE_URL": db_url}
    ok = _dolbom("user", "add", "root-admin", "--role", "admin", env=env, stdin="long-enough-pw\n")
    assert ok.returncode == 0, ok.stderr
    again = _dolbom("user", "add", "root-admin", "--role", "admin", env=env, stdin="long-enough-pw\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    short = _dolbom("user", "add", "x", "--role", "admin", env=env, stdin="short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr


def test_bad_now_is_one_line() -> None:
    result = _dolbom("analytics", "--once", "--now", "yesterday")
    assert result.returncode == 2
    assert "ISO 8601" in result.stderr and "Traceback" not in result.stderr


def test_device_credentials_need_a_provisioned_device(db_url: str, tmp_path: Path) -> None:
    env = {"DOLBOM_DATABASE_URL": db_url}
    passwd = str(tmp_path / "passwd")
    refused = _dolbom("device", "credentials", "band-x", "--passwd-file", passwd, env=env)
    assert refused.returncode == 2 and "not provisioned" in refused.stderr
    with psycopg.connect(db_url, autocommit=True) as conn:
        make_device(conn, make_enrollee(conn), device_id="band-x")
    issued = _dolbom("device", "credentials", "band-x", "--passwd-file", passwd, env=env)
    assert issued.returncode == 0, issued.stderr
    password = issued.stdout.split("MQTT password: ")[1].split()[0]
    assert len(password) >= 20
    stored = (tmp_path / "passwd").read_text()
    assert stored.startswith("band-x:$") and password not in stored
