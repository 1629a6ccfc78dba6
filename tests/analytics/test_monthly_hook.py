"""The analytics scheduler's monthly job stores every region's report for last month."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from analytics.service import monthly_reports
from tests.factories import make_enrollee, make_region


def test_monthly_job_stores_last_months_report_per_region(db_url: str, db: psycopg.Connection) -> None:
    seoul, busan = make_region(db, "서울 보건소"), make_region(db, "부산 보건소")
    make_enrollee(db, region_id=seoul)
    monthly_reports(db_url, datetime(2026, 12, 1, 1, 30, tzinfo=UTC))
    rows = db.execute("SELECT region_id, period, enrollees FROM stored_reports ORDER BY region_id").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(seoul, "2026-11"), (busan, "2026-11")]
    monthly_reports(db_url, datetime(2026, 12, 1, 2, 30, tzinfo=UTC))  # a re-run adds nothing
    assert db.execute("SELECT count(*) FROM stored_reports").fetchone() == (2,)
