"""An enrollee's page: charts of the vitals with their lines and usual band, activity by
hour, devices by dolbom.rules, alert history; every local day in the enrollee's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.audit.service import record
from api.deps import ClientAddr, Conn
from api.devices.models import Device
from api.devices.service import devices_of
from api.enrollees.service import read_enrollee
from api.errors import NotFound
from api.fields import IdPath
from api.readings import service as readings_service
from api.web import charts, queries
from api.web.render import PREFIX, WebUser, page_text, render
from dolbom.rules import battery_low, device_row_offline, enrollee_zone
from dolbom.thresholds import THRESHOLDS
from dolbom.wire import METRIC_BY_NAME

router = APIRouter(prefix=PREFIX)

CHART_METRICS = ("heart_rate", "systolic_bp", "diastolic_bp", "glucose", "spo2", "body_temp",
                 "weight", "respiratory_rate", "sleep_minutes")
# Thresholds that are levels of the metric itself (not deltas) are drawn on its chart.
_DELTA_THRESHOLDS = {"fever_over_baseline", "weight_gain_3d"}
PERIODS = {7: timedelta(hours=1), 30: timedelta(hours=6), 90: timedelta(days=1)}
HEATMAP_MAX_DAYS = 30


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
        return render(request, "message.html", {"user": user, "message": "not_found"}, 404)
    _, device_ids = await readings_service.enrollee_devices(conn, user, enrollee_id)
    # Every local day of the page in one zone: the stored one, or dolbom.rules' fallback.
    zone = enrollee_zone(enrollee.timezone)
    enrollee_in_zone = enrollee.model_copy(update={"timezone": zone.key})
    end = datetime.now(UTC)
    span = readings_service.Window(end - timedelta(days=days), end)
    await record(conn, user, "view_enrollee_page", enrollee_id=enrollee_id,
                 resource=f"app/enrollees/{enrollee_id}", client_addr=addr,
                 detail={"days": days, "read": ["readings", "events", "alerts", "devices"]})
    text = page_text(request)
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
    return render(request, "enrollee.html", {
        "user": user, "enrollee": enrollee, "days": days, "periods": list(PERIODS),
        "charts": charts_out, "care_worker": care_worker,
        "motion_svg": charts.heatmap(day_list, motion, text["motion"]),
        "steps_svg": charts.heatmap(day_list, steps, text["steps"]) if steps else None,
        "devices": device_lines(await devices_of(conn, enrollee_id), end), "history": history,
        "now": end,
    })
