"""The alert inbox: unresolved alerts, critical first, with filters (status, severity, kind,
enrollee, part of the name) as query parameters, the resolved history newest first with who
did what and the notes, snoozes of a chosen length, updated live from the stream.

The page is rendered here, filters applied in SQL, so it works without script and a link
can be shared. ``inbox.js`` keeps it live: for each stream frame that matches the page's
filters it fetches that alert's card from ``/app/inbox/alerts/{id}`` (rendered by the same
macro, ``inbox_card.html``), and it delays each action by a few seconds so it can be undone
(docs/api.md, "Web app"). Every time is in the enrollee's zone, labelled (``dolbom.timefmt``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from psycopg import sql

from api.alerts import service as alerts_service
from api.alerts.models import AlertFilters, InboxAlert, Outcome
from api.deps import ClientAddr, Conn
from api.errors import Invalid
from api.fields import INT4, AlertIdPath
from api.pagination import BigIdCursor, decode_cursor
from api.principal import Principal, enrollee_scope
from api.web import queries
from api.web.i18n import translator
from api.web.render import PREFIX, WebUser, page_lang, render, script_json
from dolbom.alerts import KIND_LABELS, AlertKind, AlertStatus, Severity
from dolbom.text import drawable
from dolbom.timefmt import LocalClock

router = APIRouter(prefix=PREFIX)

HISTORY_PAGE: Final = 30  # resolved alerts per page of the history
NAME_SEARCH_MAX: Final = 100
ENROLLEE_CHOICES_MAX: Final = 500  # beyond this the enrollee filter is the name search alone
# Snooze lengths offered (minutes), and "until morning": the next MORNING in the enrollee's
# zone at least MORNING_LEAD ahead. The API takes 5 to 1440 minutes.
SNOOZE_MINUTES: Final = (30, 60, 240)
MORNING: Final = time(8, 0)
MORNING_LEAD: Final = timedelta(minutes=30)
SNOOZE_MIN, SNOOZE_MAX = 5, 24 * 60
# What the script needs of the catalogue (the cards come rendered from the server).
SCRIPT_TEXT: Final = ("new_critical", "live", "offline", "sound_on", "sound_off", "shown_n",
                      "pending_in", "pending_acknowledge", "pending_resolve", "pending_snooze",
                      "action_failed", "more_critical", "note_needed",
                      *(f"kind_{kind.value}" for kind in KIND_LABELS))


@dataclass(frozen=True, slots=True)
class SnoozeChoice:
    """A snooze button: ``minutes`` as of the page's time; ``until`` the instant it aims at
    (for "until morning", so the script recomputes the minutes when it is pressed)."""

    key: str
    minutes: int
    until: datetime | None
    label: str


def morning_after(zone: ZoneInfo, now: datetime) -> datetime:
    """The next ``MORNING`` in ``zone`` at least ``MORNING_LEAD`` after ``now`` (so at 02:00 it
    is this morning's, at 07:50 and at 14:00 tomorrow's)."""
    day = now.astimezone(zone).date()
    while True:
        target = datetime.combine(day, MORNING, tzinfo=zone)
        if _elapsed(now, target) >= MORNING_LEAD:
            return target
        day += timedelta(days=1)


def _elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time from ``start`` to ``end`` (Python subtracts two times of one zone by their wall
    clocks, which is an hour off across a change to or from summer time)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def snooze_minutes(until: datetime, now: datetime) -> int:
    """Whole minutes from ``now`` to ``until`` (rounded up), within what the API takes."""
    minutes = math.ceil(_elapsed(now, until).total_seconds() / 60)
    return max(SNOOZE_MIN, min(SNOOZE_MAX, minutes))


def snooze_choices(clock: LocalClock, text: Mapping[str, str], now: datetime) -> list[SnoozeChoice]:
    """The snooze lengths for an alert of an enrollee whose clock this is."""
    choices = [SnoozeChoice(f"m{minutes}", minutes, None, text[f"snooze_{minutes}"])
               for minutes in SNOOZE_MINUTES]
    until = morning_after(clock.zone, now)
    tomorrow = until.date() != now.astimezone(clock.zone).date()
    label = text["snooze_tomorrow" if tomorrow else "snooze_this_morning"].format(
        time=f"{MORNING:%H:%M}")
    choices.append(SnoozeChoice("morning", snooze_minutes(until, now), until, label))
    return choices


def _member(catalogue: type[Any], value: str | None) -> Any:
    try:
        return catalogue(value) if value else None
    except ValueError:
        return None


def parse_filters(query: Mapping[str, str]) -> AlertFilters:
    """The filters of the page's query string; a value that is not one of the choices is
    ignored (the page shows "all" for it) rather than refused: a link should still open."""
    enrollee = query.get("enrollee_id", "")
    name = drawable(query.get("q", "")).strip()[:NAME_SEARCH_MAX]
    return AlertFilters(
        status=_member(AlertStatus, query.get("status")),
        severity=_member(Severity, query.get("severity")),
        kind=_member(AlertKind, query.get("kind")),
        enrollee_id=int(enrollee) if enrollee.isascii() and enrollee.isdigit()
        and len(enrollee) <= len(str(INT4)) and 0 < int(enrollee) <= INT4 else None,
        name=name or None,
    )


def _valid_cursor(cursor: str | None) -> str | None:
    """The history's cursor (``GET /v1/alerts``'s), or None for the first page when it is not
    one (edited by hand)."""
    try:
        decode_cursor(cursor or None, BigIdCursor)
    except Invalid:
        return None
    return cursor or None


def _query_of(filters: AlertFilters, **changes: str | None) -> dict[str, str]:
    values: dict[str, str | None] = {
        "status": filters.status, "severity": filters.severity, "kind": filters.kind,
        "enrollee_id": str(filters.enrollee_id) if filters.enrollee_id else None,
        "q": filters.name, **changes,
    }
    return {key: str(value) for key, value in values.items() if value}


def page_url(filters: AlertFilters, **changes: str | None) -> str:
    """The inbox's URL with these filters, some changed (None removes one)."""
    query = _query_of(filters, **changes)
    return f"{PREFIX}?{urlencode(query)}" if query else PREFIX


def _script_alert(alert: InboxAlert) -> dict[str, Any]:
    """What the script needs of an alert to filter, order and announce (as in a frame)."""
    return alert.model_dump(mode="json", include={
        "id", "enrollee_id", "enrollee_name", "kind", "severity", "status", "summary", "summary_text",
        "opened_at", "updated_at", "snoozed_until"})


def _card_context(request: Request, user: Principal, now: datetime) -> dict[str, Any]:
    """What the card macro calls: each alert's clock in its enrollee's zone, its snoozes."""
    lang = page_lang(request)
    text = translator(lang)
    clocks: dict[str | None, LocalClock] = {}

    def clock(alert: InboxAlert) -> LocalClock:
        zone = alert.enrollee_timezone
        if zone not in clocks:
            clocks[zone] = LocalClock.of(zone, lang, now)
        return clocks[zone]

    def snoozes(alert: InboxAlert) -> list[SnoozeChoice]:
        return snooze_choices(clock(alert), text, now)

    def snoozed(alert: InboxAlert) -> bool:
        return alert.snoozed_until is not None and alert.snoozed_until > now

    return {"user": user, "now": now, "clock": clock, "snoozes": snoozes, "snoozed": snoozed}


async def _enrollee_choices(conn: Conn, user: Principal) -> list[dict[str, Any]] | None:
    """The caller's active enrollees by name for the filter, or None when there are too many
    for a list (the name search serves)."""
    scope, params = enrollee_scope(user)
    query = sql.SQL(queries.INBOX_ENROLLEES).format(scope=scope)  # type: ignore[arg-type]
    rows = await (await conn.execute(query, {**params, "limit": ENROLLEE_CHOICES_MAX + 1})).fetchall()
    return None if len(rows) > ENROLLEE_CHOICES_MAX else [dict(row) for row in rows]


@router.get("")
async def inbox(request: Request, conn: Conn, user: WebUser, addr: ClientAddr) -> HTMLResponse:
    """The inbox (``?status=resolved``: the resolved history, ``&cursor=`` its next page)."""
    now = datetime.now(UTC)
    filters = parse_filters(request.query_params)
    cursor = _valid_cursor(request.query_params.get("cursor"))
    next_cursor = None
    if filters.status == AlertStatus.RESOLVED:
        alerts, next_cursor = await alerts_service.history(
            conn, user, filters, limit=HISTORY_PAGE, cursor=cursor, client_addr=addr)
    else:
        cursor = None
        alerts = await alerts_service.inbox(conn, user, addr, filters)
    enrollees = await _enrollee_choices(conn, user)
    chosen = next((e for e in enrollees or () if e["id"] == filters.enrollee_id), None)
    text = translator(page_lang(request))
    return render(request, "inbox.html", {
        **_card_context(request, user, now),
        "alerts": alerts,
        "inbox_limit": alerts_service.INBOX_LIMIT,
        "filters": filters,
        "filtered": any((filters.severity, filters.kind, filters.enrollee_id, filters.name)),
        "enrollees": enrollees,
        "chosen_enrollee": chosen,
        "severities": list(Severity),
        "kinds": sorted(KIND_LABELS, key=lambda kind: text[f"kind_{kind.value}"]),
        "statuses": [None, AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED],
        "outcomes": [o.value for o in Outcome],
        "url": lambda **changes: page_url(filters, **changes),
        "next_url": page_url(filters, cursor=next_cursor) if next_cursor else None,
        "first_url": page_url(filters) if cursor else None,
        "inbox_json": script_json({
            "alerts": [_script_alert(alert) for alert in alerts],
            "filters": {"status": filters.status, "severity": filters.severity,
                        "kind": filters.kind, "enrollee_id": filters.enrollee_id,
                        "q": filters.name},
            "first_page": cursor is None,
            "now": now.isoformat(),
            "text": {key: text[key] for key in SCRIPT_TEXT},
        }),
    })


@router.get("/inbox/alerts/{alert_id}")
async def inbox_card(
    request: Request, alert_id: AlertIdPath, conn: Conn, user: WebUser, addr: ClientAddr
) -> HTMLResponse:
    """One alert's card, for a live update (404 outside the caller's scope; audited)."""
    alert = await alerts_service.inbox_alert(conn, user, alert_id, addr)
    return render(request, "inbox_card.html", {
        **_card_context(request, user, datetime.now(UTC)), "alert": alert})

