"""Shards: the hash (Python and SQL agree), ownership, takeover, locks, the queue frontier and
the upgrade from a single watermark. In-process against a real PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest

from analytics import runner
from analytics.service import run_once
from analytics.shards import (
    LOCK_MINUTE,
    LOCK_NIGHTLY,
    N_SHARDS,
    ShardState,
    Worker,
    claim,
    claimable,
    groups,
    shard_of,
    shards_of,
)
from dolbom.wire import METRIC_BY_NAME
from tests.analytics.conftest import alerts_of, store_readings
from tests.factories import make_device, make_enrollee, make_region

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


# ---- pure ------------------------------------------------------------------------------------


def test_shard_hash_is_the_same_in_python_and_sql(db: psycopg.Connection) -> None:
    ids = [*range(1, 3000), 65_535, 1 << 20, 123_456_789, 2**31 - 1]
    rows = db.execute("SELECT id, analytics_shard(id) FROM unnest(%s::int[]) AS id", (ids,)).fetchall()
    in_sql: dict[int, int] = dict(rows)
    assert [in_sql[e] for e in ids] == [shard_of(e) for e in ids]
    assert shards_of(np.array(ids)).tolist() == [shard_of(e) for e in ids]
    assert set(in_sql.values()) == set(range(N_SHARDS))


def test_consecutive_ids_spread_evenly_over_the_shards() -> None:
    counts = Counter(shard_of(e) for e in range(1, 6401))
    assert len(counts) == N_SHARDS
    assert max(counts.values()) - min(counts.values()) <= 4  # 100 each, give or take


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7])
def test_every_shard_has_exactly_one_owner(n: int) -> None:
    workers = [Worker(i, n) for i in range(n)]
    owners = Counter(s for w in workers for s in w.own_shards())
    assert owners == Counter(range(N_SHARDS))
    for w in workers:
        order = w.all_shards()
        assert sorted(order) == list(range(N_SHARDS))
        assert order[: len(w.own_shards())] == w.own_shards()


def test_a_worker_index_must_be_below_the_count() -> None:
    with pytest.raises(ValueError, match=r"not in 0\.\.1"):
        Worker(2, 2)


def test_claim_takes_over_orphans_and_gives_them_back() -> None:
    me, other = Worker(0, 2), Worker(1, 2)
    fresh = {s: ShardState(s, owner=other.name if s % 2 else me.name, age_s=5.0) for s in range(N_SHARDS)}
    assert claim(me, fresh, 180) == me.own_shards()
    # shard 3's owner stopped: after 180 s without progress it is taken over...
    stale = {**fresh, 3: ShardState(3, owner=other.name, age_s=180.0)}
    assert claim(me, stale, 180) == [*me.own_shards(), 3]
    # ... kept while this worker advances it ...
    adopted = {**fresh, 3: ShardState(3, owner=me.name, age_s=1.0)}
    assert claimable(me, 3, adopted[3], 180)
    # ... and left once its owner has advanced it again
    assert not claimable(me, 3, ShardState(3, owner=other.name, age_s=0.0), 180)
    assert claimable(me, 3, None, 180)  # no state at all: nobody is scoring it
    assert groups(list(range(20)), 8) == [list(range(8)), list(range(8, 16)), list(range(16, 20))]


# ---- against the database ----------------------------------------------------------------------


def _one_per_parity(db: psycopg.Connection) -> tuple[int, int, int]:
    """A region and two enrollees: one in an even shard (worker 0 of 2), one in an odd one."""
    region = make_region(db)
    found: dict[int, int] = {}
    while len(found) < 2:
        e = make_enrollee(db, region)
        found.setdefault(shard_of(e) % 2, e)
    return region, found[0], found[1]


def _state(db: psycopg.Connection, enrollee: int) -> tuple[datetime | None, str | None]:
    row = db.execute(
        "SELECT data_time, detail->>'owner' FROM job_state WHERE job = %s",
        (f"analytics.score/{shard_of(enrollee)}",),
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def _glucose(db: psycopg.Connection, device: int, enrollee: int, at: datetime, value: float) -> None:
    store_readings(db, device, enrollee, [(at, "glucose", value)])


def test_migration_gives_every_shard_its_state(db: psycopg.Connection) -> None:
    jobs = [r[0] for r in db.execute("SELECT job FROM job_state WHERE job LIKE 'analytics.%'")]
    assert sorted(jobs) == sorted(
        [f"analytics.{job}/{s}" for job in ("score", "nightly") for s in range(N_SHARDS)]
    )


def test_takeover_of_a_stopped_workers_shards_and_hand_back(db_url: str, db: psycopg.Connection) -> None:
    _, even, odd = _one_per_parity(db)
    meters = {e: make_device(db, e, "glucometer")[0] for e in (even, odd)}
    db.execute("UPDATE job_state SET updated_at = now() WHERE job LIKE 'analytics.score/%'")
    w0, w1 = Worker(0, 2), Worker(1, 2)
    for e in (even, odd):
        _glucose(db, meters[e], e, T0, 50)
    assert runner.minute(db_url, T0 + MIN, w0, 180) is not None
    assert [a[0] for a in alerts_of(db, even)] == ["hypoglycemia"]
    assert alerts_of(db, odd) == []  # worker 1's, and worker 1 was seen recently
    # worker 1 stops: its shards are not advanced for 180 s
    db.execute(
        "UPDATE job_state SET updated_at = now() - interval '181 seconds' "
        "WHERE job LIKE 'analytics.score/%' AND split_part(job, '/', 2)::int % 2 = 1"
    )
    runner.minute(db_url, T0 + 2 * MIN, w0, 180)
    assert [a[0] for a in alerts_of(db, odd)] == ["hypoglycemia"]
    assert _state(db, odd) == (T0 + 2 * MIN, w0.name)
    # adopted: scored every minute from now on, although no longer idle
    _glucose(db, meters[odd], odd, T0 + 2 * MIN, 320)
    runner.minute(db_url, T0 + 3 * MIN, w0, 180)
    assert [a[0] for a in alerts_of(db, odd)] == ["hypoglycemia", "hyperglycemia"]
    # worker 1 is back: it advances its shard, and worker 0 lets go of it
    runner.minute(db_url, T0 + 4 * MIN, w1, 180)
    assert _state(db, odd) == (T0 + 4 * MIN, w1.name)
    runner.minute(db_url, T0 + 5 * MIN, w0, 180)
    assert _state(db, odd) == (T0 + 4 * MIN, w1.name)
    assert _state(db, even) == (T0 + 5 * MIN, w0.name)


def test_a_shard_locked_by_another_worker_is_skipped_until_free(db_url: str, db: psycopg.Connection) -> None:
    _, even, odd = _one_per_parity(db)
    for e in (even, odd):
        meter, _ = make_device(db, e, "glucometer")
        _glucose(db, meter, e, T0, 50)
    with psycopg.connect(db_url, autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_MINUTE, shard_of(odd)))
        counts = runner.minute(db_url, T0 + MIN, Worker(), 180)
        assert counts is not None and counts["shards"] == N_SHARDS - 1
        assert alerts_of(db, odd) == [] and _state(db, odd)[0] is None
        assert [a[0] for a in alerts_of(db, even)] == ["hypoglycemia"]
    counts = runner.minute(db_url, T0 + 2 * MIN, Worker(), 180)  # the lock went with its session
    assert counts is not None and counts["shards"] == N_SHARDS
    assert [a[0] for a in alerts_of(db, odd)] == ["hypoglycemia"]


def test_nightly_skips_a_shard_another_worker_refits(db_url: str, db: psycopg.Connection) -> None:
    _, even, odd = _one_per_parity(db)
    for e in (even, odd):
        meter, _ = make_device(db, e, "glucometer")
        _glucose(db, meter, e, T0, 120)
    later = T0 + timedelta(days=2)

    def done(e: int) -> dict:
        row = db.execute(
            "SELECT detail FROM job_state WHERE job = %s", (f"analytics.nightly/{shard_of(e)}",)
        ).fetchone()
        return dict(row[0] or {}) if row else {}

    with psycopg.connect(db_url, autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_NIGHTLY, shard_of(odd)))
        counts = runner.nightly_refit(db_url, later, Worker(), 180)
        assert counts is not None and counts["skipped"] == 1
    assert done(odd) == {} and done(even) == {"Asia/Seoul": "2026-11-03"}
    runner.nightly_refit(db_url, later, Worker(), 180)
    assert done(odd) == {"Asia/Seoul": "2026-11-03"}


def test_a_queue_row_committed_late_is_not_skipped(
    db_url: str, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ingest processes: batch A takes queue id 1 but commits after batch B (id 2).
    A watermark moved to 2 on sight would never score A's reading."""
    region = make_region(db)
    late, early = make_enrollee(db, region), make_enrollee(db, region)
    late_meter, _ = make_device(db, late, "glucometer")
    early_meter, _ = make_device(db, early, "glucometer")
    batch_a = psycopg.connect(db_url)  # a transaction left open, like an ingest batch mid-commit
    try:
        batch_a.execute(
            "INSERT INTO readings (device, metric, ts, value) VALUES (%s, %s, %s, 50)",
            (late_meter, METRIC_BY_NAME["glucose"].code, T0),
        )
        batch_a.execute(
            "INSERT INTO scoring_queue (enrollee_id, ts_min, ts_max) VALUES (%s, %s, %s)", (late, T0, T0)
        )
        _glucose(db, early_meter, early, T0, 320)  # batch B: id 2, committed at once
        monkeypatch.setattr(runner, "FRONTIER_WAIT_S", 0.3)
        runner.minute(db_url, T0 + MIN, Worker(), 180)
        assert alerts_of(db, early) == []  # not past a row that may still appear; next cycle
        monkeypatch.setattr(runner, "FRONTIER_WAIT_S", 30.0)
        threading.Timer(0.5, batch_a.commit).start()
        runner.minute(db_url, T0 + 2 * MIN, Worker(), 180)  # waits for A, then scores both
    finally:
        batch_a.close()
    assert [a[0] for a in alerts_of(db, late)] == ["hypoglycemia"]
    assert [a[0] for a in alerts_of(db, early)] == ["hyperglycemia"]


def test_upgrade_from_one_watermark_neither_rescores_nor_skips(empty_db_url: str) -> None:
    from store.migrate import discover, migrate

    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in discover():
            if migration.version <= 20:
                with conn.transaction():
                    migration.apply(conn)
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
        region = make_region(conn)
        people = [make_enrollee(conn, region) for _ in range(6)]
        meters = {e: make_device(conn, e, "glucometer")[0] for e in people}
        for e in people:  # scored by the single worker before the upgrade: would alert again
            _glucose(conn, meters[e], e, T0, 50)
        row = conn.execute("SELECT max(id) FROM scoring_queue").fetchone()
        assert row is not None
        watermark = row[0]
        conn.execute(
            "INSERT INTO job_state (job, watermark, data_time, detail) VALUES "
            "('analytics.score', %s, %s, %s), ('analytics.nightly', NULL, %s, %s)",
            (
                watermark,
                T0 + MIN,
                psycopg.types.json.Jsonb({"seen_max_id": watermark}),
                T0 + MIN,
                psycopg.types.json.Jsonb({"Asia/Seoul": "2026-11-01"}),
            ),
        )
        for e in people:  # arrived after the last single-worker run: must be scored
            _glucose(conn, meters[e], e, T0 + 5 * MIN, 320)
    migrate(empty_db_url)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        states = conn.execute(
            "SELECT job, watermark, data_time, detail FROM job_state "
            "WHERE job LIKE 'analytics.%' ORDER BY job"
        ).fetchall()
        assert len(states) == 2 * N_SHARDS
        assert all(s[1] == watermark and s[2] == T0 + MIN for s in states if "score" in s[0])
        assert all(s[3] == {"Asia/Seoul": "2026-11-01"} for s in states if "nightly" in s[0])
    run_once(empty_db_url, T0 + 6 * MIN)
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        kinds = conn.execute("SELECT kind, count(*) FROM alerts GROUP BY kind").fetchall()
    assert kinds == [("hyperglycemia", len(people))]


def test_live_workers_with_the_same_configuration_do_not_score_twice(db_url: str, ref_db_url: str) -> None:
    """Three minute jobs at once, all configured as worker 0 of 1 (a copy-pasted unit): the
    locks let each group of shards through one of them; the result is one worker's."""
    from tests.analytics.workload import T, alert_history, assert_each_alert_once, populate

    for url in (db_url, ref_db_url):
        with psycopg.connect(url, autocommit=True) as conn:
            populate(conn)
    assert runner.minute(ref_db_url, T, Worker(), 180) is not None
    results: list[dict[str, int] | None] = []
    threads = [
        threading.Thread(target=lambda: results.append(runner.minute(db_url, T, Worker(), 180)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 3 and all(r is not None for r in results)
    # every queue row was read by exactly one of them
    assert sum(r["queue_rows"] for r in results if r) == _count(db_url, "SELECT count(*) FROM scoring_queue")
    with (
        psycopg.connect(db_url, autocommit=True) as conn,
        psycopg.connect(ref_db_url, autocommit=True) as ref,
    ):
        assert alert_history(conn) == alert_history(ref)
        assert_each_alert_once(conn)


def _count(url: str, query: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
