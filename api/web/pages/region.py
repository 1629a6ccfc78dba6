"""The region page for centre staff: enrollees with open alerts, devices offline, and the
region's monthly report to download (PDF, CSV); times in the region's zone, labelled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from psycopg import sql

from api.audit.service import record
from api.deps import ClientAddr, Conn
from api.fields import IdPath
from api.principal import region_scope
from api.reports import service as reports_service
from api.web import queries
from api.web.render import PREFIX, WebUser, page_lang, render
from dolbom.timefmt import LocalClock
from reports.errors import BadPeriod, ReportError
from reports.period import month
from reports.render import MEDIA_TYPES

router = APIRouter(prefix=PREFIX)


@router.get("/region")
async def my_region(user: WebUser) -> Response:
    if user.region_id is None:
        return RedirectResponse("/app", status_code=303)
    return RedirectResponse(f"/app/regions/{user.region_id}", status_code=303)


@router.get("/regions/{region_id}")
async def region_page(
    request: Request, region_id: IdPath, conn: Conn, user: WebUser, addr: ClientAddr
) -> HTMLResponse:
    if not user.at_least("center_staff"):
        return render(request, "message.html", {"user": user, "message": "forbidden"}, 403)
    scope, params = region_scope(user, "id")
    query = sql.SQL(queries.REGION).format(scope=scope)  # type: ignore[arg-type]
    region = await (await conn.execute(query, {**params, "region_id": region_id})).fetchone()
    if region is None:
        return render(request, "message.html", {"user": user, "message": "not_found"}, 404)
    now = datetime.now(UTC)
    at = {"region_id": region_id, "now": now}  # devices offline at this instant
    enrollees = await (await conn.execute(queries.REGION_ENROLLEES, at)).fetchall()
    offline = await (await conn.execute(queries.REGION_OFFLINE_DEVICES, at)).fetchall()
    await record(conn, user, "view_region_page", resource=f"app/regions/{region_id}", client_addr=addr,
                 detail={"enrollees": len(enrollees)})
    clock = LocalClock.of(region["timezone"], page_lang(request), now)
    return render(request, "region.html", {
        "user": user, "region": region, "enrollees": enrollees, "offline": offline,
        "clock": clock, "report_months": report_months(clock),
        "open_total": sum(row["open_alerts"] for row in enrollees),
        "critical_total": sum(row["critical"] for row in enrollees),
    })


def report_months(clock: LocalClock, count: int = 3) -> list[str]:
    """The months offered for download, newest first: this one (running) and the ones before,
    as the region's zone counts them."""
    today = clock.local(clock.now or datetime.now(UTC)).date()
    period = month(today.year, today.month)
    labels = []
    for _ in range(count):
        labels.append(period.label)
        period = period.previous()
    return labels


@router.get("/regions/{region_id}/report-{period}.{fmt}")
async def region_report_file(
    request: Request, region_id: IdPath, period: Annotated[str, Path(max_length=16)],
    fmt: Annotated[str, Path(pattern="^(pdf|csv)$")], conn: Conn, user: WebUser, addr: ClientAddr,
) -> Response:
    """The region's report for a period as a file (a link cannot set Accept), through the
    reports' API service: the same scoping, audit and errors as GET /v1/reports/regions/{id}."""
    if not user.at_least("center_staff"):
        return render(request, "message.html", {"user": user, "message": "forbidden"}, 403)
    settings = request.app.state.settings
    try:
        document = await reports_service.region_report(
            conn, settings.database_url, user, region_id, period, fmt,
            resource=str(request.url.path), client_addr=addr)
    except BadPeriod:
        return render(request, "message.html", {"user": user, "message": "bad_period"}, 422)
    except ReportError:
        return render(request, "message.html", {"user": user, "message": "not_found"}, 404)
    return Response(document.body, media_type=MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{document.filename}.{fmt}"'})
