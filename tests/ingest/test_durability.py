"""Nothing acknowledged is lost, nothing is stored twice: kill -9 and database outages.

The database outage is simulated without restarting the shared PostgreSQL server (other
engineers' tests use it): ingest's backends are terminated with pg_terminate_backend in a loop
while the test database refuses new connections (ALLOW_CONNECTIONS false), for a few seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import orjson
import psycopg
import pytest
from psycopg import sql

from tests.conftest import ADMIN_URL, Broker
from tests.factories import make_device, make_enrollee
from tests.ingest.conftest import IngestProcess, Publisher, scalar, wait_until

BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def reading(i: int) -> bytes:
    ts = int((BASE + timedelta(seconds=i)).timestamp() * 1000)
    return orjson.dumps({"ts": ts, "values": {"heart_rate": 60 + i % 40}})


def assert_exactly_once(db: psycopg.Connection, device: int, n: int) -> None:
    rows = db.execute(
        "SELECT count(*), count(DISTINCT ts), min(ts), max(ts) FROM readings WHERE device = %s",
        (device,)).fetchone()
    assert rows == (n, n, BASE, BASE + timedelta(seconds=n - 1))
    assert scalar(db, "SELECT value FROM counters WHERE name = 'readings_stored'") == n


@pytest.mark.slow
def test_kill_9_mid_stream_stores_every_reading_exactly_once(
    db: psycopg.Connection, db_url: str, fresh_broker: Broker,
    ingest_factory: Callable[..., IngestProcess], publisher_factory: Callable[..., Publisher],
) -> None:
    n = 50_000
    device, wire_id = make_device(db, make_enrollee(db), device_id="kill-band")
    ingest = ingest_factory(db_url, fresh_broker)
    ingest.start()
    pub = publisher_factory(fresh_broker)
    topic = f"dolbom/v1/{wire_id}/reading"
    for i in range(n):
        pub.publish(topic, reading(i))
        if i == 15_000:
            wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") > 2_000, 60)
            ingest.kill()
    pub.flush()
    assert scalar(db, "SELECT count(*) FROM readings") < n  # it really died mid-stream
    ingest.start()
    wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") >= n, 120, "all readings")
    time.sleep(0.5)  # anything redelivered after that is absorbed, not added
    assert_exactly_once(db, device, n)
    assert ingest.alive


@contextmanager
def database_outage(db_url: str, seconds: float) -> Iterator[None]:
    """Refuse new connections to the test database and cut its existing ones (except ours)."""
    name = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
    stop = threading.Event()
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(
            sql.Identifier(str(name))))

        def cut() -> None:
            with psycopg.connect(ADMIN_URL, autocommit=True) as killer:
                while not stop.is_set():
                    killer.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND application_name <> 'dolbom-test'", (name,))
                    stop.wait(0.2)

        cutter = threading.Thread(target=cut, daemon=True)
        cutter.start()
        try:
            yield
            time.sleep(seconds)
        finally:
            stop.set()
            cutter.join()
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(
                sql.Identifier(str(name))))


@pytest.mark.slow
def test_database_outage_is_retried_and_nothing_is_acknowledged_before_it_is_stored(
    db_url: str, fresh_broker: Broker,
    ingest_factory: Callable[..., IngestProcess], publisher_factory: Callable[..., Publisher],
) -> None:
    with psycopg.connect(db_url, autocommit=True, application_name="dolbom-test") as db:
        device, wire_id = make_device(db, make_enrollee(db), device_id="outage-band")
        ingest = ingest_factory(db_url, fresh_broker)
        ingest.start()
        pub = publisher_factory(fresh_broker)
        topic = f"dolbom/v1/{wire_id}/reading"
        n1, n2 = 6_000, 12_000

        # 1. An outage mid-stream: ingest keeps running, retries, stores everything.
        for i in range(2_000):
            pub.publish(topic, reading(i))
        with database_outage(db_url, seconds=3):
            for i in range(2_000, n1):
                pub.publish(topic, reading(i))
            pub.flush()
        wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") >= n1, 90, "recovery")
        assert ingest.alive
        assert "database unavailable" in ingest.log()

        # 2. Killed during an outage: whatever it received then was not acknowledged, so
        #    the broker delivers it again to the restarted process.
        with database_outage(db_url, seconds=2):
            for i in range(n1, n2):
                pub.publish(topic, reading(i))
            pub.flush()
            time.sleep(1)
            ingest.kill()
        ingest.start()
        wait_until(lambda: scalar(db, "SELECT count(*) FROM readings") >= n2, 90, "all readings")
        time.sleep(0.5)
        assert_exactly_once(db, device, n2)
