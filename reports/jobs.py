"""The monthly job: finished regional reports of the previous month, stored for every region.

The command schedules it (``command/system_jobs.py`` ``monthly_reports``, handed to
analytics' scheduler with the other system-wide jobs)::

    from reports.jobs import generate_monthly
    generate_monthly(db_url, now)

Idempotent: a region whose report for that month is already stored is skipped (pass
``replace=True`` to regenerate, e.g. after late backlog data). One region failing is logged
and does not stop the others.
"""

from __future__ import annotations

import logging
import time as clock
from datetime import datetime

import psycopg

from reports import queries
from reports.period import previous_month
from reports.render import regional_csv, to_json
from reports.service import regional_report
from store.db import connect

log = logging.getLogger(__name__)


def generate_monthly(
    conn_or_url: psycopg.Connection | str, now: datetime, *, replace: bool = False
) -> list[int]:
    """Store last month's report (in each region's own timezone) for every region; return the
    ids of the reports written."""
    if isinstance(conn_or_url, str):
        with connect(conn_or_url, autocommit=True) as conn:
            return _generate(conn, now, replace)
    return _generate(conn_or_url, now, replace)


def _generate(conn: psycopg.Connection, now: datetime, replace: bool) -> list[int]:
    from reports.pdf import regional_pdf

    written: list[int] = []
    for region in queries.all_regions(conn):
        period = previous_month(now, region.timezone)
        if not replace and queries.stored_report_exists(conn, region.id, period.label):
            continue
        started = clock.perf_counter()
        try:
            with conn.transaction():
                report = regional_report(conn, region.id, period, as_of=now)
                report_id = queries.store_report(
                    conn, region.id, period.label, now, report["enrollees"]["active"], to_json(report),
                    regional_csv(report), regional_pdf(report), replace=replace,
                )
        except Exception:
            log.exception("monthly report failed for region %s period %s", region.id, period.label)
            continue
        if report_id is not None:
            written.append(report_id)
            log.info("stored report %s region=%s period=%s in %.1f s", report_id, region.id,
                     period.label, clock.perf_counter() - started)
    return written
