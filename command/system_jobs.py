"""The jobs that run once system-wide, scheduled beside analytics' own by ``dolbom analytics``.

Every analytics worker runs the same scheduler, so each of these takes a PostgreSQL advisory
lock ``(LOCK_SYSTEM, key)`` and a second worker skips it (or, for retention, waits and then
finds nothing left to do). They belong to no component: partitions and retention are the
store's, the monthly reports the reports'; analytics only runs them on its schedule
(``analytics.service.SystemJob``), so analytics imports neither.

| job | when (UTC) | what |
|---|---|---|
| partitions | daily 02:17, and first in ``--once`` | readings/events partitions ahead (store/partitions.py) |
| retention | daily 02:47 | remove what is past its retention (store/retention.py, its own lock) |
| monthly | 1st of month 01:30 | store last month's regional reports (reports/jobs.py) |

The CLI passes ``system_jobs(settings)`` to ``analytics.service.run``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Final

import psycopg

from analytics.service import SystemJob
from dolbom.config import Settings
from reports.jobs import generate_monthly
from store.db import connect
from store.partitions import ensure_partitions
from store.retention import RetentionPolicy, apply_retention

log = logging.getLogger(__name__)

# Advisory lock namespace of the jobs that run once system-wide ("dols"; analytics' shards
# take "dola" and "doln", analytics/shards.py), and each job's key in it.
LOCK_SYSTEM: Final = 0x646F6C73
SYSTEM_PARTITIONS: Final = 1
SYSTEM_MONTHLY: Final = 2

JobFn = Callable[[psycopg.Connection, datetime], dict[str, int]]
Job = Callable[[str, datetime], dict[str, int] | None]


def scheduled_job(name: str) -> Callable[[JobFn], Job]:
    """Wrap a job: one connection and transaction, timing, and ``log.exception`` on failure
    (then None)."""

    def wrap(fn: JobFn) -> Job:
        @functools.wraps(fn)
        def run(db_url: str, now: datetime) -> dict[str, int] | None:
            started = time.perf_counter()
            try:
                with connect(db_url) as conn, conn.transaction():
                    counts = fn(conn, now)
            except Exception:
                log.exception("system job %s failed (data time %s)", name, now.isoformat())
                return None
            log.info(
                "system job %s done in %.3f s (data time %s): %s",
                name,
                time.perf_counter() - started,
                now.isoformat(),
                " ".join(f"{k}={v}" for k, v in sorted(counts.items())),
            )
            return counts

        return run

    return wrap


def _try_lock(conn: psycopg.Connection, key: int, *, session: bool = False) -> bool:
    fn = "pg_try_advisory_lock" if session else "pg_try_advisory_xact_lock"
    row = conn.execute(f"SELECT {fn}(%s, %s)", (LOCK_SYSTEM, key)).fetchone()
    return bool(row and row[0])


@scheduled_job("store.partitions")
def maintain_partitions(conn: psycopg.Connection, now: datetime) -> dict[str, int]:
    """Create the weekly readings/events partitions ahead of ``now`` (plain PostgreSQL); one
    worker at a time (the others skip)."""
    if not _try_lock(conn, SYSTEM_PARTITIONS):
        return {"partitions_created": 0, "skipped": 1}
    return {"partitions_created": len(ensure_partitions(conn, now=now))}


def partitions_before_scoring(db_url: str, now: datetime) -> dict[str, int] | None:
    """``--once``'s first step: the partitions as of ``now``; when another worker is creating
    them, wait until it is done, since reading readings and events during its DDL can
    deadlock (seen with two ``--once`` workers started together). None: failed (logged)."""
    counts = maintain_partitions(db_url, now)
    if counts is not None and counts.get("skipped"):
        with connect(db_url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SYSTEM, SYSTEM_PARTITIONS))
    return counts


def retention_job(policy: RetentionPolicy) -> Job:
    """The daily retention pass (store/retention.py); its own advisory lock makes a second
    worker wait and then find nothing left to remove."""

    @scheduled_job("store.retention")
    def retention(conn: psycopg.Connection, now: datetime) -> dict[str, int]:
        return apply_retention(conn, policy, now)

    return retention


def monthly_reports(db_url: str, now: datetime) -> None:
    """Store last month's regional reports for every region; one worker at a time, and a
    region already stored is skipped, so every worker may schedule it."""
    with connect(db_url, autocommit=True) as conn:
        if not _try_lock(conn, SYSTEM_MONTHLY, session=True):
            log.info("monthly reports: another analytics worker is storing them")
            return
        try:
            stored = generate_monthly(db_url, now)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SYSTEM, SYSTEM_MONTHLY))
    log.info("monthly reports: stored %d report(s) as of %s", len(stored), now.isoformat())


# The partitions, also ``--once``'s first step.
PARTITIONS: Final = SystemJob(
    name="partitions",
    description="create readings/events partitions ahead",
    cron={"hour": 2, "minute": 17},
    run=maintain_partitions,
    before_once=partitions_before_scoring,
)
MONTHLY: Final = SystemJob(
    name="monthly",
    description="monthly regional reports",
    cron={"day": 1, "hour": 1, "minute": 30},
    run=monthly_reports,
)


def system_jobs(settings: Settings) -> list[SystemJob]:
    """The system-wide jobs, for ``analytics.service.run(settings, ..., system_jobs=...)``."""
    retention = SystemJob(
        name="retention",
        description="remove data past its retention",
        cron={"hour": 2, "minute": 47},
        run=retention_job(RetentionPolicy.from_settings(settings)),
    )
    return [PARTITIONS, retention, MONTHLY]
