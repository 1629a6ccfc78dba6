"""Fixtures: a real PostgreSQL database per test and a private Mosquitto broker.

Each test that asks for ``db_url`` gets its own database, cloned from a migrated template
that is built once per session; every database is dropped afterwards. ``broker`` starts a
private Mosquitto on a free port for the session; ``fresh_broker`` one per test (for tests
that restart or kill it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from store.migrate import migrate

ADMIN_URL = os.environ.get("DOLBOM_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def _url_for(name: str) -> str:
    """ADMIN_URL with its database replaced by ``name`` (a postgresql:// URL)."""
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _create_db(name: str, template: str | None = None) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            query = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        conn.execute(query)


def _drop_db(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def template_db() -> Iterator[str]:
    """A migrated database used as the template of every test database."""
    name = f"dolbom_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _create_db(name)
    try:
        migrate(_url_for(name))
        yield name
    finally:
        _drop_db(name)


@contextlib.contextmanager
def cloned_database(template: str, prefix: str = "dolbom_t") -> Iterator[str]:
    """A fresh database cloned from ``template`` (its URL), dropped on exit."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    for attempt in range(20):  # the template is briefly busy while another clone is made
        try:
            _create_db(name, template=template)
            break
        except psycopg.errors.ObjectInUse:
            time.sleep(0.1 * (attempt + 1))
    else:
        _create_db(name, template=template)
    try:
        yield _url_for(name)
    finally:
        _drop_db(name)


@pytest.fixture
def db_url(template_db: str) -> Iterator[str]:
    """The URL of a fresh, migrated database of this test's own."""
    with cloned_database(template_db) as url:
        yield url


@pytest.fixture
def empty_db_url() -> Iterator[str]:
    """A fresh database with no schema at all."""
    name = f"dolbom_e_{uuid.uuid4().hex[:12]}"
    _create_db(name)
    try:
        yield _url_for(name)
    finally:
        _drop_db(name)


@pytest.fixture
def db(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        yield conn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Broker:
    """A private Mosquitto process on its own port, restartable."""

    def __init__(self, workdir: Path, port: int | None = None, extra_conf: str = "") -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.extra_conf = extra_conf
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        # Started as root, Mosquitto drops to the ``mosquitto`` user, which cannot write its
        # persistence file under pytest's root-only tmp_path: sessions and queued messages
        # would then be lost at a restart without a word to the client. Stay root instead.
        user = "user root\n" if os.geteuid() == 0 else ""
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"{user}"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "max_inflight_messages 0\n"
            "max_queued_messages 0\n"
            "max_packet_size 2000000\n"
            f"{self.extra_conf}\n"
        )
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "mosquitto.log", "ab"),  # noqa: SIM115
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited: see {self.workdir}/mosquitto.log") from None
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A private Mosquitto shared by the session's tests."""
    instance = Broker(tmp_path_factory.mktemp("mosquitto"))
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def fresh_broker(tmp_path: Path) -> Iterator[Broker]:
    """A private Mosquitto of this test's own (for restarts and kills)."""
    instance = Broker(tmp_path / "mosquitto")
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
