"""The report as files: CSV shape, the PDF rendered to PNG, Korean text, the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import psycopg
import pytest
from matplotlib.image import imread

from reports.pdf import korean_font_path
from reports.render import CSV_COLUMNS, render
from reports.service import enrollee_summary, regional_report
from tests.reports.conftest import AS_OF, KnownRegion, build_known_region

needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                   reason="poppler-utils (pdftoppm, pdftotext) not installed")


@pytest.fixture
def report(db: psycopg.Connection, known: KnownRegion) -> dict:
    return regional_report(db, known.region_id, "2026-09", as_of=AS_OF)


def test_csv_has_one_row_per_enrollee_and_a_totals_row(report: dict) -> None:
    text = render(report, "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0].keys()) == list(CSV_COLUMNS)
    assert [r["name"] for r in rows] == ["김영희", "박철수", "이순자", "행복구 보건소"]
    assert rows[-1]["enrollee_id"] == "TOTAL"
    assert rows[-1]["bp_days"] == "40" and rows[-1]["days_observed"] == "75"
    assert rows[-1]["alerts"] == "5"
    assert rows[0]["bp_controlled"] == "yes" and rows[1]["bp_controlled"] == "no"
    assert rows[2]["sbp_mean"] == ""  # undefined figures are empty cells
    assert "낙상" in rows[0]["review_reasons"]
    assert sum(int(r["bp_days"]) for r in rows[:-1]) == int(rows[-1]["bp_days"])


def test_json_is_the_report(report: dict) -> None:
    assert json.loads(render(report, "json")) == json.loads(json.dumps(report))


def _pdf_page_png(pdf: bytes, tmp_path: Path) -> np.ndarray:
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", "-singlefile",
                    str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True, timeout=60)
    return imread(str(tmp_path / "page.png"))


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "t.pdf").write_bytes(pdf)
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "t.pdf"), "-"],
                            capture_output=True, check=True, timeout=60)
    return result.stdout.decode("utf-8")


@needs_poppler
def test_regional_pdf_renders_on_a4_with_korean_text(report: dict, tmp_path: Path) -> None:
    pdf = render(report, "pdf")
    assert pdf.startswith(b"%PDF")
    page = _pdf_page_png(pdf, tmp_path)
    height, width = page.shape[:2]
    assert height / width == pytest.approx(297 / 210, rel=0.02)  # A4 portrait
    ink = (page[..., :3].mean(axis=-1) < 0.5).mean()
    assert ink > 0.01, "first page is blank"
    text = _pdf_text(pdf, tmp_path)
    assert "행복구 보건소" in text  # Hangul extracted = glyphs embedded with a Unicode map
    assert "김영희" in text and "박철수" in text  # review list page
    assert "위급 알림" in text
    fonts = subprocess.run(["pdffonts", str(tmp_path / "t.pdf")], capture_output=True, text=True).stdout
    assert "NanumGothic" in fonts or "CJK" in fonts


@needs_poppler
def test_name_area_has_ink_only_with_a_name(report: dict, tmp_path: Path) -> None:
    """The Korean name draws glyphs, not empty boxes: the review page with names carries
    clearly more ink in the name column than the same page with names blanked out, and two
    different Hangul names of the same length draw different pixels (missing glyphs would
    draw the same empty boxes for both)."""
    def name_column(rows_report: dict) -> np.ndarray:
        pdf = render(rows_report, "pdf")
        (tmp_path / "n.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "2", "-l", "2", "-singlefile",
                        str(tmp_path / "n.pdf"), str(tmp_path / "n")], check=True, timeout=60)
        page = imread(str(tmp_path / "n.png"))
        h, w = page.shape[:2]
        return page[int(0.08 * h):int(0.3 * h), int(0.12 * w):int(0.24 * w), :3].mean(axis=-1) < 0.5

    blank = json.loads(json.dumps(report))
    other = json.loads(json.dumps(report))
    for row_blank, row_other in zip(blank["review"], other["review"], strict=True):
        row_blank["name"] = " "
        row_other["name"] = "".join(chr(0xAC00 + (ord(c) - 0xAC00 + 2_000) % 11_172)
                                    if "가" <= c <= "힣" else c for c in row_other["name"])
    named, unnamed, renamed = name_column(report), name_column(blank), name_column(other)
    assert named.mean() > 1.5 * unnamed.mean() + 0.001
    assert (named != renamed).mean() > 0.002


@needs_poppler
def test_summary_pdf(db: psycopg.Connection, known: KnownRegion, tmp_path: Path) -> None:
    summary = enrollee_summary(db, known.ids["A"], "2026-09", as_of=AS_OF)
    pdf = render(summary, "pdf")
    page = _pdf_page_png(pdf, tmp_path)
    assert (page[..., :3].mean(axis=-1) < 0.5).mean() > 0.01
    text = _pdf_text(pdf, tmp_path)
    assert "김영희" in text and "혈압 (mmHg)" in text and "수축기" in text and "낙상" in text


def test_korean_font_comes_from_a_python_package() -> None:
    assert korean_font_path().name.lower().endswith((".ttf", ".otf", ".ttc"))


def _dolbom(*args: str, db_url: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "DOLBOM_CONFIG": "/nonexistent/dolbom.toml", "DOLBOM_DATABASE_URL": db_url}
    return subprocess.run([sys.executable, "-m", "command", "report", *args], capture_output=True,
                          env=env, timeout=120)


@pytest.mark.parametrize(("args", "needle"), [
    (["1", "2026-13"], "names no month"),
    (["1", "September"], "is not YYYY-MM"),
    (["1", "2026-W54"], "names no ISO week"),
    (["999", "2026-09"], "no region"),
    (["no such centre", "2026-09"], "no region"),
])
def test_cli_errors_are_one_line(db_url: str, args: list[str], needle: str) -> None:
    result = _dolbom(*args, db_url=db_url)
    stderr = result.stderr.decode()
    assert result.returncode == 2
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("dolbom: ") and needle in stderr
    assert "Traceback" not in stderr


def test_cli_writes_csv_and_json(db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        known = build_known_region(conn)
    out = tmp_path / "r.csv"
    result = _dolbom(str(known.region_id), "2026-09", "--format", "csv", "-o", str(out), db_url=db_url)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[-1]["enrollee_id"] == "TOTAL" and len(rows) == 4
    by_name = _dolbom("행복구 보건소", "2026-09", db_url=db_url)
    assert by_name.returncode == 0
    assert json.loads(by_name.stdout)["region"]["id"] == known.region_id
    missing_dir = _dolbom(str(known.region_id), "2026-09", "-o", str(tmp_path / "no" / "x.json"),
                          db_url=db_url)
    assert missing_dir.returncode == 2 and b"does not exist" in missing_dir.stderr


def test_progress_bar_draws_and_ends_the_line() -> None:
    from reports.cli import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(250, 1000)
    bar(1000, 1000)
    bar.close()
    assert "250/1000" in stream.getvalue() and stream.getvalue().endswith("1000/1000 enrollees\n")
    assert "[" + "#" * 30 + "]" in stream.getvalue()
