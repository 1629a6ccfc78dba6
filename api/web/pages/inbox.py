"""The alert inbox: unresolved alerts, critical first, updated live from the stream."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.alerts import service as alerts_service
from api.alerts.models import Outcome
from api.deps import ClientAddr, Conn
from api.web.render import PREFIX, WebUser, page_text, render, script_json

router = APIRouter(prefix=PREFIX)


@router.get("")
async def inbox(request: Request, conn: Conn, user: WebUser, addr: ClientAddr) -> HTMLResponse:
    alerts = await alerts_service.inbox(conn, user, addr)
    payload = [alert.model_dump(mode="json") for alert in alerts]
    return render(request, "inbox.html", {
        "user": user,
        "alerts_json": script_json(payload),
        "text_json": script_json(page_text(request)),
        "outcomes": [o.value for o in Outcome],
    })
