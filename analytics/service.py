"""``dolbom analytics``: the APScheduler service, or one pass with ``--once``.

Live: every minute score new data and check clock conditions (auto-resolve and escalation
included); hourly look for local days that have ended and run the nightly refit for them;
daily create the readings/events partitions ahead; monthly store the regional reports.
``--once --now TS`` runs everything pending as of TS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from analytics.errors import AnalyticsJobFailed
from analytics.jobs import check_clock, scheduled_job, score_new_data
from analytics.nightly import nightly
from dolbom.config import Settings
from store.partitions import ensure_partitions

log = logging.getLogger(__name__)

MINUTE_MISFIRE_S = 30
NIGHTLY_MISFIRE_S = 3600
MAX_SCORE_PASSES = 1000  # --once drains the queue in passes of at most 200,000 rows

Job = Callable[[str, datetime], "dict[str, int] | None"]


@scheduled_job("store.partitions")
def maintain_partitions(conn: psycopg.Connection, now: datetime) -> dict[str, int]:
    """Create the weekly readings/events partitions ahead of ``now`` (plain PostgreSQL)."""
    return {"partitions_created": len(ensure_partitions(conn, now=now))}


def run_once(db_url: str, now: datetime) -> dict[str, dict[str, int]]:
    """Score, nightly, clock: everything pending as of ``now``. Raises if a job failed."""
    results: dict[str, dict[str, int]] = {}

    def call(job: Job) -> dict[str, int]:
        counts = job(db_url, now)
        if counts is None:
            raise AnalyticsJobFailed(
                f"analytics job {getattr(job, 'job_name', job)} failed; see the log above"
            )
        return counts

    results["partitions"] = call(maintain_partitions)
    for _ in range(MAX_SCORE_PASSES):
        results["score"] = call(score_new_data)
        if not results["score"].get("more"):
            break
    results["nightly"] = call(nightly)
    results["clock"] = call(check_clock)
    return results


def monthly_reports(db_url: str, now: datetime) -> None:
    """Store last month's regional reports for every region (reports component)."""
    from reports.jobs import generate_monthly

    stored = generate_monthly(db_url, now)
    log.info("monthly reports: stored %d report(s) as of %s", len(stored), now.isoformat())


def _minute(db_url: str) -> Callable[[], None]:
    """Score new data, then the clock conditions, in one job: they never run concurrently."""

    def tick() -> None:
        now = datetime.now(UTC)
        score_new_data(db_url, now)
        check_clock(db_url, now)

    return tick


def _live(job: Job, db_url: str) -> Callable[[], None]:
    def tick() -> None:
        job(db_url, datetime.now(UTC))

    return tick


def run(settings: Settings, *, once: bool, now: datetime | None) -> None:
    """Entry point of ``dolbom analytics``."""
    if once:
        moment = now or datetime.now(UTC)
        results = run_once(settings.database_url, moment)
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
    scheduler.add_job(_minute(url), IntervalTrigger(minutes=1), id="minute", name="score new data, clock")
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
        lambda: monthly_reports(url, datetime.now(UTC)),
        CronTrigger(day=1, hour=1, minute=30),
        id="monthly",
        name="monthly regional reports",
        misfire_grace_time=NIGHTLY_MISFIRE_S,
    )
    log.info("analytics scheduler started (score and clock every minute, nightly refit hourly check)")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("analytics scheduler stopped")
