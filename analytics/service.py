"""``dolbom analytics``: the APScheduler service, or one pass with ``--once``.

Live: every minute score new data and check clock conditions (auto-resolve and escalation
included) for this worker's shards; hourly look for local days that have ended and run the
nightly refit for them; daily create the readings/events partitions ahead and remove what is
past its retention (store/retention.py); monthly store the regional reports.
``--once --now TS`` runs everything pending as of TS for every shard.
Any number of workers may run with the same configuration: shards are scored under advisory
locks (analytics/runner.py) and the system-wide jobs under one lock each.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from analytics import runner
from analytics.errors import AnalyticsJobFailed
from analytics.minute.cycle import scheduled_job
from analytics.queries import shards as shard_queries
from analytics.shards import LOCK_SYSTEM, SYSTEM_MONTHLY, SYSTEM_PARTITIONS, Worker
from dolbom.config import Settings
from store.db import connect
from store.partitions import ensure_partitions
from store.retention import RetentionPolicy, apply_retention

log = logging.getLogger(__name__)

MINUTE_MISFIRE_S = 30
NIGHTLY_MISFIRE_S = 3600


@scheduled_job("store.partitions")
def maintain_partitions(conn: psycopg.Connection, now: datetime) -> dict[str, int]:
    """Create the weekly readings/events partitions ahead of ``now`` (plain PostgreSQL); one
    worker at a time (the others skip)."""
    if not shard_queries.try_lock_system(conn, LOCK_SYSTEM, SYSTEM_PARTITIONS):
        return {"partitions_created": 0, "skipped": 1}
    return {"partitions_created": len(ensure_partitions(conn, now=now))}


def retention_job(policy: RetentionPolicy) -> Callable[[str, datetime], dict[str, int] | None]:
    """The daily retention pass (store/retention.py); its own advisory lock makes a second
    worker wait and then find nothing left to remove."""

    @scheduled_job("store.retention")
    def retention(conn: psycopg.Connection, now: datetime) -> dict[str, int]:
        return apply_retention(conn, policy, now)

    return retention


def worker_of(settings: Settings) -> Worker:
    return Worker(settings.analytics_worker_index, settings.analytics_workers)


def run_once(db_url: str, now: datetime, worker: Worker | None = None) -> dict[str, dict[str, int]]:
    """Partitions, then score, nightly, clock of every shard: everything pending as of ``now``.
    Raises if a job failed."""
    partitions = maintain_partitions(db_url, now)
    if partitions is None:
        raise AnalyticsJobFailed("analytics job store.partitions failed; see the log above")
    if partitions.get("skipped"):
        # another worker is creating partitions: reading readings and events during its DDL
        # can deadlock (seen with two --once workers started together), so wait for it
        with connect(db_url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SYSTEM, SYSTEM_PARTITIONS))
    return {"partitions": partitions, **runner.once(db_url, now, worker or Worker())}


def monthly_reports(db_url: str, now: datetime) -> None:
    """Store last month's regional reports for every region (reports component); one worker
    at a time, and a region already stored is skipped, so every worker may schedule it."""
    from reports.jobs import generate_monthly

    with connect(db_url, autocommit=True) as conn:
        if not shard_queries.try_lock_system(conn, LOCK_SYSTEM, SYSTEM_MONTHLY, session=True):
            log.info("monthly reports: another analytics worker is storing them")
            return
        try:
            stored = generate_monthly(db_url, now)
        finally:
            shard_queries.unlock_system(conn, LOCK_SYSTEM, SYSTEM_MONTHLY)
    log.info("monthly reports: stored %d report(s) as of %s", len(stored), now.isoformat())


def _live(job: Callable[[str, datetime], object], db_url: str) -> Callable[[], None]:
    def tick() -> None:
        job(db_url, datetime.now(UTC))

    return tick


def run(settings: Settings, *, once: bool, now: datetime | None) -> None:
    """Entry point of ``dolbom analytics``."""
    worker = worker_of(settings)
    if once:
        moment = now or datetime.now(UTC)
        results = run_once(settings.database_url, moment, worker)
        log.info("analytics --once as of %s: %s", moment.isoformat(), results)
        return
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from store.db import check

    check(settings.database_url)
    scheduler = BlockingScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MINUTE_MISFIRE_S},
    )
    url = settings.database_url
    orphan_after_s = float(settings.analytics_orphan_after_s)

    def minute(db_url: str, moment: datetime) -> None:
        runner.minute(db_url, moment, worker, orphan_after_s)

    def nightly(db_url: str, moment: datetime) -> None:
        runner.nightly_refit(db_url, moment, worker, orphan_after_s)

    scheduler.add_job(
        _live(minute, url), IntervalTrigger(minutes=1), id="minute", name="score new data, clock"
    )
    scheduler.add_job(
        _live(nightly, url),
        CronTrigger(minute=7),
        id="nightly",
        name="nightly refit",
        misfire_grace_time=NIGHTLY_MISFIRE_S,
    )
    scheduler.add_job(
        _live(maintain_partitions, url),
        CronTrigger(hour=2, minute=17),
        id="partitions",
        name="create readings/events partitions ahead",
        misfire_grace_time=NIGHTLY_MISFIRE_S,
    )
    scheduler.add_job(
        _live(retention_job(RetentionPolicy.from_settings(settings)), url),
        CronTrigger(hour=2, minute=47),
        id="retention",
        name="remove data past its retention",
        misfire_grace_time=NIGHTLY_MISFIRE_S,
    )
    scheduler.add_job(
        _live(monthly_reports, url),
        CronTrigger(day=1, hour=1, minute=30),
        id="monthly",
        name="monthly regional reports",
        misfire_grace_time=NIGHTLY_MISFIRE_S,
    )
    log.info(
        "analytics scheduler started: worker %s, shards %s, takes over shards idle for %.0f s",
        worker.name,
        ",".join(map(str, worker.own_shards())),
        orphan_after_s,
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("analytics scheduler stopped")
