"""The system-wide jobs that ``dolbom analytics`` schedules (command/system_jobs.py): one
worker at a time, the monthly reports stored once per region, and ``--once`` starting with
the partitions (waiting for another worker creating them)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg

from analytics.service import run_once
from command.system_jobs import (
    LOCK_SYSTEM,
    PARTITIONS,
    SYSTEM_MONTHLY,
    SYSTEM_PARTITIONS,
    maintain_partitions,
    monthly_reports,
    system_jobs,
)
from dolbom.config import Settings
from tests.factories import make_enrollee, make_region

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def test_monthly_job_stores_last_months_report_per_region(db_url: str, db: psycopg.Connection) -> None:
    seoul, busan = make_region(db, "서울 보건소"), make_region(db, "부산 보건소")
    make_enrollee(db, region_id=seoul)
    monthly_reports(db_url, datetime(2026, 12, 1, 1, 30, tzinfo=UTC))
    rows = db.execute("SELECT region_id, period, enrollees FROM stored_reports ORDER BY region_id").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(seoul, "2026-11"), (busan, "2026-11")]
    monthly_reports(db_url, datetime(2026, 12, 1, 2, 30, tzinfo=UTC))  # a re-run adds nothing
    assert db.execute("SELECT count(*) FROM stored_reports").fetchone() == (2,)


def test_system_wide_jobs_run_on_one_worker_at_a_time(db_url: str, db: psycopg.Connection) -> None:
    region = make_region(db)
    make_enrollee(db, region)
    december = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    with psycopg.connect(db_url, autocommit=True) as other_worker:
        for key in (SYSTEM_PARTITIONS, SYSTEM_MONTHLY):
            other_worker.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_SYSTEM, key))
        skipped = maintain_partitions(db_url, T0 + timedelta(days=200))
        assert skipped == {"partitions_created": 0, "skipped": 1}
        monthly_reports(db_url, december)
        assert db.execute("SELECT count(*) FROM stored_reports").fetchone() == (0,)
    assert maintain_partitions(db_url, T0 + timedelta(days=200))["partitions_created"] > 0  # type: ignore[index]
    monthly_reports(db_url, december)
    assert db.execute("SELECT count(*) FROM stored_reports").fetchone() == (1,)


def test_once_starts_with_the_partitions_and_waits_for_another_worker_creating_them(db_url: str) -> None:
    later = T0 + timedelta(days=300)
    results: list[dict[str, dict[str, int]]] = []
    with psycopg.connect(db_url, autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_SYSTEM, SYSTEM_PARTITIONS))

        def once_pass() -> None:
            results.append(run_once(db_url, later, system_jobs=[PARTITIONS]))

        once = threading.Thread(target=once_pass)
        once.start()
        once.join(timeout=1.0)
        assert once.is_alive()  # waits: scoring during the other worker's DDL can deadlock
        other_worker.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SYSTEM, SYSTEM_PARTITIONS))
        once.join(timeout=120)
    assert results and results[0]["partitions"] == {"partitions_created": 0, "skipped": 1}
    assert "score" in results[0] and "clock" in results[0]
    created = run_once(db_url, later, system_jobs=[PARTITIONS])["partitions"]["partitions_created"]
    assert created > 0


def test_the_schedule_of_the_system_jobs() -> None:
    jobs = {job.name: job for job in system_jobs(Settings())}
    assert {name: dict(job.cron) for name, job in jobs.items()} == {
        "partitions": {"hour": 2, "minute": 17},
        "retention": {"hour": 2, "minute": 47},
        "monthly": {"day": 1, "hour": 1, "minute": 30},
    }
    assert [name for name, job in jobs.items() if job.before_once] == ["partitions"]
