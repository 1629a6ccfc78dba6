"""HTTP routes of the reports (CONTRACT §3 ``GET /v1/reports/regions/{region_id}``), HTTP only:
the format from ``Accept``, the body and its headers; the rest is in ``service``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import ClientAddr, Conn, CurrentUser, StaffUser
from api.fields import BigIdPath, IdPath
from api.reports import service
from dolbom.config import Settings
from reports.render import MEDIA_TYPES

router = APIRouter(prefix="/v1/reports", tags=["reports"])

PeriodQuery = Annotated[str, Query(description="YYYY-MM (a month) or YYYY-Www (an ISO week)",
                                   max_length=16)]
_BY_ACCEPT = (("application/pdf", "pdf"), ("text/csv", "csv"), ("application/json", "json"))
_ANY_FORMAT: dict[int | str, dict[str, Any]] = {200: {"content": {m: {} for m in MEDIA_TYPES.values()}}}


def _format(request: Request, allowed: tuple[str, ...]) -> str:
    accept = request.headers.get("accept", "")
    for media, fmt in _BY_ACCEPT:
        if media in accept and fmt in allowed:
            return fmt
    return "json"


def _database_url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return settings.database_url


def _respond(document: service.Document) -> Response:
    headers = {} if document.fmt == "json" else {
        "Content-Disposition": f'attachment; filename="{document.filename}.{document.fmt}"'}
    return Response(document.body, media_type=MEDIA_TYPES[document.fmt], headers=headers)


@router.get("/regions/{region_id}", responses=_ANY_FORMAT)
async def region_report(
    region_id: IdPath, period: PeriodQuery, request: Request, principal: StaffUser, conn: Conn,
    addr: ClientAddr,
) -> Response:
    """Regional report for a month or ISO week: JSON, or CSV / PDF by the Accept header."""
    return _respond(await service.region_report(
        conn, _database_url(request), principal, region_id, period, _format(request, ("json", "csv", "pdf")),
        resource=str(request.url.path), client_addr=addr))


@router.get("/enrollees/{enrollee_id}", responses={200: {"content": {"application/pdf": {}}}})
async def enrollee_report(
    enrollee_id: IdPath, period: PeriodQuery, request: Request, principal: CurrentUser, conn: Conn,
    addr: ClientAddr,
) -> Response:
    """Personal summary for a home visit: vitals against baseline, activity, alerts, adherence
    (JSON, or PDF by Accept). Care workers see their own enrollees only."""
    return _respond(await service.enrollee_summary(
        conn, _database_url(request), principal, enrollee_id, period, _format(request, ("json", "pdf")),
        resource=str(request.url.path), client_addr=addr))


@router.get("/regions/{region_id}/stored")
async def stored_reports(region_id: IdPath, request: Request, principal: StaffUser) -> dict[str, Any]:
    """Finished monthly reports of a region, newest first."""
    return await service.stored_reports(_database_url(request), principal, region_id)


@router.get("/stored/{report_id}", responses=_ANY_FORMAT)
async def stored_report(
    report_id: BigIdPath, request: Request, principal: StaffUser, conn: Conn, addr: ClientAddr
) -> Response:
    """One stored report: JSON, or CSV / PDF by Accept."""
    return _respond(await service.stored_report(
        conn, _database_url(request), principal, report_id, _format(request, ("json", "csv", "pdf")),
        resource=str(request.url.path), client_addr=addr))
