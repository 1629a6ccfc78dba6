"""The database refuses writes (read-only: maintenance, or a failover to a standby) mid-stream.

Ingest logs one clear line per retry, acknowledges nothing it has not stored, quarantines
nothing, and resumes when writes are allowed again; ``dolbom migrate`` says what is wrong in
one line. The test database is made read-only with ``ALTER DATABASE … SET
default_transaction_read_only`` and ingest's sessions are cut so that its new ones are.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.conftest import ADMIN_URL, Broker
from tests.factories import make_device, make_enrollee
from tests.ingest.conftest import DOLBOM, IngestProcess, scalar, wait_until
from tests.ingest.faults import (
    BrokerStore,
    PersistentPublisher,
    assert_stored_exactly_once,
    stored,
)

MAX_OUTAGE_LINES = 60


def set_read_only(db_url: str, on: bool) -> None:
    """Make the database read-only (or writable again) for every new session, and cut the
    sessions of everyone but the test (application_name dolbom-test) so that they reconnect."""
    name = str(psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        if on:
            admin.execute(sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on")
                          .format(sql.Identifier(name)))
        else:
            admin.execute(sql.SQL("ALTER DATABASE {} RESET default_transaction_read_only")
                          .format(sql.Identifier(name)))
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND application_name <> 'dolbom-test'", (name,))


@pytest.mark.slow
def test_read_only_database_mid_stream(
    db_url: str, sys_broker: Broker, ingest_factory: Callable[..., IngestProcess],
) -> None:
    with psycopg.connect(db_url, autocommit=True, application_name="dolbom-test") as db:
        device, wire_id = make_device(db, make_enrollee(db), device_id="ro-band")
        ingest = ingest_factory(db_url, sys_broker)
        ingest.start()
        pub = PersistentPublisher(sys_broker, f"dolbom/v1/{wire_id}/reading")
        broker_store = BrokerStore(sys_broker)
        try:
            n1, n2, n3 = 3_000, 11_000, 14_000
            for i in range(n1):
                pub.publish(i)
            wait_until(lambda: stored(db) >= n1, 60, "the first readings")

            # 1. Read-only: every write ingest tries is refused.
            set_read_only(db_url, True)
            for i in range(n1, n2):
                pub.publish(i)
            pub.wait_acked(n2)
            wait_until(lambda: "database refuses writes (read-only)" in ingest.log(), 30,
                       "ingest to report the read-only database")
            wait_until(lambda: broker_store.fresh() >= n2 - n1, 30,
                       "the broker to hold every reading not stored")
            time.sleep(3)  # retried meanwhile, never split, quarantined or acknowledged
            assert broker_store.fresh() >= n2 - n1
            assert stored(db) == n1
            assert ingest.alive

            # 2. Writable again: ingest resumes by itself.
            set_read_only(db_url, False)
            for i in range(n2, n3):
                pub.publish(i)
            pub.wait_acked(n3)
            wait_until(lambda: stored(db) >= n3, 90, "every acknowledged reading to be stored")
            assert_stored_exactly_once(db, device, pub.acked)
            assert scalar(db, "SELECT count(*) FROM quarantine") == 0
        finally:
            pub.close()
            broker_store.close()

    log = ingest.log()
    assert ingest.alive and ingest.starts == 1
    refusals = [line for line in log.splitlines() if "database refuses writes" in line]
    assert 0 < len(refusals) <= MAX_OUTAGE_LINES, "\n".join(refusals)
    assert "retrying in" in refusals[0]
    assert "database writes resumed" in log
    assert "Traceback" not in log


def test_migrate_on_a_read_only_database_says_so_in_one_line(db_url: str, tmp_path: Path) -> None:
    set_read_only(db_url, True)
    env = {**os.environ, "DOLBOM_DATABASE_URL": db_url, "DOLBOM_CONFIG": str(tmp_path / "none.toml")}
    done = subprocess.run([str(DOLBOM), "migrate"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("dolbom: ") and "read-only" in lines[0]
    set_read_only(db_url, False)
    again = subprocess.run([str(DOLBOM), "migrate"], env=env, capture_output=True, text=True,
                           timeout=60)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
