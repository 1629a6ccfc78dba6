"""Today's worklist page ("오늘 할 일", issue 14): the items of ``GET /v1/worklist`` for the
caller (``api.worklist.service``: a care worker's enrollees, centre staff's region, the region
an admin picks), highest priority first, each with its reasons in the page's language, the
person's phone as a ``tel:`` link and one tap for "called" or "visited", which
``static/worklist.js`` records through ``POST /v1/enrollees/{id}/contacts`` (with an optional
note and follow-up day) before marking the item done.

``?date=YYYY-MM-DD`` is a day of the region's calendar (default today there), as for the API;
an item whose person was contacted on or after their day of it shows as done. Times in the
enrollee's timezone, labelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from psycopg import sql

from api.audit.service import record
from api.contacts.models import Day
from api.deps import ClientAddr, Conn
from api.errors import NotFound
from api.fields import IdQuery
from api.principal import Principal, enrollee_scope, region_scope
from api.web import queries
from api.web.pages.caseload import regions
from api.web.render import PREFIX, WebUser, page_lang, page_text, render, script_json
from api.worklist import service as worklist_service
from api.worklist.models import ReasonCode, WorklistItem
from dolbom.rules import enrollee_zone
from dolbom.timefmt import LocalClock, zone_label

router = APIRouter(prefix=PREFIX)

WORKLIST_LIMIT: Final = 2000  # one call judges the whole caseload anyway (api.worklist.service)
_SCRIPT_TEXT: Final = ("out_called", "out_visited", "wl_saved", "wl_failed", "wl_done")


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A worklist item with who the person is and how to reach them."""

    enrollee_id: int
    name: str
    age: int
    sex: str
    phone: str | None
    priority: int
    severity: str | None  # the worst open alert's, for the item's colour
    reasons: list[tuple[str, str]]  # (code, sentence)
    zone: str  # the enrollee's zone (IANA key), for the time the page writes after a tap
    zone_label: str
    other_zone: bool  # not the region's: the zone is named on the item
    today: date  # the enrollee's local today: the earliest follow-up day
    done: str | None  # "전화함 · 09:12 KST" when contacted on or after their day

    @property
    def tel(self) -> str | None:
        return self.phone.replace(" ", "") if self.phone else None


def work_item(item: WorklistItem, person: dict[str, Any], day: date, region_zone: str,
              text: dict[str, str], lang: str, now: datetime) -> WorkItem:
    clock = LocalClock.of(person["timezone"], lang, now)
    today = clock.local(now).date()
    judged = min(day, today)  # the person's day of the worklist (api.worklist.service)
    day_start = datetime.combine(judged, time(0), tzinfo=clock.zone)
    contact_at = person["contact_at"]
    done = None
    if contact_at is not None and contact_at >= day_start:
        label = {"phone": text["out_called"], "visit": text["out_visited"]}.get(
            person["contact_channel"], text.get(f"ch_{person['contact_channel']}", person["contact_channel"]))
        done = f"{label} · {clock.when(contact_at)}"
    alerts = [r for r in item.reasons if r.code is ReasonCode.OPEN_ALERT]
    return WorkItem(
        enrollee_id=item.enrollee_id, name=person["name"], age=today.year - person["birth_year"],
        sex=person["sex"], phone=person["phone"], priority=item.priority,
        severity=str(alerts[0].data.get("severity")) if alerts else None,
        reasons=[(r.code.value, r.text) for r in item.reasons], zone=clock.zone.key,
        zone_label=clock.label, other_zone=clock.zone.key != region_zone, today=today, done=done,
    )


def day_url(region_id: int | None, today: date) -> Callable[[date | None], str]:
    """The page of another day (None or today: the page's default), keeping an admin's region."""
    def url(day: date | None) -> str:
        params = {"region": region_id, "date": day.isoformat() if day and day != today else None}
        query = urlencode({key: value for key, value in params.items() if value})
        return f"{PREFIX}/worklist" + (f"?{query}" if query else "")

    return url


async def _people(conn: Conn, user: Principal, enrollee_ids: list[int]) -> dict[int, Any]:
    if not enrollee_ids:
        return {}
    scope, params = enrollee_scope(user)
    query = sql.SQL(queries.WORKLIST_PEOPLE).format(scope=scope)  # type: ignore[arg-type]
    rows = await (await conn.execute(query, {**params, "enrollee_ids": enrollee_ids})).fetchall()
    return {row["id"]: row for row in rows}


@router.get("/worklist")
async def worklist_page(
    request: Request, conn: Conn, user: WebUser, addr: ClientAddr,
    day: Annotated[Day | None, Query(alias="date")] = None,
    region: Annotated[IdQuery | None, Query(description="the region an admin picks")] = None,
) -> HTMLResponse:
    lang = page_lang(request)
    text = page_text(request)
    if user.role == "admin" and region is None:
        return render(request, "worklist.html", {"user": user, "regions": await regions(conn, user),
                                                 "region": None, "items": []})
    region_id = region if user.role == "admin" else user.region_id
    scope, params = region_scope(user, "id")
    region_query = sql.SQL(queries.REGION).format(scope=scope)  # type: ignore[arg-type]
    region_row = None
    if region_id is not None:
        region_row = await (await conn.execute(region_query, {**params, "region_id": region_id})).fetchone()
    if region_row is None:
        raise NotFound("region not found")  # a page of api.web.errors
    now = datetime.now(UTC)
    zone = enrollee_zone(region_row["timezone"])
    today = now.astimezone(zone).date()
    day = day or today
    items, more = await worklist_service.worklist(
        conn, user, region_id=region if user.role == "admin" else None, care_worker_id=None,
        day=day, lang="en" if lang == "en" else "ko", limit=WORKLIST_LIMIT, cursor=None,
        client_addr=addr, now=now)
    people = await _people(conn, user, [item.enrollee_id for item in items])
    shown = [work_item(item, people[item.enrollee_id], day, zone.key, text, lang, now)
             for item in items if item.enrollee_id in people]
    # The sentences come with the worklist's own audit row (read_worklist); this one names
    # whose phone numbers and contacts the page shows.
    await record(conn, user, "view_worklist_page", resource="app/worklist", client_addr=addr,
                 detail={"enrollee_ids": [item.enrollee_id for item in shown],
                         "region_id": region_row["id"], "date": day.isoformat()})
    return render(request, "worklist.html", {
        "user": user, "region": region_row, "admin": user.role == "admin", "items": shown,
        "more": more is not None, "day": day, "today": today, "zone": zone.key,
        "day_label": LocalClock(zone, lang, now).day(day),
        "day_before": day - timedelta(days=1), "day_after": day + timedelta(days=1),
        "day_url": day_url(region_row["id"] if user.role == "admin" else None, today),
        "zone_label": zone_label(zone, datetime.combine(day, time(12), tzinfo=zone)),
        "page_data": script_json({"lang": lang, "text": {key: text[key] for key in _SCRIPT_TEXT}}),
    })
