"""Fixtures of the API tests: an app against the test database, a small world of people,
and a live uvicorn server (for SSE, schemathesis and the browser)."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.principal import Principal
from api.security.tokens import issue_token
from api.server import make_server
from dolbom.accounts import hash_password
from dolbom.config import Settings
from store.alerts import RaisedAlert, raise_alert
from tests.conftest import free_port
from tests.factories import make_device, make_enrollee, make_region

SECRET = "test-secret-key-for-the-api-tests-only"
PASSWORD = "correct-horse-battery"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, environment="test", secret_key=SECRET, token_ttl_minutes=30)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@dataclass
class World:
    """Two regions; A has staff, two care workers with one enrollee each; B the same, smaller."""

    region_a: int
    region_b: int
    ids: dict[str, int] = field(default_factory=dict)  # user ids by handle
    roles: dict[str, str] = field(default_factory=dict)
    regions: dict[str, int | None] = field(default_factory=dict)
    enrollees: dict[str, int] = field(default_factory=dict)  # 'a1', 'a2', 'b1'
    devices: dict[str, tuple[int, str]] = field(default_factory=dict)

    def principal(self, handle: str) -> Principal:
        return Principal(self.ids[handle], handle, self.roles[handle], self.regions[handle])

    def token(self, handle: str) -> str:
        return issue_token(self.principal(handle), SECRET, 30)

    def headers(self, handle: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(handle)}"}


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def build_world(conn: psycopg.Connection) -> World:
    world = World(make_region(conn), make_region(conn))
    people = {
        "admin": ("admin", None),
        "staff_a": ("center_staff", world.region_a),
        "cw_a1": ("care_worker", world.region_a),
        "cw_a2": ("care_worker", world.region_a),
        "staff_b": ("center_staff", world.region_b),
        "cw_b1": ("care_worker", world.region_b),
    }
    for handle, (role, region) in people.items():
        # One argon2 hash shared by the world's users keeps each test's set-up short.
        row = conn.execute("INSERT INTO users (username, password_hash, role, region_id) "
                           "VALUES (%s, %s, %s, %s) RETURNING id",
                           (handle, _password_hash(), role, region)).fetchone()
        assert row is not None
        world.ids[handle] = int(row[0])
        world.roles[handle] = role
        world.regions[handle] = region
    for key, region, worker in (("a1", world.region_a, "cw_a1"), ("a2", world.region_a, "cw_a2"),
                                ("b1", world.region_b, "cw_b1")):
        world.enrollees[key] = make_enrollee(conn, region, world.ids[worker], name=f"Kim {key}")
        world.devices[key] = make_device(conn, world.enrollees[key], "wearable", device_id=f"w-{key}")
    return world


@pytest.fixture
def world(db: psycopg.Connection) -> World:
    return build_world(db)


def open_alert(
    conn: psycopg.Connection, enrollee_id: int, kind: str = "sos", severity: str = "critical",
    summary: str = "SOS button pressed",
) -> RaisedAlert:
    """Open an alert the way ingest and analytics do (store.alerts.raise_alert)."""
    with conn.transaction():
        return raise_alert(conn, enrollee_id=enrollee_id, kind=kind, severity=severity,
                           summary=summary, evidence={"event": kind}, data_ts=datetime.now(UTC),
                           source="ingest")


class LiveServer:
    """uvicorn serving the app in a thread, on a free port."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        served = settings.model_copy(update={"api_host": "127.0.0.1", "api_port": self.port})
        self.server = make_server(served, log_level="warning")
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.request_exit()
        self.thread.join(timeout=15)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()
