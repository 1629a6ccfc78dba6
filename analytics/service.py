"""``dolbom analytics``: the APScheduler service, or one pass with ``--once``.

Live: every minute score new data and check clock conditions (auto-resolve and escalation
included) for this worker's shards; hourly look for local days that have ended and run the
nightly refit for them. ``--once --now TS`` runs everything pending as of TS for every shard.
Any number of workers may run with the same configuration: shards are scored under advisory
locks (analytics/runner.py).

Jobs that run once system-wide (partitions, retention, the monthly reports) are not
analytics': the command that starts the service passes them in as ``SystemJob``s
(``command/system_jobs.py``), and the service schedules them beside its own, each on its
cron, and runs those with a ``before_once`` step first in ``--once``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from analytics import runner
from analytics.errors import AnalyticsJobFailed
from analytics.shards import Worker
from dolbom.config import Settings

log = logging.getLogger(__name__)

MINUTE_MISFIRE_S: Final = 30
NIGHTLY_MISFIRE_S: Final = 3600

# A job's run: (database url, data time) -> its counts, or None when it failed (logged).
JobRun = Callable[[str, datetime], Mapping[str, int] | None]


@dataclass(frozen=True, slots=True)
class SystemJob:
    """A job the service schedules on behalf of the command that starts it.

    ``cron``: APScheduler ``CronTrigger`` fields, UTC (e.g. ``{"hour": 2, "minute": 17}``);
    ``run``: the scheduled call (it takes its own lock and logs its own failure);
    ``before_once``: what ``--once`` runs before any shard (None: ``--once`` leaves the job
    out); returning None there stops ``--once`` with ``AnalyticsJobFailed``."""

    name: str
    description: str
    cron: Mapping[str, int | str]
    run: Callable[[str, datetime], object]
    before_once: JobRun | None = None
    misfire_grace_s: int = NIGHTLY_MISFIRE_S


def worker_of(settings: Settings) -> Worker:
    return Worker(settings.analytics_worker_index, settings.analytics_workers)


def run_once(
    db_url: str,
    now: datetime,
    worker: Worker | None = None,
    *,
    system_jobs: Sequence[SystemJob] = (),
) -> dict[str, dict[str, int]]:
    """The ``before_once`` steps of ``system_jobs`` (e.g. the partitions), then score,
    nightly and clock of every shard: everything pending as of ``now``. Raises if a job
    failed."""
    results: dict[str, dict[str, int]] = {}
    for job in system_jobs:
        if job.before_once is None:
            continue
        counts = job.before_once(db_url, now)
        if counts is None:
            raise AnalyticsJobFailed(f"system job {job.name} failed; see the log above")
        results[job.name] = dict(counts)
    return {**results, **runner.once(db_url, now, worker or Worker())}


def _live(job: Callable[[str, datetime], object], db_url: str) -> Callable[[], None]:
    def tick() -> None:
        job(db_url, datetime.now(UTC))

    return tick


def run(
    settings: Settings,
    *,
    once: bool,
    now: datetime | None,
    system_jobs: Sequence[SystemJob] = (),
) -> None:
    """Entry point of ``dolbom analytics``; ``system_jobs``: the system-wide jobs the command
    has the service run (scheduled live; their ``before_once`` steps first in ``--once``)."""
    worker = worker_of(settings)
    if once:
        moment = now or datetime.now(UTC)
        results = run_once(settings.database_url, moment, worker, system_jobs=system_jobs)
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
    for job in system_jobs:
        scheduler.add_job(
            _live(job.run, url),
            CronTrigger(**job.cron),
            id=job.name,
            name=job.description,
            misfire_grace_time=job.misfire_grace_s,
        )
    log.info(
        "analytics scheduler started: worker %s, shards %s, takes over shards idle for %.0f s; "
        "system jobs: %s",
        worker.name,
        ",".join(map(str, worker.own_shards())),
        orphan_after_s,
        ",".join(job.name for job in system_jobs) or "none",
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("analytics scheduler stopped")
