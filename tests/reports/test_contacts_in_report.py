"""The regional report's contacts (issue 14): by channel, by the programme's groups
(비대면 / 대면) and per enrollee-month, in the period's bounds in the region's timezone; in
the JSON, the CSV's TOTAL row and the PDF.

The known region (Asia/Seoul, 2026-09): A and B are observed all 30 days, C from Sep 16
(15 days), so 75 enrollee-days = 2.5 enrollee-months. D is inactive, F in another region.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from reports.compute import CONTACT_GROUPS
from reports.render import render
from reports.service import regional_report
from store.contacts import CHANNELS
from tests.factories import make_contact, make_enrollee
from tests.reports.conftest import AS_OF, KnownRegion, local

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "reports"
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def contacted(db: psycopg.Connection, known: KnownRegion) -> KnownRegion:
    a, b = known.ids["A"], known.ids["B"]
    make_contact(db, a, at=local(9, 1, 0, 30), channel="phone")  # Aug 31 15:30 UTC: in
    make_contact(db, a, at=local(9, 30, 23, 59), channel="visit")  # in
    make_contact(db, a, at=local(10, 1, 0, 30), channel="phone")  # Sep 30 15:30 UTC: out
    make_contact(db, a, at=local(8, 31, 23, 59), channel="video")  # out
    make_contact(db, b, at=local(9, 15, 10), channel="message")
    make_contact(db, b, at=local(9, 16, 10), channel="speaker")
    make_contact(db, b, at=local(9, 20, 10), channel="visit")
    make_contact(db, known.ids["D"], at=local(9, 10, 10), channel="phone")  # inactive: out
    make_contact(db, known.ids["F"], at=local(9, 10, 10), channel="visit")  # other region: out
    return known


def test_every_channel_is_in_one_group() -> None:
    members = [c for group in CONTACT_GROUPS.values() for c in group]
    assert sorted(members) == sorted(CHANNELS)
    assert CONTACT_GROUPS["face_to_face"] == ("visit",)


def test_contacts_by_channel_group_and_enrollee_month(db: psycopg.Connection, contacted: KnownRegion) -> None:
    contacts = regional_report(db, contacted.region_id, "2026-09", as_of=AS_OF)["contacts"]
    assert contacts["by_channel"] == {"phone": 1, "visit": 2, "message": 1, "speaker": 1, "video": 0}
    assert contacts["by_group"] == {"non_face_to_face": 3, "face_to_face": 2}
    assert contacts["total"] == 5
    assert contacts["groups"]["non_face_to_face"] == ["phone", "video", "message", "speaker"]
    assert contacts["enrollee_months"] == 2.5
    per = contacts["per_enrollee_month"]
    assert per["total"] == 2.0
    assert per["by_group"] == {"non_face_to_face": 1.2, "face_to_face": 0.8}
    assert per["by_channel"]["visit"] == 0.8 and per["by_channel"]["video"] == 0.0
    assert contacts["since"] == "2026-09-01T00:00:00+09:00"
    assert contacts["until"] == "2026-10-01T00:00:00+09:00"
    assert contacts["definition"]


def test_bounds_are_the_regions_local_month(db: psycopg.Connection, contacted: KnownRegion) -> None:
    """In New York, Oct 1 00:30 Seoul is Sep 30 11:30: in; Sep 1 00:30 Seoul is Aug 31: out."""
    db.execute("UPDATE regions SET timezone = 'America/New_York' WHERE id = %s", (contacted.region_id,))
    make_contact(db, contacted.ids["B"], at=datetime(2026, 9, 30, 23, 59, tzinfo=NEW_YORK), channel="video")
    make_contact(db, contacted.ids["B"], at=datetime(2026, 10, 1, 0, 0, tzinfo=NEW_YORK), channel="video")
    contacts = regional_report(db, contacted.region_id, "2026-09", as_of=AS_OF)["contacts"]
    assert contacts["by_channel"] == {"phone": 1, "visit": 2, "message": 1, "speaker": 1, "video": 1}
    assert contacts["since"] == "2026-09-01T00:00:00-04:00"


def test_week_counts_per_mean_month(db: psycopg.Connection, contacted: KnownRegion) -> None:
    """2026-W38 is Sep 14-20: B's message, speaker and visit; A and B 7 days, C 5 (from Sep 16)."""
    contacts = regional_report(db, contacted.region_id, "2026-W38", as_of=AS_OF)["contacts"]
    assert contacts["by_group"] == {"non_face_to_face": 2, "face_to_face": 1}
    assert contacts["enrollee_months"] == round(19 / (365.2425 / 12), 2)


def test_no_population_has_no_rate(db: psycopg.Connection, known: KnownRegion) -> None:
    empty = make_enrollee(db, known.other_region_id, None)
    make_contact(db, empty, at=local(9, 5, 10), channel="phone")
    db.execute("UPDATE enrollees SET active = false WHERE region_id = %s", (known.other_region_id,))
    contacts = regional_report(db, known.other_region_id, "2026-09", as_of=AS_OF)["contacts"]
    assert contacts["total"] == 0 and contacts["enrollee_months"] == 0
    assert contacts["per_enrollee_month"]["total"] is None


def test_csv_totals_row_has_the_contacts(db: psycopg.Connection, contacted: KnownRegion) -> None:
    report = regional_report(db, contacted.region_id, "2026-09", as_of=AS_OF)
    rows = list(csv.DictReader(io.StringIO(render(report, "csv").decode("utf-8-sig"))))
    total = rows[-1]
    assert total["enrollee_id"] == "TOTAL"
    assert [total[f"contacts_{c}"] for c in CHANNELS] == ["1", "2", "1", "1", "0"]
    assert total["contacts_non_face_to_face"] == "3" and total["contacts_face_to_face"] == "2"
    assert total["contacts"] == "5" and total["contacts_enrollee_months"] == "2.5"
    assert total["contacts_per_enrollee_month"] == "2.0"
    assert all(r["contacts"] == "" for r in rows[:-1])  # counted per region, not per person


def test_a_report_stored_before_contacts_still_renders(db: psycopg.Connection, known: KnownRegion) -> None:
    report = regional_report(db, known.region_id, "2026-09", as_of=AS_OF)
    del report["contacts"]
    assert render(report, "csv").decode("utf-8-sig").splitlines()[-1].startswith("TOTAL")
    assert render(report, "pdf").startswith(b"%PDF")


@pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                    reason="poppler-utils (pdftoppm, pdftotext) not installed")
def test_pdf_shows_the_contacts(db: psycopg.Connection, contacted: KnownRegion, tmp_path: Path) -> None:
    pdf = render(regional_report(db, contacted.region_id, "2026-09", as_of=AS_OF), "pdf")
    (tmp_path / "r.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-enc", "UTF-8", str(tmp_path / "r.pdf"), "-"],
                          capture_output=True, check=True, timeout=60).stdout.decode("utf-8")
    assert "연락: 전체 5건" in text
    assert "비대면 3건 (전화 1 · 화상 0 · 문자 1 · AI 스피커 1)" in text
    assert "대면 2건 (방문 2)" in text
    assert "대상자 1인·월당 연락: 2.00건" in text and "관찰 2.5인·월" in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "regional-contacts.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1",
                    str(ARTIFACTS / "regional-contacts.pdf"), str(ARTIFACTS / "regional-contacts")],
                   check=True, timeout=60)
