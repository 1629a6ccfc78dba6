"""Alert endpoints: the list, the live stream, and the lifecycle actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from api.alerts import service
from api.alerts.models import AcknowledgeIn, Alert, AlertAction, ResolveIn, SnoozeIn
from api.alerts.stream import event_stream
from api.audit.service import record
from api.deps import ClientAddr, Conn, CurrentUser
from api.errors import Invalid
from api.fields import INT8, AlertIdPath, IdQuery, Instant
from api.jsonresp import page_response
from api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from api.responses import errors
from dolbom.alerts import AlertKind, AlertStatus, Severity

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.get("", response_model=Page[Alert], responses=errors())
async def list_alerts(
    conn: Conn,
    user: CurrentUser,
    addr: ClientAddr,
    status: AlertStatus | None = None,
    severity: Severity | None = None,
    kind: AlertKind | None = None,
    enrollee_id: Annotated[IdQuery | None, Query()] = None,
    since: Annotated[Instant | None, Query(description="changed at or after")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    """Alerts of the enrollees the caller may see, newest first; every status unless filtered."""
    items, next_cursor = await service.list_alerts(
        conn, user, status=status, severity=severity, kind=kind, enrollee_id=enrollee_id,
        since=since, limit=limit, cursor=cursor, client_addr=addr,
    )
    return page_response(items, next_cursor)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "SSE stream"},
               **errors()},
)
async def stream_alerts(
    request: Request,
    conn: Conn,
    user: CurrentUser,
    addr: ClientAddr,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    """Server-Sent Events: every alert opened or changed, as it happens (`event: alert`)."""
    resume: int | None = None
    if last_event_id is not None and last_event_id.strip():
        if not last_event_id.strip().isdigit() or int(last_event_id) > INT8:
            raise Invalid("Last-Event-ID must be an event id received from this stream")
        resume = int(last_event_id)
    await record(conn, user, "stream_alerts", resource="alerts/stream", client_addr=addr,
                 detail={"last_event_id": resume})
    hub = request.app.state.hub
    tokens = request.app.state.tokens

    async def still_allowed() -> bool:  # a revoked token ends the stream (api/security/tokens.py)
        return await tokens.still_works(user, hub.pool)

    return StreamingResponse(
        event_stream(hub, hub.subscribe(user), resume, still_allowed),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}/actions", response_model=Page[AlertAction], responses=errors(404))
async def list_actions(
    alert_id: AlertIdPath, conn: Conn, user: CurrentUser, addr: ClientAddr,
    limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None,
) -> Page[AlertAction]:
    """An alert's trail, oldest first: opened, updated, acknowledged, snoozed, escalated,
    resolved, by whom, with the notes and outcome."""
    items, next_cursor = await service.list_actions(conn, user, alert_id, limit=limit,
                                                    cursor=cursor, client_addr=addr)
    return Page[AlertAction](items=items, next_cursor=next_cursor)


@router.post("/{alert_id}/acknowledge", response_model=Alert, responses=errors(404, 409))
async def acknowledge(
    alert_id: AlertIdPath, body: AcknowledgeIn, conn: Conn, user: CurrentUser, addr: ClientAddr
) -> Alert:
    """Take an open alert: the care worker is on it."""
    return await service.acknowledge(conn, user, alert_id, body.note, addr)


@router.post("/{alert_id}/resolve", response_model=Alert, responses=errors(404, 409))
async def resolve(
    alert_id: AlertIdPath, body: ResolveIn, conn: Conn, user: CurrentUser, addr: ClientAddr
) -> Alert:
    """Close an alert with a note and an outcome (called, visited, sent_to_hospital, ...)."""
    outcome = body.outcome.value if body.outcome else None
    return await service.resolve(conn, user, alert_id, body.note, outcome, addr)


@router.post("/{alert_id}/snooze", response_model=Alert, responses=errors(404, 409))
async def snooze(
    alert_id: AlertIdPath, body: SnoozeIn, conn: Conn, user: CurrentUser, addr: ClientAddr
) -> Alert:
    """Move an unresolved alert down the inbox for some minutes; a worse level re-opens it."""
    return await service.snooze(conn, user, alert_id, body.minutes, body.note, addr)
