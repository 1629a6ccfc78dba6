"""The region page for centre staff: enrollees with open alerts, devices offline."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from psycopg import sql

from api.audit.service import record
from api.deps import ClientAddr, Conn
from api.fields import IdPath
from api.principal import region_scope
from api.web import queries
from api.web.render import PREFIX, WebUser, render

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
    at = {"region_id": region_id, "now": datetime.now(UTC)}  # devices offline at this instant
    enrollees = await (await conn.execute(queries.REGION_ENROLLEES, at)).fetchall()
    offline = await (await conn.execute(queries.REGION_OFFLINE_DEVICES, at)).fetchall()
    await record(conn, user, "view_region_page", resource=f"app/regions/{region_id}", client_addr=addr,
                 detail={"enrollees": len(enrollees)})
    return render(request, "region.html", {
        "user": user, "region": region, "enrollees": enrollees, "offline": offline,
        "open_total": sum(row["open_alerts"] for row in enrollees),
        "critical_total": sum(row["critical"] for row in enrollees),
    })
