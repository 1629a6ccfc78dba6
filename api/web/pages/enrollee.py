"""An enrollee's page: how to reach the person (phone, address, guardians), recording a
contact, one timeline of alerts, contacts and key events, charts of the vitals with their
lines and usual band, activity by hour, devices by dolbom.rules, and the personal summary PDF
for the home visit. Every time in the enrollee's zone, labelled (``dolbom.timefmt``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.audit.service import record
from api.contacts.models import Contact
from api.contacts.service import list_contacts
from api.deps import ClientAddr, Conn
from api.devices.models import Device
from api.devices.service import devices_of
from api.enrollees.models import EnrolleeDetail
from api.enrollees.service import read_enrollee
from api.errors import NotFound
from api.fields import IdPath
from api.readings import service as readings_service
from api.reports import service as reports_service
from api.web import charts, queries
from api.web.i18n import translator
from api.web.render import PREFIX, WebUser, page_lang, render, script_json
from api.web.timeline import timeline
from dolbom.rules import NIGHT_END_H, NIGHT_START_H, battery_low, device_row_offline
from dolbom.thresholds import THRESHOLDS
from dolbom.timefmt import LocalClock
from dolbom.wire import EVENT_CODES
from reports.errors import BadPeriod, ReportError
from reports.period import month
from reports.render import MEDIA_TYPES
from store.contacts import CHANNELS

router = APIRouter(prefix=PREFIX)

CHART_METRICS = ("heart_rate", "systolic_bp", "diastolic_bp", "glucose", "spo2", "body_temp",
                 "weight", "respiratory_rate", "sleep_minutes")
# Thresholds that are levels of the metric itself (not deltas) are drawn on its chart; the
# 3-day weight gain is drawn as its own line (charts.gain_line).
_DELTA_THRESHOLDS = {"fever_over_baseline", "weight_gain_3d"}
PERIODS = {7: timedelta(hours=1), 30: timedelta(hours=6), 90: timedelta(days=1)}
HEATMAP_MAX_DAYS = 30
TIMELINE_LIMIT = 200
# Key events on the timeline; a door opening only in the night hours of analytics' night
# wandering rule (analytics.detectors.clock), in the enrollee's zone.
KEY_EVENTS = ("fall", "sos", "medication_missed")
CONTACT_OUTCOMES = ("reached", "no_answer", "left_message", "needs_visit", "referred")


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


def _chart_thresholds(metric: str, effective: dict[str, float],
                      text: dict[str, str]) -> list[tuple[str, float]]:
    return [(text.get(f"thr_{t.name}", t.name), effective[t.name]) for t in THRESHOLDS
            if t.metric == metric and t.name not in _DELTA_THRESHOLDS]


def summary_periods(clock: LocalClock) -> list[tuple[str, str]]:
    """(catalogue key, period label) of the personal summaries offered: this month (running,
    complete days only) and last month, in the enrollee's zone."""
    today = clock.local(clock.now or datetime.now(UTC)).date()
    this = month(today.year, today.month)
    return [("this_month", this.label), ("last_month", this.previous().label)]


async def _charts(conn: Conn, enrollee: EnrolleeDetail, device_ids: list[int], clock: LocalClock,
                  span: readings_service.Window, width: timedelta,
                  text: dict[str, str]) -> list[dict[str, Any]]:
    present = set(await readings_service.metrics_present(conn, device_ids, span))
    limit = enrollee.effective_thresholds["weight_gain_3d"]
    labels = {**text, "gain_line": text["gain_line"].format(limit=f"{limit:g}"),
              "gain_over": text["gain_over"].format(limit=f"{limit:g}")}
    out = []
    for metric in CHART_METRICS:
        if metric not in present:
            continue
        buckets = await readings_service.bucket_series(conn, device_ids, metric, clock.zone.key,
                                                       span, width)
        base = await readings_service.baseline(conn, device_ids, metric, span.end)
        band = (float(base["p10"]), float(base["p90"])) if base else None
        unit = text[f"unit_{metric}"]
        chart = charts.line_chart(buckets, span.start, span.end, width,
                                  _chart_thresholds(metric, enrollee.effective_thresholds, text), band,
                                  labels, clock, unit,
                                  gain_limit=limit if metric == "weight" else None,
                                  precision=charts.PRECISION.get(metric, 0))
        digits = chart.decimals

        def shown(value: float, digits: int = digits) -> str:
            return charts.value_text(value, digits)

        latest = buckets[-1] if buckets else None
        out.append({
            "metric": metric, "unit": unit, "svg": chart.svg,
            "band": f"{shown(band[0])}–{shown(band[1])}" if band else None,
            "latest": f"{shown(latest.avg)} {unit} · {charts.bucket_text(latest, width, clock)}"
            if latest else None,
            "gain_note": labels["gain_line"] if metric == "weight" else None,
        })
    return out


async def _timeline(conn: Conn, user: WebUser, enrollee_id: int, span: readings_service.Window,
                    clock: LocalClock, text: dict[str, str], addr: str | None) -> list[Any]:
    window = {"enrollee_id": enrollee_id, "from": span.start, "to": span.end, "limit": TIMELINE_LIMIT}
    alerts = await (await conn.execute(queries.TIMELINE_ALERTS, window)).fetchall()
    actions = await (await conn.execute(queries.TIMELINE_ACTIONS, window)).fetchall()
    events = await (await conn.execute(queries.TIMELINE_EVENTS, {
        **window, "tz": clock.zone.key, "types": [EVENT_CODES[e] for e in KEY_EVENTS],
        "door": EVENT_CODES["door_open"], "night_from": NIGHT_START_H, "night_to": NIGHT_END_H,
    })).fetchall()
    contacts: list[Contact] = []
    cursor: str | None = None
    while len(contacts) < TIMELINE_LIMIT:  # newest first: stop at the window's start
        page, cursor = await list_contacts(conn, user, enrollee_id, alert_id=None, limit=100,
                                           cursor=cursor, client_addr=addr)
        contacts += [c for c in page if c.at >= span.start]
        if cursor is None or not page or page[-1].at < span.start:
            break
    return timeline(alerts, actions, contacts, events, text, clock)


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
        return render(request, "message.html", {"user": user, "message": "not_found"}, 404)
    _, device_ids = await readings_service.enrollee_devices(conn, user, enrollee_id)
    lang = page_lang(request)
    text = translator(lang)
    end = datetime.now(UTC)
    # Every local day and time of the page in one zone: the stored one, or dolbom.rules' fallback.
    clock = LocalClock.of(enrollee.timezone, lang, end)
    enrollee_in_zone = enrollee.model_copy(update={"timezone": clock.zone.key})
    span = readings_service.Window(end - timedelta(days=days), end)
    await record(conn, user, "view_enrollee_page", enrollee_id=enrollee_id,
                 resource=f"app/enrollees/{enrollee_id}", client_addr=addr,
                 detail={"days": days,
                         "read": ["contacts", "readings", "events", "alerts", "devices"]})
    charts_out = await _charts(conn, enrollee, device_ids, clock, span, PERIODS[days], text)
    heat_days = min(days, HEATMAP_MAX_DAYS)
    heat_span = readings_service.Window(end - timedelta(days=heat_days), end)
    motion, steps = await readings_service.activity_by_hour(conn, enrollee_in_zone, device_ids,
                                                            heat_span)
    local_today = clock.local(end).date()
    day_list = [local_today - timedelta(days=n) for n in range(heat_days - 1, -1, -1)]
    care_worker = None
    if enrollee.care_worker_id:
        care_worker = await (await conn.execute(queries.CARE_WORKER_NAME,
                                                (enrollee.care_worker_id,))).fetchone()
    entries = await _timeline(conn, user, enrollee_id, span, clock, text, addr)
    return render(request, "enrollee.html", {
        "user": user, "enrollee": enrollee, "days": days, "periods": list(PERIODS),
        "charts": charts_out, "care_worker": care_worker, "clock": clock,
        "motion_svg": charts.heatmap(day_list, motion, text["motion"], clock, text),
        "steps_svg": charts.heatmap(day_list, steps, text["steps"], clock, text) if steps else None,
        "devices": device_lines(await devices_of(conn, enrollee_id), end), "timeline": entries,
        "channels": CHANNELS, "outcomes": CONTACT_OUTCOMES, "summaries": summary_periods(clock),
        "local_today": local_today.isoformat(),  # a follow-up is not before the contact's day
        "page_data": script_json({"enrollee_id": enrollee_id, "zone": clock.zone.key,
                                  "zone_label": clock.label, "lang": lang,
                                  "text": {k: text[k] for k in (
                                      "tl_contact", "contact_saved", "contact_failed",
                                      "note_needed", "follow_up", "timeline_empty")}}),
    })


@router.get("/enrollees/{enrollee_id}/summary.pdf")
async def summary_pdf(
    request: Request, enrollee_id: IdPath, conn: Conn, user: WebUser, addr: ClientAddr,
    period: Annotated[str, Query(max_length=16)],
) -> Response:
    """The personal summary PDF for a home visit, for whoever may see the enrollee (a care
    worker: her own), through the reports' API service (scoping and audit)."""
    settings = request.app.state.settings
    try:
        document = await reports_service.enrollee_summary(
            conn, settings.database_url, user, enrollee_id, period, "pdf",
            resource=str(request.url.path), client_addr=addr)
    except BadPeriod:
        return render(request, "message.html", {"user": user, "message": "bad_period"}, 422)
    except ReportError:
        return render(request, "message.html", {"user": user, "message": "not_found"}, 404)
    return Response(document.body, media_type=MEDIA_TYPES["pdf"], headers={
        "Content-Disposition": f'attachment; filename="{document.filename}.pdf"'})
