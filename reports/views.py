"""HTTP routes of the reports (CONTRACT §3 ``GET /v1/reports/regions/{region_id}``), HTTP only.

Include with ``app.include_router(reports.views.router)``. The report itself is computed
with a short-lived synchronous connection in a worker thread (numpy and matplotlib are
synchronous); the access audit row goes through the request's own connection.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.audit.service import record
from api.deps import ClientAddr, Conn, CurrentUser, StaffUser
from api.errors import Forbidden, Invalid, NotFound
from api.fields import BigIdPath, IdPath
from api.principal import Principal, may_see
from dolbom.config import Settings
from reports import queries
from reports.errors import BadPeriod, UnknownEnrollee, UnknownRegion
from reports.period import Period, parse_period
from reports.render import MEDIA_TYPES, render
from reports.service import enrollee_summary, regional_report
from store.db import connect

router = APIRouter(prefix="/v1/reports", tags=["reports"])

PeriodQuery = Annotated[str, Query(description="YYYY-MM (a month) or YYYY-Www (an ISO week)",
                                   max_length=16)]
_BY_ACCEPT = (("application/pdf", "pdf"), ("text/csv", "csv"), ("application/json", "json"))


def _format(request: Request, allowed: tuple[str, ...]) -> str:
    accept = request.headers.get("accept", "")
    for media, fmt in _BY_ACCEPT:
        if media in accept and fmt in allowed:
            return fmt
    return "json"


def _period(text: str) -> Period:
    try:
        return parse_period(text)
    except BadPeriod as error:
        raise Invalid(str(error)) from error


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _check_region(principal: Principal, region_id: int) -> None:
    if principal.role != "admin" and principal.region_id != region_id:
        raise Forbidden("reports of other regions are not yours to see")


def _respond(report_or_body: dict[str, Any] | bytes, fmt: str, filename: str) -> Response:
    body = report_or_body if isinstance(report_or_body, bytes) else render(report_or_body, fmt)
    headers = {} if fmt == "json" else {"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'}
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


def _regional(url: str, region_id: int, period: Period) -> dict[str, Any]:
    with connect(url, autocommit=True) as conn:
        return regional_report(conn, region_id, period)


@router.get("/regions/{region_id}", responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}})
async def region_report(
    region_id: IdPath, period: PeriodQuery, request: Request, principal: StaffUser, conn: Conn,
    addr: ClientAddr,
) -> Response:
    """Regional report for a month or ISO week: JSON, or CSV / PDF by the Accept header."""
    parsed = _period(period)
    _check_region(principal, region_id)
    fmt = _format(request, ("json", "csv", "pdf"))
    try:
        report = await run_in_threadpool(_regional, _settings(request).database_url, region_id, parsed)
    except UnknownRegion as error:
        raise NotFound(f"no region {region_id}") from error
    await record(conn, principal, "read_report", resource=str(request.url.path), client_addr=addr,
                 detail={"region_id": region_id, "period": parsed.label, "format": fmt})
    return _respond(report, fmt, f"region-{region_id}-{parsed.label}")


def _summary(url: str, enrollee_id: int, period: Period, principal: Principal) -> dict[str, Any]:
    with connect(url, autocommit=True) as conn:
        enrollee = queries.load_enrollee(conn, enrollee_id)
        if enrollee is None or not may_see(principal, enrollee.region_id, enrollee.care_worker_id):
            raise UnknownEnrollee(f"no enrollee {enrollee_id}")
        return enrollee_summary(conn, enrollee_id, period)


@router.get("/enrollees/{enrollee_id}", responses={200: {"content": {"application/pdf": {}}}})
async def enrollee_report(
    enrollee_id: IdPath, period: PeriodQuery, request: Request, principal: CurrentUser, conn: Conn,
    addr: ClientAddr,
) -> Response:
    """Personal summary for a home visit: vitals against baseline, activity, alerts, adherence
    (JSON, or PDF by Accept). Care workers see their own enrollees only."""
    parsed = _period(period)
    fmt = _format(request, ("json", "pdf"))
    try:
        summary = await run_in_threadpool(_summary, _settings(request).database_url, enrollee_id, parsed,
                                          principal)
    except UnknownEnrollee as error:
        raise NotFound(str(error)) from error
    await record(conn, principal, "read_enrollee_summary", enrollee_id=enrollee_id,
                 resource=str(request.url.path), client_addr=addr,
                 detail={"period": parsed.label, "format": fmt})
    return _respond(summary, fmt, f"enrollee-{enrollee_id}-{parsed.label}")


def _stored_list(url: str, region_id: int) -> list[queries.StoredReport] | None:
    with connect(url, autocommit=True) as conn:
        if queries.load_region(conn, region_id) is None:
            return None
        return queries.list_stored_reports(conn, region_id)


@router.get("/regions/{region_id}/stored")
async def stored_reports(region_id: IdPath, request: Request, principal: StaffUser) -> dict[str, Any]:
    """Finished monthly reports of a region, newest first."""
    _check_region(principal, region_id)
    found = await run_in_threadpool(_stored_list, _settings(request).database_url, region_id)
    if found is None:
        raise NotFound(f"no region {region_id}")
    items = [
        {"id": r.id, "region_id": r.region_id, "period": r.period, "kind": r.kind,
         "generated_at": r.generated_at.isoformat(), "as_of": r.as_of.isoformat(), "enrollees": r.enrollees,
         "href": f"/v1/reports/stored/{r.id}"}
        for r in found
    ]
    return {"items": items, "next_cursor": None}


def _stored_body(url: str, report_id: int, fmt: str) -> tuple[int, bytes] | None:
    with connect(url, autocommit=True) as conn:
        if fmt != "csv":
            return queries.stored_report_body(conn, report_id, fmt)
        # The CSV is written again from the stored report, so one stored before cells were
        # neutralised (reports.render.neutralised) is served neutralised too.
        found = queries.stored_report_body(conn, report_id, "json")
        if found is None:
            return None
        region_id, report = found
        return region_id, render(orjson.loads(report), "csv")


@router.get("/stored/{report_id}", responses={200: {"content": {m: {} for m in MEDIA_TYPES.values()}}})
async def stored_report(
    report_id: BigIdPath, request: Request, principal: StaffUser, conn: Conn, addr: ClientAddr
) -> Response:
    """One stored report: JSON, or CSV / PDF by Accept."""
    fmt = _format(request, ("json", "csv", "pdf"))
    found = await run_in_threadpool(_stored_body, _settings(request).database_url, report_id, fmt)
    if found is None:
        raise NotFound(f"no stored report {report_id}")
    region_id, body = found
    if principal.role != "admin" and principal.region_id != region_id:
        raise NotFound(f"no stored report {report_id}")
    await record(conn, principal, "read_report", resource=str(request.url.path), client_addr=addr,
                 detail={"region_id": region_id, "stored_report": report_id, "format": fmt})
    return _respond(body, fmt, f"report-{report_id}")
