"""Reports for the API: who may see which, the access audit, and the ``reports`` library.

The library is synchronous (numpy, matplotlib, a psycopg connection): each report is made
with a short-lived connection of its own in a worker thread; the audit row goes through the
request's connection. Rendering stays on the event loop, one at a time: the PDF sets
matplotlib's global rc parameters while it draws. Domain errors (``reports.errors``) pass
through unchanged and become HTTP in ``api/errors.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.concurrency import run_in_threadpool
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from api.audit.service import record
from api.errors import Forbidden, NotFound
from api.principal import Principal, may_see
from reports import queries
from reports import service as reports
from reports.period import Period, parse_period
from reports.render import render
from store.db import connect


@dataclass(frozen=True, slots=True)
class Document:
    """A report as an HTTP body: ``fmt`` is one of ``reports.render.FORMATS``."""

    body: bytes
    fmt: str
    filename: str


def _check_region(principal: Principal, region_id: int) -> None:
    if principal.role != "admin" and principal.region_id != region_id:
        raise Forbidden("reports of other regions are not yours to see")


def _regional(url: str, region_id: int, period: Period) -> dict[str, Any]:
    with connect(url, autocommit=True) as conn:
        return reports.regional_report(conn, region_id, period)


async def region_report(
    conn: AsyncConnection[DictRow], database_url: str, principal: Principal, region_id: int,
    period_text: str, fmt: str, *, resource: str, client_addr: str | None,
) -> Document:
    """The regional report in ``fmt``; 422 for a bad period, 403 for another region, 404 for
    none; audited as ``read_report``."""
    period = parse_period(period_text)
    _check_region(principal, region_id)
    report = await run_in_threadpool(_regional, database_url, region_id, period)
    await record(conn, principal, "read_report", resource=resource, client_addr=client_addr,
                 detail={"region_id": region_id, "period": period.label, "format": fmt})
    return Document(render(report, fmt), fmt, f"region-{region_id}-{period.label}")


def _summary(url: str, enrollee_id: int, period: Period, principal: Principal) -> dict[str, Any]:
    def visible(enrollee: queries.EnrolleeRow) -> bool:
        return may_see(principal, enrollee.region_id, enrollee.care_worker_id)

    with connect(url, autocommit=True) as conn:
        return reports.enrollee_summary(conn, enrollee_id, period, visible=visible)


async def enrollee_summary(
    conn: AsyncConnection[DictRow], database_url: str, principal: Principal, enrollee_id: int,
    period_text: str, fmt: str, *, resource: str, client_addr: str | None,
) -> Document:
    """The personal summary in ``fmt``; 404 for an enrollee the caller may not see; audited
    as ``read_enrollee_summary``."""
    period = parse_period(period_text)
    summary = await run_in_threadpool(_summary, database_url, enrollee_id, period, principal)
    await record(conn, principal, "read_enrollee_summary", enrollee_id=enrollee_id, resource=resource,
                 client_addr=client_addr, detail={"period": period.label, "format": fmt})
    return Document(render(summary, fmt), fmt, f"enrollee-{enrollee_id}-{period.label}")


def _stored_list(url: str, region_id: int) -> list[queries.StoredReport]:
    with connect(url, autocommit=True) as conn:
        return reports.stored_reports(conn, region_id)


async def stored_reports(database_url: str, principal: Principal, region_id: int) -> dict[str, Any]:
    """The list of a region's stored reports, ``{"items", "next_cursor": None}``."""
    _check_region(principal, region_id)
    found = await run_in_threadpool(_stored_list, database_url, region_id)
    items = [
        {"id": r.id, "region_id": r.region_id, "period": r.period, "kind": r.kind,
         "generated_at": r.generated_at.isoformat(), "as_of": r.as_of.isoformat(), "enrollees": r.enrollees,
         "href": f"/v1/reports/stored/{r.id}"}
        for r in found
    ]
    return {"items": items, "next_cursor": None}


def _stored_body(url: str, report_id: int, fmt: str) -> tuple[int, bytes]:
    with connect(url, autocommit=True) as conn:
        return reports.stored_report(conn, report_id, fmt)


async def stored_report(
    conn: AsyncConnection[DictRow], database_url: str, principal: Principal, report_id: int, fmt: str,
    *, resource: str, client_addr: str | None,
) -> Document:
    """One stored report in ``fmt``; one of another region is as unknown (404); audited as
    ``read_report``."""
    region_id, body = await run_in_threadpool(_stored_body, database_url, report_id, fmt)
    if principal.role != "admin" and principal.region_id != region_id:
        raise NotFound(f"no stored report {report_id}")
    await record(conn, principal, "read_report", resource=resource, client_addr=client_addr,
                 detail={"region_id": region_id, "stored_report": report_id, "format": fmt})
    return Document(body, fmt, f"report-{report_id}")
