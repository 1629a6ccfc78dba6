"""The monthly job: last month's report stored for every region, once."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from reports.jobs import generate_monthly
from tests.reports.conftest import KnownRegion


def test_monthly_job_stores_last_month_for_every_region(
    db_url: str, db: psycopg.Connection, known: KnownRegion
) -> None:
    now = datetime(2026, 10, 1, 1, 30, tzinfo=ZoneInfo("Asia/Seoul"))
    written = generate_monthly(db_url, now)
    assert len(written) == 2  # both regions, for September in Seoul time
    assert generate_monthly(db, now) == []  # idempotent
    assert len(generate_monthly(db, now, replace=True)) == 2
    rows = db.execute(
        "SELECT region_id, period, enrollees, length(pdf) > 1000, csv LIKE %s"
        " FROM stored_reports ORDER BY region_id",
        ("%TOTAL%",),
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (known.region_id, "2026-09", 3, True, True),
        (known.other_region_id, "2026-09", 1, True, True),
    ]
