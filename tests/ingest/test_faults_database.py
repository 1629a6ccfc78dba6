"""PostgreSQL restarts or runs out of disk mid-stream: ingest says so in one line per retry,
acknowledges nothing it has not stored, and catches up by itself when the database is back.

These tests stop and fill a PostgreSQL cluster of their own (initdb + pg_ctl on a free port),
never the shared server. "Not acknowledged" is observed at the broker: Mosquitto's $SYS
message-store count holds every message a persistent session has not PUBACKed yet.
"""

from __future__ import annotations

import os
import pwd
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import sql

from store.migrate import migrate
from tests.conftest import Broker
from tests.factories import make_device, make_enrollee
from tests.ingest.conftest import IngestProcess, scalar, wait_until
from tests.ingest.faults import (
    BrokerStore,
    PersistentPublisher,
    PrivatePostgres,
    assert_stored_exactly_once,
    stored,
)

TEMPLATE = "dolbom_tpl"
# Retry lines allowed for an outage of about ten seconds: one per retry interval (backoff
# up to ingest's RETRY_MAX_S) from each writer and the registry listener, not one per message.
MAX_OUTAGE_LINES = 60


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    try:
        pg.init()
        pg.start()
        migrate(pg.create_db(TEMPLATE))
        yield pg
    finally:
        pg.destroy()


@pytest.fixture
def private_db(cluster: PrivatePostgres,
               ingest_factory: Callable[..., IngestProcess]) -> Iterator[str]:
    """A fresh migrated database on the private cluster, running again after the test (before
    ingest is stopped: it waits for its last batch to be stored)."""
    name = f"dolbom_f_{uuid.uuid4().hex[:10]}"
    url = cluster.create_db(name, template=TEMPLATE)
    try:
        yield url
    finally:
        if not cluster.running:
            cluster.start()
        cluster.drop_db(name)


@pytest.fixture
def watch(sys_broker: Broker) -> Iterator[tuple[Callable[[str], PersistentPublisher], BrokerStore]]:
    made: list[PersistentPublisher] = []
    store = BrokerStore(sys_broker)

    def publisher(topic: str) -> PersistentPublisher:
        made.append(PersistentPublisher(sys_broker, topic))
        return made[-1]

    yield publisher, store
    for pub in made:
        pub.close()
    store.close()


def outage_lines(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if re.search(r"database (unavailable|refuses writes|is out of disk space)", line)]


@pytest.mark.slow
def test_database_restart_mid_stream(
    cluster: PrivatePostgres, private_db: str, sys_broker: Broker,
    ingest_factory: Callable[..., IngestProcess],
    watch: tuple[Callable[[str], PersistentPublisher], BrokerStore],
) -> None:
    make_publisher, broker_store = watch
    with psycopg.connect(private_db, autocommit=True) as db:
        device, wire_id = make_device(db, make_enrollee(db), device_id="pg-restart-band")
    ingest = ingest_factory(private_db, sys_broker)
    ingest.start()
    pub = make_publisher(f"dolbom/v1/{wire_id}/reading")
    n1, n2, n3 = 4_000, 12_000, 15_000

    # 1. Streaming; the database stops (fast shutdown: sessions cut) while batches commit.
    for i in range(n1):
        pub.publish(i)
    with psycopg.connect(private_db, autocommit=True) as db:
        wait_until(lambda: stored(db) > 1_000, 60, "the first readings")
    cluster.stop("fast")

    # 2. While it is down, readings keep arriving; the broker acknowledges them to the
    #    device and keeps them for ingest, which must not acknowledge any of them.
    for i in range(n1, n2):
        pub.publish(i)
    pub.wait_acked(n2)
    wait_until(lambda: outage_lines(ingest.log()), 30, "ingest to report the outage")
    held = n2 - n1  # at least: messages of phase 1 not yet stored are held too
    wait_until(lambda: broker_store.fresh() >= held, 30, "the broker to hold what was not stored")
    time.sleep(3)  # ingest keeps retrying; still nothing may be acknowledged
    assert broker_store.fresh() >= held
    assert ingest.alive

    # 3. The database comes back: ingest reconnects by itself and catches up.
    cluster.start()
    for i in range(n2, n3):
        pub.publish(i)
    pub.wait_acked(n3)
    with psycopg.connect(private_db, autocommit=True) as db:
        wait_until(lambda: stored(db) >= n3, 90, "every acknowledged reading to be stored")
        assert_stored_exactly_once(db, device, pub.acked)

    log = ingest.log()
    assert ingest.alive and ingest.starts == 1
    lines = outage_lines(log)
    assert 0 < len(lines) <= MAX_OUTAGE_LINES, "\n".join(lines)
    assert "Traceback" not in log
    assert "database writes resumed" in log


SMALL_DISK = "1m"  # room for about ten thousand readings (heap and unique index)


@pytest.fixture
def small_disk(cluster: PrivatePostgres, private_db: str) -> Iterator[Callable[[str], None]]:
    """The test database's readings on a 1 MB tmpfs of their own (a tablespace), and a way to
    grow it (``mount -o remount,size=…``), as an operator freeing disk space would.

    Needs root (mount). Skipped, not faked, where a tmpfs cannot be mounted.
    """
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a tmpfs mount, which needs root")
    where = cluster.root / "small"
    where.mkdir()
    owner = pwd.getpwnam("postgres")
    options = f"size={SMALL_DISK},mode=0700,uid={owner.pw_uid},gid={owner.pw_gid}"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): disk full not simulated")
    name = str(psycopg.conninfo.conninfo_to_dict(private_db)["dbname"])
    try:
        with cluster.admin() as admin:
            admin.execute(sql.SQL("CREATE TABLESPACE small LOCATION {}").format(
                sql.Literal(str(where))))
        with psycopg.connect(private_db, autocommit=True) as db:
            parts = [row[0] for row in db.execute(
                "SELECT inhrelid::regclass::text FROM pg_inherits "
                "WHERE inhparent = 'readings'::regclass")]
            for part in parts:
                db.execute(sql.SQL("ALTER TABLE {} SET TABLESPACE small").format(
                    sql.Identifier(part)))
                for (index,) in db.execute("SELECT indexrelid::regclass::text FROM pg_index "
                                           "WHERE indrelid = %s::regclass", (part,)).fetchall():
                    db.execute(sql.SQL("ALTER INDEX {} SET TABLESPACE small").format(
                        sql.Identifier(index)))

        def grow(size: str) -> None:
            subprocess.run(["mount", "-o", f"remount,size={size}", str(where)], check=True)

        yield grow
    finally:
        if not cluster.running:
            cluster.start()
        cluster.drop_db(name)
        with cluster.admin() as admin:
            admin.execute("DROP TABLESPACE IF EXISTS small")
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.slow
def test_disk_full_mid_stream(
    private_db: str, small_disk: Callable[[str], None], sys_broker: Broker,
    ingest_factory: Callable[..., IngestProcess],
    watch: tuple[Callable[[str], PersistentPublisher], BrokerStore],
) -> None:
    make_publisher, broker_store = watch
    with psycopg.connect(private_db, autocommit=True) as db:
        device, wire_id = make_device(db, make_enrollee(db), device_id="disk-band")
        ingest = ingest_factory(private_db, sys_broker)
        ingest.start()
        pub = make_publisher(f"dolbom/v1/{wire_id}/reading")
        n1, n2, n3 = 2_000, 30_000, 32_000
        for i in range(n1):
            pub.publish(i)
        wait_until(lambda: stored(db) >= n1, 60, "the first readings")

        # 1. The disk fills up mid-stream: what does not fit is neither stored nor
        #    acknowledged; the broker keeps it.
        for i in range(n1, n2):
            pub.publish(i)
        pub.wait_acked(n2)
        wait_until(lambda: "database is out of disk space" in ingest.log(), 60,
                   "ingest to report the full disk")
        time.sleep(3)  # retried meanwhile
        held = broker_store.fresh()
        kept = stored(db)  # read after the broker's figure: it can only have grown since
        assert kept < n2, "the disk did not fill up"
        assert held >= n2 - kept, f"broker holds {held}, yet {n2 - kept} were not stored"
        assert ingest.alive

        # 2. Space is freed: ingest resumes by itself, nothing lost or stored twice.
        small_disk("64m")
        for i in range(n2, n3):
            pub.publish(i)
        pub.wait_acked(n3)
        wait_until(lambda: stored(db) >= n3, 90, "every acknowledged reading to be stored")
        assert_stored_exactly_once(db, device, pub.acked)
        assert scalar(db, "SELECT count(*) FROM quarantine") == 0

    log = ingest.log()
    assert ingest.alive and ingest.starts == 1
    lines = [line for line in log.splitlines() if "database is out of disk space" in line]
    assert 0 < len(lines) <= MAX_OUTAGE_LINES, "\n".join(lines)
    assert "No space left on device" in lines[0]
    assert "database writes resumed" in log
    assert "Traceback" not in log
