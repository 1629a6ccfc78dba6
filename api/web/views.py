"""The care-worker web app: server-rendered pages under /app (Jinja2, a little vanilla JS).

The token lives in an HttpOnly, SameSite=Strict cookie, so the pages' EventSource and fetch
calls reach the same /v1 API with the same scoping and audit as any other client.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from psycopg import sql

from api.alerts import service as alerts_service
from api.alerts.models import Outcome
from api.audit.service import record
from api.auth.service import authenticate
from api.deps import TOKEN_COOKIE, ClientAddr, Conn
from api.devices.models import Device
from api.devices.service import devices_of
from api.enrollees.service import read_enrollee
from api.errors import LoginRequired, NotFound, TooManyAttempts, Unauthorized
from api.fields import IdPath
from api.jsonresp import dumps
from api.principal import Principal, region_scope
from api.readings import service as readings_service
from api.web import charts, csrf, queries
from api.web.i18n import LANG_COOKIE, LANGS, pick_lang, translator
from dolbom.rules import battery_low, device_row_offline, enrollee_zone
from dolbom.thresholds import THRESHOLDS
from dolbom.wire import METRIC_BY_NAME

log = logging.getLogger(__name__)
router = APIRouter(prefix="/app", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

CHART_METRICS = ("heart_rate", "systolic_bp", "diastolic_bp", "glucose", "spo2", "body_temp",
                 "weight", "respiratory_rate", "sleep_minutes")
# Thresholds that are levels of the metric itself (not deltas) are drawn on its chart.
_DELTA_THRESHOLDS = {"fever_over_baseline", "weight_gain_3d"}
PERIODS = {7: timedelta(hours=1), 30: timedelta(hours=6), 90: timedelta(days=1)}
HEATMAP_MAX_DAYS = 30

async def web_user(request: Request, conn: Conn) -> Principal:
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        raise LoginRequired("log in first")
    try:  # revoked tokens and deactivated users too (api/security/tokens.py)
        return await request.app.state.tokens.principal(token, conn)
    except Unauthorized:
        raise LoginRequired("session expired") from None

WebUser = Annotated[Principal, Depends(web_user)]

def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    lang = pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                     request.headers.get("accept-language"))
    text = translator(lang)
    token, new_token = csrf.page_token(request)
    response = templates.TemplateResponse(
        request, name, {"t": text, "lang": lang, "langs": LANGS, "csrf_field": csrf.CSRF_FIELD,
                        "csrf_token": token, **context}, status_code=status
    )
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    if new_token:
        csrf.set_cookie(response, token, secure=request.app.state.settings.environment == "production")
    return response

def _csrf_refused(request: Request, submitted: str | None) -> HTMLResponse | None:
    """The 403 page for a form post that fails the CSRF check (api.web.csrf), else None."""
    why = csrf.refusal(request, submitted)
    if why is None:
        return None
    log.warning("form post to %s refused: %s", request.url.path, why)
    return _render(request, "message.html", {"user": None, "message": "csrf_refused", "retry": True}, 403)

@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    return _render(request, "login.html", {"error": None, "user": None})

@router.post("/login")
async def login(
    request: Request,
    conn: Conn,
    addr: ClientAddr,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    if refused := _csrf_refused(request, csrf_token):
        return refused
    try:
        principal = await authenticate(conn, request.app.state.login_limiter, username, password,
                                       addr or "-")
    except Unauthorized:
        return _render(request, "login.html", {"error": "login_failed", "user": None}, 401)
    except TooManyAttempts:
        return _render(request, "login.html", {"error": "login_locked", "user": None}, 429)
    settings = request.app.state.settings
    response = RedirectResponse("/app", status_code=303)
    response.set_cookie(
        TOKEN_COOKIE, request.app.state.tokens.issue(principal),
        max_age=settings.token_ttl_minutes * 60, httponly=True, samesite="strict",
        secure=settings.environment == "production",
    )
    return response

@router.post("/logout")
async def logout(
    request: Request, csrf_token: Annotated[str | None, Form(max_length=100)] = None
) -> Response:
    if refused := _csrf_refused(request, csrf_token):
        return refused
    response = RedirectResponse("/app/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE)
    return response

@router.get("")
async def inbox(request: Request, conn: Conn, user: WebUser, addr: ClientAddr) -> HTMLResponse:
    alerts = await alerts_service.inbox(conn, user, addr)
    payload = [alert.model_dump(mode="json") for alert in alerts]
    return _render(request, "inbox.html", {
        "user": user,
        "alerts_json": _script_json(payload),
        "text_json": _script_json(translator(pick_lang(
            request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language")))),
        "outcomes": [o.value for o in Outcome],
    })

def _script_json(value: Any) -> Markup:
    """JSON safe inside a <script> element: no "<" can end it or open a comment."""
    return Markup(dumps(value).decode().replace("<", "\\u003c"))


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """A device on the enrollee page with its state by ``dolbom.rules`` at page time."""

    device: Device
    offline: bool
    battery_low: bool


def device_lines(devices: list[Device], now: datetime) -> list[DeviceLine]:
    """Each device with offline and low battery as the reports and analytics see them: the
    home is active when any of these devices was seen within the hour."""
    home_seen = max((d.last_seen for d in devices if d.last_seen is not None), default=None)
    return [
        DeviceLine(d, device_row_offline(now, kind=d.kind, online=d.online, status_at=d.status_at,
                                         last_seen=d.last_seen, home_seen=home_seen),
                   battery_low(d.battery))
        for d in devices
    ]


def _chart_thresholds(metric: str, effective: dict[str, float]) -> list[tuple[str, float]]:
    return [(t.name, effective[t.name]) for t in THRESHOLDS
            if t.metric == metric and t.name not in _DELTA_THRESHOLDS]

@router.get("/enrollees/{enrollee_id}")
async def enrollee_page(
    request: Request, enrollee_id: IdPath, conn: Conn, user: WebUser, addr: ClientAddr,
    days: Annotated[int, Query()] = 30,
) -> HTMLResponse:
    if days not in PERIODS:
        days = 30
    try:
        enrollee = await read_enrollee(conn, user, enrollee_id, addr)
    except NotFound:
        return _render(request, "message.html", {"user": user, "message": "not_found"}, 404)
    _, device_ids = await readings_service.enrollee_devices(conn, user, enrollee_id)
    # Every local day of the page in one zone: the stored one, or dolbom.rules' fallback.
    zone = enrollee_zone(enrollee.timezone)
    enrollee_in_zone = enrollee.model_copy(update={"timezone": zone.key})
    end = datetime.now(UTC)
    span = readings_service.Window(end - timedelta(days=days), end)
    await record(conn, user, "view_enrollee_page", enrollee_id=enrollee_id,
                 resource=f"app/enrollees/{enrollee_id}", client_addr=addr,
                 detail={"days": days, "read": ["readings", "events", "alerts", "devices"]})
    text = translator(pick_lang(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                                request.headers.get("accept-language")))
    present = set(await readings_service.metrics_present(conn, device_ids, span))
    charts_out = []
    for metric in CHART_METRICS:
        if metric not in present:
            continue
        buckets = await readings_service.bucket_series(conn, device_ids, metric, zone.key,
                                                       span, PERIODS[days])
        base = await readings_service.baseline(conn, device_ids, metric, end)
        band = (float(base["p10"]), float(base["p90"])) if base else None
        charts_out.append({
            "metric": metric, "unit": METRIC_BY_NAME[metric].unit,
            "svg": charts.line_chart(buckets, span.start, span.end,
                                     _chart_thresholds(metric, enrollee.effective_thresholds), band, text),
            "band": band, "latest": buckets[-1].avg if buckets else None,
        })
    heat_days = min(days, HEATMAP_MAX_DAYS)
    heat_span = readings_service.Window(end - timedelta(days=heat_days), end)
    motion, steps = await readings_service.activity_by_hour(conn, enrollee_in_zone, device_ids,
                                                            heat_span)
    local_today = end.astimezone(zone).date()
    day_list = [local_today - timedelta(days=n) for n in range(heat_days - 1, -1, -1)]
    history = await (await conn.execute(queries.ALERT_HISTORY, (enrollee_id,))).fetchall()
    care_worker = None
    if enrollee.care_worker_id:
        care_worker = await (await conn.execute(queries.CARE_WORKER_NAME,
                                                (enrollee.care_worker_id,))).fetchone()
    return _render(request, "enrollee.html", {
        "user": user, "enrollee": enrollee, "days": days, "periods": list(PERIODS),
        "charts": charts_out, "care_worker": care_worker,
        "motion_svg": charts.heatmap(day_list, motion, text["motion"]),
        "steps_svg": charts.heatmap(day_list, steps, text["steps"]) if steps else None,
        "devices": device_lines(await devices_of(conn, enrollee_id), end), "history": history,
        "now": end,
    })

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
        return _render(request, "message.html", {"user": user, "message": "forbidden"}, 403)
    scope, params = region_scope(user, "id")
    query = sql.SQL(queries.REGION).format(scope=scope)  # type: ignore[arg-type]
    region = await (await conn.execute(query, {**params, "region_id": region_id})).fetchone()
    if region is None:
        return _render(request, "message.html", {"user": user, "message": "not_found"}, 404)
    at = {"region_id": region_id, "now": datetime.now(UTC)}  # devices offline at this instant
    enrollees = await (await conn.execute(queries.REGION_ENROLLEES, at)).fetchall()
    offline = await (await conn.execute(queries.REGION_OFFLINE_DEVICES, at)).fetchall()
    await record(conn, user, "view_region_page", resource=f"app/regions/{region_id}", client_addr=addr,
                 detail={"enrollees": len(enrollees)})
    return _render(request, "region.html", {
        "user": user, "region": region, "enrollees": enrollees, "offline": offline,
        "open_total": sum(row["open_alerts"] for row in enrollees),
        "critical_total": sum(row["critical"] for row in enrollees),
    })

