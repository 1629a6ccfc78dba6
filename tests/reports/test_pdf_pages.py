"""The two PDFs as a person reads them (issue 14): every time in the enrollee's zone (the
region's for the regional report) with its label, days as dates, no chart of today's
unfinished day, "no data" instead of an empty axis, whole people on the step distribution.

The region is in Pacific/Auckland and enrollee A in America/New_York: neither the server's
zone (UTC) nor the programme's fallback (Seoul). Every page is also written as a PNG to
tests/artifacts/reports/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
import pytest
from matplotlib import dates as mdates

from dolbom.text import drawable_tree
from dolbom.timefmt import printed, when
from reports.render import render
from reports.service import enrollee_summary, regional_report
from reports.summary_pdf import summary_page
from tests.factories import make_enrollee, make_region, set_enrollee_timezone
from tests.reports.conftest import AS_OF, KnownRegion, insert_alert, insert_readings, sep

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "reports"
NEW_YORK = ZoneInfo("America/New_York")
AUCKLAND = ZoneInfo("Pacific/Auckland")
LABELLED = re.compile(r"\d{2}:\d{2} (?P<label>[A-Z]{2,5}|UTC[+-]\d{2}(?::\d{2})?)")
CLOCK = re.compile(r"(?<![\d.])\d{2}:\d{2}(?!\d)")

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                reason="poppler-utils (pdftoppm, pdftotext) not installed")


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "t.pdf").write_bytes(pdf)
    result = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(tmp_path / "t.pdf"), "-"],
                            capture_output=True, check=True, timeout=60)
    return result.stdout.decode("utf-8")


def write_pages(pdf: bytes, name: str) -> list[Path]:
    """Every page as tests/artifacts/reports/{name}-N.png at 60 dpi."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(ARTIFACTS / f"{name}.pdf"), str(ARTIFACTS / name)],
                   check=True, timeout=120)
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


def labels_of(text: str) -> set[str]:
    """The zone labels of the times in ``text``; every HH:MM must carry one."""
    spans = [(m.start(), m.end()) for m in LABELLED.finditer(text)]
    for m in CLOCK.finditer(text):
        assert any(a <= m.start() < b for a, b in spans), text[max(0, m.start() - 60):m.end() + 20]
    return {m.group("label") for m in LABELLED.finditer(text)}


@pytest.fixture
def abroad(db: psycopg.Connection, known: KnownRegion) -> KnownRegion:
    """The known region in Auckland, with enrollee A in New York."""
    db.execute("UPDATE regions SET timezone = 'Pacific/Auckland' WHERE id = %s", (known.region_id,))
    set_enrollee_timezone(db, known.ids["A"], "America/New_York")
    return known


def test_personal_summary_times_are_the_enrollees(db: psycopg.Connection, abroad: KnownRegion,
                                                  tmp_path: Path) -> None:
    summary = enrollee_summary(db, abroad.ids["A"], "2026-09", as_of=AS_OF)
    pdf = render(summary, "pdf")
    write_pages(pdf, "summary-new-york")
    text = pdf_text(pdf, tmp_path)
    assert labels_of(text) <= {"EDT", "EST"} and labels_of(text)
    assert f"기준 시각 {when(AS_OF, NEW_YORK, 'ko')}" in text
    assert summary["alerts"]["items"]
    for item in summary["alerts"]["items"]:
        assert printed(datetime.fromisoformat(item["opened_at"]), NEW_YORK, "ko", year_of=2026) in text


def test_regional_report_times_are_the_regions(db: psycopg.Connection, abroad: KnownRegion,
                                               tmp_path: Path) -> None:
    report = regional_report(db, abroad.region_id, "2026-09", as_of=AS_OF)
    pdf = render(report, "pdf")
    write_pages(pdf, "regional-auckland")
    text = pdf_text(pdf, tmp_path)
    assert labels_of(text) == {"NZDT"}
    assert f"기준 시각 {when(AS_OF, AUCKLAND, 'ko')}" in text


def _days_on_axis(summary: dict[str, Any]) -> None:
    """The summary's daily series hold finished days only (the text counts those)."""
    as_of_day = datetime.fromisoformat(summary["as_of"]).astimezone(NEW_YORK).date().isoformat()
    for trend in summary["vitals"].values():
        assert all(d["day"] < as_of_day for d in trend["daily"]), trend["daily"][-1]
    for series in ("steps_daily", "sleep_daily_hours", "worn_hours_daily"):
        assert all(p["day"] < as_of_day for p in summary["activity"][series])


def test_a_running_month_charts_finished_days_only(db: psycopg.Connection, abroad: KnownRegion) -> None:
    """Mid-month, the vitals' daily means stop at yesterday, like the days the text counts."""
    # A's cuff readings are at 08:00 Seoul: 19:00 the day before in New York.
    as_of = datetime(2026, 9, 9, 20, 0, tzinfo=NEW_YORK)  # after the reading of "Sep 10" Seoul
    summary = enrollee_summary(db, abroad.ids["A"], "2026-09", as_of=as_of)
    _days_on_axis(summary)
    daily = summary["vitals"]["systolic_bp"]["daily"]
    assert daily[-1]["day"] == "2026-09-08"  # today, Sep 9, has a reading already: not charted
    assert summary["adherence"]["days_observed"] == 8
    assert summary["vitals"]["systolic_bp"]["readings"] == sum(d["n"] for d in daily)
    fig = summary_page(drawable_tree(summary))
    bp = next(ax for ax in fig.axes if ax.get_title() == "혈압 (mmHg)")
    series = [np.asarray(line.get_xdata()).tolist() for line in bp.get_lines()]
    last_day = max(max(xs) for xs in series if len(xs) > 2)
    assert last_day == mdates.date2num(date(2026, 9, 8))


def test_days_are_dates_not_fractions(db: psycopg.Connection, abroad: KnownRegion) -> None:
    summary = enrollee_summary(db, abroad.ids["A"], "2026-09", as_of=AS_OF)
    fig = summary_page(drawable_tree(summary))
    charted = [ax for ax in fig.axes if ax.get_xticks().size]
    assert len(charted) == 5  # BP, glucose (conditions and data), heart rate, steps, sleep
    for ax in charted:
        labels = [ax.xaxis.get_major_formatter()(tick) for tick in ax.get_xticks()]
        assert labels == ["9/1", "9/8", "9/15", "9/22", "9/29"], (ax.get_title(), labels)
        assert ax.get_xlim()[1] - ax.get_xlim()[0] == pytest.approx(30)  # the whole month, shared


def test_empty_region_says_no_data(db: psycopg.Connection, tmp_path: Path) -> None:
    """A region with one enrollee and nothing else: every chart says so, no -0.045 axis."""
    region = make_region(db, "빈 지역")
    db.execute("UPDATE regions SET timezone = 'America/New_York' WHERE id = %s", (region,))
    person = make_enrollee(db, region, name="홍길동")
    db.execute("UPDATE enrollees SET enrolled_at = '2026-08-01' WHERE id = %s", (person,))
    report = regional_report(db, region, "2026-09", as_of=AS_OF)
    pdf = render(report, "pdf")
    write_pages(pdf, "regional-empty")
    text = pdf_text(pdf, tmp_path)
    assert report["enrollees"]["without_data"] == 1
    assert "0.045" not in text and "0.04" not in text and "-0.0" not in text
    assert text.count("자료 없음") == 2 and "이번 기간 알림 없음" in text and "확인된 알림 없음" in text
    assert labels_of(text) == {"EDT"}


def test_step_distribution_counts_whole_people(db: psycopg.Connection, known: KnownRegion,
                                               tmp_path: Path) -> None:
    report = regional_report(db, known.region_id, "2026-09", as_of=AS_OF)
    from reports import pdf as pdf_module

    fig = pdf_module._overview(pdf_module.drawable_tree(report))
    steps = next(ax for ax in fig.axes if "걸음" in ax.get_title())
    ticks = [t for t in steps.get_yticks() if steps.get_ylim()[0] <= t <= steps.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_a_months_summary_has_a_weight_chart_for_heart_failure(db: psycopg.Connection,
                                                               abroad: KnownRegion, tmp_path: Path) -> None:
    """Heart failure: the summary charts the daily weight (ESC: weigh daily)."""
    eid = abroad.ids["B"]
    db.execute("UPDATE enrollees SET conditions = %s WHERE id = %s", (["hypertension", "heart_failure"], eid))
    scale = db.execute("INSERT INTO devices (device_id, enrollee_id, kind) VALUES ('scale-b', %s, 'scale')"
                       " RETURNING id", (eid,)).fetchone()
    assert scale is not None
    insert_readings(db, [(scale[0], "weight", sep(d, 7), 64.2 + 0.1 * (d % 5)) for d in range(30)])
    insert_alert(db, eid, "rapid_weight_gain", "medium", sep(20, 7, 5))
    summary = enrollee_summary(db, eid, "2026-09", as_of=AS_OF)
    pdf = render(summary, "pdf")
    write_pages(pdf, "summary-heart-failure")
    text = pdf_text(pdf, tmp_path)
    assert ("체중 (kg)" in text and "64.2" in text) or "64.4" in text


def test_no_time_is_utc_when_the_server_is(db: psycopg.Connection, abroad: KnownRegion) -> None:
    """The JSON keeps instants (ISO with offsets); only the PDF writes local clock times."""
    summary = enrollee_summary(db, abroad.ids["A"], "2026-09", as_of=AS_OF)
    opened = [datetime.fromisoformat(i["opened_at"]) for i in summary["alerts"]["items"]]
    assert opened and all(o.utcoffset() == NEW_YORK.utcoffset(o.replace(tzinfo=None)) for o in opened)
    assert datetime.fromisoformat(summary["as_of"]) == AS_OF.astimezone(UTC) + timedelta(0)
