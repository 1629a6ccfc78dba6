"""Several analytics workers as real ``dolbom analytics`` processes: two at once give exactly a
single worker's alerts with each shard scored by one of them; a worker SIGKILLed mid-run
leaves nothing that the next run duplicates or skips."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from datetime import datetime
from pathlib import Path

import psycopg

from analytics.service import run_once
from analytics.shards import LOCK_MINUTE, N_SHARDS
from tests.analytics.workload import (
    T,
    alert_history,
    assert_each_alert_once,
    expected_alerts,
    populate,
    wait_for,
)

DOLBOM = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "dolbom"


class Analytics:
    """``dolbom analytics [--once --now T]`` in a subprocess, its log in a file."""

    def __init__(self, db_url: str, log: Path, *, now: datetime | None, index: int = 0, workers: int = 1):
        self.log_path = log
        env = {
            **os.environ,
            "DOLBOM_DATABASE_URL": db_url,
            "DOLBOM_CONFIG": str(log.parent / "none.toml"),
            "DOLBOM_LOG_LEVEL": "INFO",
            "DOLBOM_ANALYTICS_WORKERS": str(workers),
            "DOLBOM_ANALYTICS_WORKER_INDEX": str(index),
        }
        args = [str(DOLBOM), "analytics"] + (["--once", "--now", now.isoformat()] if now else [])
        with log.open("ab") as out:
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=out)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float = 180) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def shards_with_work(self) -> set[int]:
        found = re.findall(r"shards with work (\S+)", self.log())
        assert len(found) == 1, self.log()
        return set() if found[0] == "none" else {int(s) for s in found[0].split(",")}


def _reference(db_url: str, ref_db_url: str) -> list[tuple]:
    """The same workload in both databases; the single-worker run's alerts."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        people = populate(conn)
    with psycopg.connect(ref_db_url, autocommit=True) as conn:
        assert populate(conn) == people
    run_once(ref_db_url, T)
    with psycopg.connect(ref_db_url, autocommit=True) as conn:
        reference = alert_history(conn)
    assert {(a[0], a[1]) for a in reference} == expected_alerts(people)  # the workload is meaningful
    return reference


def _shards_done(conn: psycopg.Connection) -> int:
    """Shards whose whole --once pass (the clock is last) has committed as of T."""
    row = conn.execute(
        "SELECT count(*) FROM job_state WHERE job LIKE 'analytics.score/%%' "
        "AND (detail->>'clock_now')::float8 = %s",
        (T.timestamp(),),
    ).fetchone()
    return int(row[0]) if row else 0


def _waiting_on_locks(conn: psycopg.Connection, locktype: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = %s", (locktype,)
    ).fetchone()
    return int(row[0]) if row else 0


def test_two_workers_at_once_match_one_worker_and_split_the_shards(
    db_url: str, ref_db_url: str, tmp_path: Path
) -> None:
    reference = _reference(db_url, ref_db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        # Another worker holds every shard: both processes skip them all, then wait for their
        # first one (own shards first), so they start scoring at the same moment.
        with psycopg.connect(db_url, autocommit=True) as gate:
            for shard in range(N_SHARDS):
                gate.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_MINUTE, shard))
            workers = [
                Analytics(db_url, tmp_path / f"worker{i}.log", now=T, index=i, workers=2) for i in (0, 1)
            ]
            try:
                wait_for(lambda: _waiting_on_locks(conn, "advisory") == 2, 120, "both workers to wait")
            except AssertionError:
                for w in workers:
                    w.stop()
                raise
        try:
            codes = [w.wait() for w in workers]
        finally:
            for w in workers:
                w.stop()
        assert codes == [0, 0], [w.log()[-3000:] for w in workers]
        assert alert_history(conn) == reference
        assert_each_alert_once(conn)
        assert _shards_done(conn) == N_SHARDS
    first, second = (w.shards_with_work() for w in workers)
    assert 0 in first and 1 in second  # each began with its own first shard
    assert not first & second  # no shard scored twice
    assert first | second == set(range(N_SHARDS))  # and none left out
    # run both again at the same data time: everything is done, nothing changes
    again = [Analytics(db_url, tmp_path / f"again{i}.log", now=T, index=i, workers=2) for i in (0, 1)]
    assert [w.wait() for w in again] == [0, 0]
    assert [w.shards_with_work() for w in again] == [set(), set()]
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert alert_history(conn) == reference


def test_killed_inside_a_transaction_the_next_run_redoes_it(
    db_url: str, ref_db_url: str, tmp_path: Path
) -> None:
    reference = _reference(db_url, ref_db_url)
    victim = 28  # in the fourth group of eight: three groups commit before it
    with psycopg.connect(db_url, autocommit=True) as conn:
        with psycopg.connect(db_url) as blocker:
            # the group holding ``victim`` scores, writes its alerts, then waits to store its state
            blocker.execute(
                "SELECT 1 FROM job_state WHERE job = %s FOR UPDATE", (f"analytics.score/{victim}",)
            )
            run = Analytics(db_url, tmp_path / "killed.log", now=T)
            try:
                wait_for(lambda: _waiting_on_locks(conn, "transactionid") >= 1, 120, "the run to block")
                done = _shards_done(conn)
                run.proc.send_signal(signal.SIGKILL)
                run.proc.wait(timeout=30)
            finally:
                run.stop()
                blocker.rollback()
        assert 0 < done < N_SHARDS and _shards_done(conn) == done  # killed mid-run
        partial = alert_history(conn)
        assert set(partial) < set(reference)  # what committed is right, the rest is missing
        again = Analytics(db_url, tmp_path / "again.log", now=T)
        assert again.wait() == 0, again.log()[-3000:]
        assert alert_history(conn) == reference
        assert_each_alert_once(conn)


def test_killed_at_any_moment_the_next_run_finishes_the_same(
    db_url: str, ref_db_url: str, tmp_path: Path
) -> None:
    reference = _reference(db_url, ref_db_url)
    with psycopg.connect(db_url, autocommit=True) as conn:
        run = Analytics(db_url, tmp_path / "killed.log", now=T)
        try:
            wait_for(lambda: _shards_done(conn) >= 1 or run.proc.poll() is not None, 120, "a shard")
            run.proc.send_signal(signal.SIGKILL)
            run.proc.wait(timeout=30)
        finally:
            run.stop()
        again = Analytics(db_url, tmp_path / "again.log", now=T)
        assert again.wait() == 0, again.log()[-3000:]
        assert alert_history(conn) == reference
        assert_each_alert_once(conn)


def test_a_live_worker_starts_with_its_share_of_the_shards(db_url: str, tmp_path: Path) -> None:
    worker = Analytics(db_url, tmp_path / "live.log", now=None, index=1, workers=2)
    try:
        wait_for(lambda: "analytics scheduler started" in worker.log(), 60, "the scheduler to start")
    finally:
        worker.proc.send_signal(signal.SIGTERM)
        worker.proc.wait(timeout=30)
    odd = ",".join(str(s) for s in range(1, N_SHARDS, 2))
    assert f"worker 1/2, shards {odd}," in worker.log()
