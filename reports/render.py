"""Reports as files: JSON, CSV (one row per enrollee plus a totals row); PDF is in pdf.py."""

from __future__ import annotations

import csv
import io
from typing import Any, Final

import orjson

from reports.compute import CONTACT_GROUPS
from reports.regional import ROW_FIGURES
from store.contacts import CHANNELS

FORMATS: Final = ("json", "csv", "pdf")
MEDIA_TYPES: Final = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}
# The region's contacts (report["contacts"]), on the TOTAL row only: they are counted per
# region, by channel and by the programme's group, then per enrollee-month.
CONTACT_COLUMNS: Final = (
    *(f"contacts_{channel}" for channel in CHANNELS),
    *(f"contacts_{group}" for group in CONTACT_GROUPS),
    "contacts", "contacts_enrollee_months", "contacts_per_enrollee_month",
)
CSV_COLUMNS: Final = (
    "enrollee_id", "name", "birth_year", "sex", "care_worker", "conditions", "new", "has_data",
    *ROW_FIGURES, "alerts", "critical_alerts", "false_alarms", "device_problems", "review_score",
    "review_reasons", *CONTACT_COLUMNS,
)
TOTAL_LABEL: Final = "TOTAL"
# A text cell starting with one of these is read as a formula by spreadsheet programs
# (OWASP, "CSV Injection"): such a cell gets a leading apostrophe, which shows the text as
# typed. Numbers are written as numbers and left alone: a negative figure stays a number.
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def to_json(report: dict[str, Any]) -> bytes:
    return orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)


def neutralised(text: str) -> str:
    """``text`` as a CSV cell that no spreadsheet evaluates (OWASP's rule)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return neutralised(";".join(str(v) for v in value))
    if isinstance(value, str):
        return neutralised(value)
    return value


def totals_row(report: dict[str, Any]) -> dict[str, Any]:
    """The region's row: sums of counts, pooled shares, medians of per-day figures."""
    rows = report["enrollees_detail"]
    adherence, glucose = report["adherence"], report["glucose"]

    def total(name: str) -> int:
        return sum(int(row[name] or 0) for row in rows)

    return {
        "enrollee_id": TOTAL_LABEL, "name": report["region"]["name"],
        "new": report["enrollees"]["new"],
        "has_data": report["enrollees"]["active"] - report["enrollees"]["without_data"],
        "days_observed": total("days_observed"),
        "bp_days": adherence["bp"]["days"], "bp_share": adherence["bp"]["share"],
        "glucose_days": adherence["glucose"]["days"], "glucose_share": adherence["glucose"]["share"],
        "wear_days": adherence["wear"]["days"], "wear_share": adherence["wear"]["share"],
        "sbp_readings": total("sbp_readings"), "bp_controlled": report["bp_control"]["share"],
        "glucose_readings": glucose["readings"], "glucose_in_range": glucose["in_range"],
        "glucose_below": glucose["below_range"], "glucose_tir": glucose["share_in_range"],
        "steps_per_day": report["steps"]["median_per_day"],
        "steps_prev_per_day": report["steps"]["previous_median_per_day"],
        "steps_change_pct": report["steps"]["change_pct"],
        "sleep_hours": report["sleep"]["median_hours"],
        "sleep_prev_hours": report["sleep"]["previous_median_hours"],
        "checkins": report["checkins"]["total"], "checkins_answered": report["checkins"]["answered"],
        "checkin_share": report["checkins"]["share"],
        "falls": total("falls"), "sos": total("sos"),
        "alerts": report["alerts"]["total"],
        "critical_alerts": report["alerts"]["by_severity"]["critical"],
        "false_alarms": report["alerts"]["false_alarms"],
        "device_problems": len(report["devices"]["problems"]),
        "review_score": len(report["review"]),
        **contact_cells(report.get("contacts")),
    }


def contact_cells(contacts: dict[str, Any] | None) -> dict[str, Any]:
    """The TOTAL row's contact columns (none for a report stored before contacts were counted)."""
    if contacts is None:
        return {}
    return {
        **{f"contacts_{channel}": n for channel, n in contacts["by_channel"].items()},
        **{f"contacts_{group}": n for group, n in contacts["by_group"].items()},
        "contacts": contacts["total"], "contacts_enrollee_months": contacts["enrollee_months"],
        "contacts_per_enrollee_month": contacts["per_enrollee_month"]["total"],
    }


def regional_csv(report: dict[str, Any]) -> str:
    """One row per enrollee, then the region's totals row; UTF-8 with a BOM so spreadsheet
    programs open the Korean names correctly. A text cell that a spreadsheet would take for a
    formula is ``neutralised``."""
    reasons = {r["enrollee_id"]: "; ".join(x["text_ko"] for x in r["reasons"]) for r in report["review"]}
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in report["enrollees_detail"]:
        cells = {k: _cell(v) for k, v in row.items()}
        cells["review_reasons"] = neutralised(reasons.get(row["enrollee_id"], ""))
        writer.writerow(cells)
    writer.writerow({k: _cell(v) for k, v in totals_row(report).items()})
    return out.getvalue()


def render(report: dict[str, Any], fmt: str) -> bytes:
    """The report in ``fmt`` (json, csv or pdf) as bytes."""
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        if report.get("report") != "regional":
            raise ValueError("CSV is available for regional reports only")
        return regional_csv(report).encode("utf-8")
    if fmt == "pdf":
        from reports.pdf import regional_pdf
        from reports.summary_pdf import summary_pdf

        return regional_pdf(report) if report.get("report") == "regional" else summary_pdf(report)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
