"""The caseload ("My enrollees", issue 14): every enrollee the caller looks after, at a glance.

A care worker sees her own enrollees, centre staff their region's, an admin everyone's (or one
region's, ``?region=``; ``/app/regions`` lists the regions). Per person: name, age and sex, the
phone as a ``tel:`` link, the newest reading of each measurement that matters for them (blood
pressure, glucose, weight: their conditions' or their devices'; steps today), open alerts with
the worst severity, whether they measured today, the newest contact. Searchable by name
(``?q=``, in SQL, so without JavaScript too), sortable (``?sort=name|alerts|contact``).

Two statements for the whole caseload (the timezones, then everything: ``queries.CASELOAD``)
and the audit row naming whose health and contact data was shown. Every time in the
enrollee's timezone, labelled (``dolbom.timefmt``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from psycopg import sql

from api.alerts.service import name_pattern
from api.audit.service import record
from api.deps import ClientAddr, Conn
from api.fields import IdQuery
from api.principal import Principal, enrollee_scope, region_scope
from api.web import queries
from api.web.render import PREFIX, WebUser, page_lang, page_text, render, script_json
from dolbom.alerts import Severity
from dolbom.rules import CONDITION_MEASUREMENTS, enrollee_zone
from dolbom.timefmt import LocalClock
from dolbom.wire import METRIC_BY_CODE, METRIC_BY_NAME

router = APIRouter(prefix=PREFIX)

SORTS: Final = ("name", "alerts", "contact")
LOOKBACK_DAYS: Final = 30  # a "last reading" older than this is shown as none
CASELOAD_LIMIT: Final = 2000  # like the region page
MAX_SEARCH_LEN: Final = 100
SEVERITIES: Final = [s.value for s in Severity]  # worst first
_DIGITS: Final = {"systolic_bp": 0, "glucose": 0, "weight": 1}
_SHOWN_ORDER: Final = ("systolic_bp", "glucose", "weight")


@dataclass(frozen=True, slots=True)
class LastReading:
    """The newest reading of one measurement, as shown."""

    metric: str  # systolic_bp (with the diastolic), glucose, weight, steps (today's sum)
    value: str | None  # "132/84", "64.2"; None: none within LOOKBACK_DAYS
    at: str | None  # local time with its zone label (and date when not today)
    today: bool
    needed: bool  # the person's conditions call for it (the worklist's not_measured)


@dataclass(frozen=True, slots=True)
class CaseloadRow:
    id: int
    name: str
    age: int
    sex: str
    phone: str | None
    region_name: str
    care_worker: str | None
    readings: list[LastReading]
    measured_today: bool | None  # None: nothing for them to measure
    open_alerts: int
    worst_severity: str | None
    contact_channel: str | None
    contact_at: datetime | None
    contact_when: str | None
    contact_by: str | None

    @property
    def tel(self) -> str | None:
        """The phone for a ``tel:`` link (spaces out; digits, ``+`` and ``-`` stay)."""
        return self.phone.replace(" ", "") if self.phone else None


def _needs() -> dict[str, list[Any]]:
    conditions = sorted(CONDITION_MEASUREMENTS)
    return {
        "need_conditions": conditions,
        "need_metrics": [METRIC_BY_NAME[CONDITION_MEASUREMENTS[c][0]].code for c in conditions],
        "need_kinds": [CONDITION_MEASUREMENTS[c][1] for c in conditions],
    }


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _number(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def _readings(row: dict[str, Any], clock: LocalClock) -> list[LastReading]:
    today_start = row["today_start"]
    out = []
    for item in row["readings"] or []:
        metric = METRIC_BY_CODE[int(item["metric"])].name
        at = _instant(item["ts"]) if item["ts"] is not None else None
        value = None
        if item["value"] is not None:
            value = _number(float(item["value"]), _DIGITS.get(metric, 0))
            if item["diastolic"] is not None:
                value += "/" + _number(float(item["diastolic"]), 0)
        out.append(LastReading(metric, value, clock.when(at) if at else None,
                               at is not None and at >= today_start, bool(item["needed"])))
    out.sort(key=lambda reading: _SHOWN_ORDER.index(reading.metric)
             if reading.metric in _SHOWN_ORDER else len(_SHOWN_ORDER))
    if row["has_wearable"] or row["steps_today"] is not None:
        steps = float(row["steps_today"] or 0)
        out.append(LastReading("steps", _number(steps, 0), None, True, False))
    return out


def caseload_row(row: dict[str, Any], lang: str, now: datetime) -> CaseloadRow:
    """One enrollee of ``queries.CASELOAD`` as the page shows them, in their timezone."""
    clock = LocalClock.of(row["timezone"], lang, now)
    readings = _readings(row, clock)
    measured = [r for r in readings if r.metric != "steps"]
    contact_at = row["contact_at"]
    return CaseloadRow(
        id=row["id"], name=row["name"], age=clock.local(now).year - row["birth_year"],
        sex=row["sex"], phone=row["phone"], region_name=row["region_name"],
        care_worker=row["care_worker"], readings=readings,
        measured_today=any(r.today for r in measured) if measured else None,
        open_alerts=int(row["open_alerts"] or 0), worst_severity=row["worst_severity"],
        contact_channel=row["contact_channel"], contact_at=contact_at,
        contact_when=clock.when(contact_at) if contact_at else None, contact_by=row["contact_by"],
    )


def sort_rows(rows: list[CaseloadRow], sort: str) -> list[CaseloadRow]:
    """By name; by open alerts (worst severity, then how many, first); by last contact (never
    contacted first, then the longest ago)."""
    def by_name(row: CaseloadRow) -> tuple[str, int]:
        return (row.name, row.id)

    if sort == "alerts":
        def worst(row: CaseloadRow) -> int:
            return SEVERITIES.index(row.worst_severity) if row.worst_severity else len(SEVERITIES)

        return sorted(rows, key=lambda row: (worst(row), -row.open_alerts, by_name(row)))
    if sort == "contact":
        never = datetime.min.replace(tzinfo=UTC)
        return sorted(rows, key=lambda row: (row.contact_at or never, by_name(row)))
    return sorted(rows, key=by_name)


def page_url(search: str | None, sort: str, region_id: int | None) -> Callable[..., str]:
    """The page's URL with some of its parameters changed (the sort and region links keep
    the search, the "show all" link keeps the sort)."""
    def url(**changes: Any) -> str:
        params = {"q": search, "sort": sort, "region": region_id, **changes}
        if params["sort"] == "name":
            params["sort"] = None
        query = urlencode({key: value for key, value in params.items() if value})
        return f"{PREFIX}/enrollees" + (f"?{query}" if query else "")

    return url


async def caseload(
    conn: Conn, user: Principal, *, region_id: int | None, search: str | None, lang: str,
    now: datetime,
) -> list[CaseloadRow]:
    """The caller's active enrollees (of ``region_id`` if given), by name."""
    scope, scope_params = enrollee_scope(user)
    base = {**scope_params, "region_id": region_id}
    zones_query = sql.SQL(queries.CASELOAD_ZONES).format(scope=scope)  # type: ignore[arg-type]
    names = [row["timezone"] for row in await (await conn.execute(zones_query, base)).fetchall()]
    if not names:
        return []
    starts = []
    for name in names:
        zone = enrollee_zone(name)
        starts.append(datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone))
    query = sql.SQL(queries.CASELOAD).format(scope=scope)  # type: ignore[arg-type]
    rows = await (await conn.execute(query, {
        **base, "zone_names": names, "today_starts": starts, **_needs(),
        "systolic": METRIC_BY_NAME["systolic_bp"].code, "diastolic": METRIC_BY_NAME["diastolic_bp"].code,
        "steps": METRIC_BY_NAME["steps"].code, "since": now - timedelta(days=LOOKBACK_DAYS),
        "severities": SEVERITIES, "name": name_pattern(search) if search else None,
        "limit": CASELOAD_LIMIT,
    })).fetchall()
    return [caseload_row(row, lang, now) for row in rows]


async def regions(conn: Conn, user: Principal) -> list[Any]:
    """The regions the caller may see (an admin: all), by name, with their enrollee counts."""
    scope, params = region_scope(user, "id")
    query = sql.SQL(queries.REGIONS).format(scope=scope)  # type: ignore[arg-type]
    return list(await (await conn.execute(query, params)).fetchall())


@router.get("/enrollees")
async def caseload_page(
    request: Request, conn: Conn, user: WebUser, addr: ClientAddr,
    q: Annotated[str | None, Query(max_length=MAX_SEARCH_LEN)] = None,
    sort: Annotated[str | None, Query(max_length=16)] = None,
    region: Annotated[IdQuery | None, Query(description="an admin's region filter")] = None,
) -> HTMLResponse:
    search = (q or "").strip() or None
    sort = sort if sort in SORTS else "name"
    region_id = region if user.role == "admin" else None
    lang = page_lang(request)
    text = page_text(request)
    now = datetime.now(UTC)
    rows = sort_rows(await caseload(conn, user, region_id=region_id, search=search, lang=lang,
                                    now=now), sort)
    # Whose phone numbers, readings, alerts and contacts were shown.
    await record(conn, user, "view_caseload", resource="app/enrollees", client_addr=addr, detail={
        "enrollee_ids": [row.id for row in rows], "region_id": region_id, "sort": sort,
        "search": search, "read": ["phone", "readings", "alerts", "contacts"]})
    return render(request, "caseload.html", {
        "user": user, "rows": rows, "q": search or "", "sort": sort, "sorts": SORTS,
        "region": region_id, "url": page_url(search, sort, region_id),
        "regions": await regions(conn, user) if user.role == "admin" else [],
        "show_team": user.role != "care_worker", "show_region": user.role == "admin" and region_id is None,
        "lookback_days": LOOKBACK_DAYS,
        "page_data": script_json({"text": {key: text[key] for key in ("cl_count", "cl_no_match")}}),
    })


@router.get("/regions")
async def region_list(request: Request, conn: Conn, user: WebUser) -> Response:
    """The admin's way into each region (its page, caseload and day); others go to theirs."""
    if user.role != "admin":
        return RedirectResponse(f"{PREFIX}/region", status_code=303)
    return render(request, "caseload.html", {
        "user": user, "regions": await regions(conn, user), "only_regions": True, "rows": [],
        "q": "", "sort": "name", "sorts": SORTS, "region": None,
    })
