"""The worklist (CONTRACT §5.3): who of the caller's caseload needs attention on a day, why,
and in which order. Two statements for the whole caseload (queries.py), then pure Python:
``reasons`` turns one enrollee's facts into reasons, ``priority`` sums their weights.

A person's days are their own local days (``dolbom.rules.enrollee_zone``): the worklist of
day D judges each enrollee on their local day ``min(D, their today)``, at the end of that day
or now, whichever comes first. ``no_data`` is judged only then (now): the store keeps each
device's newest receipt, not its history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo

from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from api.audit.service import audited
from api.errors import Forbidden, Invalid, NotFound
from api.pagination import decode_cursor, encode_cursor
from api.principal import Principal, enrollee_scope
from api.worklist import queries, texts
from api.worklist.models import Lang, Reason, ReasonCode, WorklistCursor, WorklistItem
from dolbom.alerts import AlertKind
from dolbom.rules import (
    CONDITION_MEASUREMENTS,
    NO_DATA_AFTER_H,
    NO_DATA_DEVICE_KINDS,
    NOT_MEASURED_DAYS,
    enrollee_zone,
)
from dolbom.wire import METRIC_BY_CODE, METRIC_BY_NAME

# Weights of the reasons; an item's priority is their sum. A critical alert outranks any
# plausible mix of the rest; a follow-up promised to the person outranks a missed reading.
SEVERITY_WEIGHT: Final = {"critical": 1000, "high": 300, "medium": 100, "low": 30}
NO_DATA_WEIGHT: Final = 80
FOLLOW_UP_WEIGHT: Final = 60
NOT_MEASURED_WEIGHT: Final = 40  # per missing measurement
MISSION_BEHIND_WEIGHT: Final = 20  # CONTRACT §5.6, when missions exist
# How far back the newest reading of a missing measurement is looked for (for the sentence
# "last measured on ..."): two weekly partitions at most besides the day's.
LOOKBACK_DAYS: Final = 14


@dataclass(frozen=True, slots=True)
class Judged:
    """When the worklist of a day judges the enrollees of one timezone."""

    name: str  # the stored timezone
    zone: ZoneInfo  # enrollee_zone(name): a zone the system lacks falls back to Asia/Seoul
    day: date  # their local day: the worklist's date, or their today if that is earlier
    day_start: datetime  # start of the window of NOT_MEASURED_DAYS local days ending with ``day``
    day_end: datetime  # end of ``day``
    as_of: datetime  # the end of ``day`` or now, whichever is first
    live: bool  # as_of is now (no_data is judged)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def judged(name: str, worklist_day: date, now: datetime) -> Judged:
    zone = enrollee_zone(name)
    today = now.astimezone(zone).date()
    day = min(worklist_day, today)
    day_end = _midnight(day + timedelta(days=1), zone)
    return Judged(name=name, zone=zone, day=day,
                  day_start=_midnight(day - timedelta(days=NOT_MEASURED_DAYS - 1), zone),
                  day_end=day_end, as_of=min(now, day_end), live=day == today)


def _instant(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _reason(code: ReasonCode, text: str, **data: Any) -> Reason:
    return Reason(code=code, text=text, data=data)


def reasons(facts: dict[str, Any], when: Judged, worklist_day: date, now: datetime,
            lang: Lang) -> list[Reason]:
    """The reasons of one enrollee's facts (a row of ``queries.FACTS``), most urgent first."""
    near = when.day
    found: list[Reason] = []
    alerts = sorted(facts["alerts"] or [], key=lambda a: (-SEVERITY_WEIGHT.get(a["severity"], 0), a["id"]))
    for alert in alerts:
        opened = _instant(alert["opened_at"])
        found.append(_reason(
            ReasonCode.OPEN_ALERT,
            texts.say("open_alert", lang, kind=texts.alert_kind(alert["kind"], lang),
                      severity=texts.label(texts.SEVERITY_LABELS, alert["severity"], lang),
                      status=texts.label(texts.STATUS_LABELS, alert["status"], lang),
                      since=texts.time_text(opened, when.zone, lang, near=near)),
            alert_id=alert["id"], kind=alert["kind"], severity=alert["severity"],
            status=alert["status"], opened_at=opened))
    has_no_data_alert = any(alert["kind"] == AlertKind.NO_DATA for alert in alerts)
    last_seen = facts["last_seen"]
    silent_before = now - timedelta(hours=NO_DATA_AFTER_H)
    if (when.live and facts["reporting"] and last_seen is not None and last_seen < silent_before
            and not has_no_data_alert):  # an open no_data alert already says it
        hours = math.floor((now - last_seen).total_seconds() / 3600)
        found.append(_reason(
            ReasonCode.NO_DATA,
            texts.say("no_data", lang, hours=hours,
                      last=texts.time_text(last_seen, when.zone, lang, near=near)),
            last_seen=last_seen, silent_h=hours))
    if facts["follow_contact_id"] is not None:
        follow_at = facts["follow_at"]
        found.append(_reason(
            ReasonCode.FOLLOW_UP,
            texts.say("follow_up", lang,
                      day=texts.day_text(facts["follow_up"], lang, near=worklist_day),
                      channel=texts.label(texts.CHANNEL_LABELS, facts["follow_channel"], lang),
                      at=texts.time_text(follow_at, when.zone, lang, near=near)),
            contact_id=facts["follow_contact_id"], follow_up=facts["follow_up"],
            channel=facts["follow_channel"], at=follow_at))
    first = when.day - timedelta(days=NOT_MEASURED_DAYS - 1)
    for missing in facts["missing"] or []:
        metric = METRIC_BY_CODE[int(missing["metric"])].name
        label = texts.label(texts.METRIC_LABELS, metric, lang)
        shown = {"first": texts.day_text(first, lang, near=near),
                 "last": texts.day_text(when.day, lang, near=near)}
        last_at = _instant(missing["last_at"]) if missing["last_at"] is not None else None
        if last_at is None:
            text = texts.say("not_measured_none", lang, metric=label, days=LOOKBACK_DAYS, **shown)
        else:
            text = texts.say("not_measured", lang, metric=label,
                             last_at=texts.time_text(last_at, when.zone, lang, near=near), **shown)
        found.append(_reason(ReasonCode.NOT_MEASURED, text, metric=metric, last_at=last_at,
                             days=[first, when.day]))
    found.extend(mission_reasons(facts, when, lang))
    return found


def mission_reasons(facts: dict[str, Any], when: Judged, lang: Lang) -> list[Reason]:
    """``mission_behind`` (CONTRACT §5.6): a programme mission whose progress is behind.

    The extension point for when missions exist: add their facts to ``queries.FACTS`` (one
    more lateral per enrollee), return one reason per mission behind here (weight
    ``MISSION_BEHIND_WEIGHT``), and add its sentence to ``texts.SENTENCES``."""
    return []


def weight(reason: Reason) -> int:
    if reason.code is ReasonCode.OPEN_ALERT:
        return SEVERITY_WEIGHT.get(str(reason.data.get("severity")), 0)
    return {ReasonCode.NO_DATA: NO_DATA_WEIGHT, ReasonCode.FOLLOW_UP: FOLLOW_UP_WEIGHT,
            ReasonCode.NOT_MEASURED: NOT_MEASURED_WEIGHT,
            ReasonCode.MISSION_BEHIND: MISSION_BEHIND_WEIGHT}[reason.code]


def priority(found: list[Reason]) -> int:
    return sum(weight(reason) for reason in found)


def _needs() -> dict[str, list[Any]]:
    conditions = sorted(CONDITION_MEASUREMENTS)
    return {
        "need_conditions": conditions,
        "need_metrics": [METRIC_BY_NAME[CONDITION_MEASUREMENTS[c][0]].code for c in conditions],
        "need_kinds": [CONDITION_MEASUREMENTS[c][1] for c in conditions],
    }


def _region_of(principal: Principal, region_id: int | None) -> int:
    """Admin: the region asked for (required). Others: their own (asking another is 403)."""
    if principal.role == "admin":
        if region_id is None:
            raise Invalid("region_id is required: an admin asks for one region's worklist")
        return region_id
    if principal.region_id is None:
        raise Forbidden("a user without a region has no worklist")
    if region_id is not None and region_id != principal.region_id:
        raise Forbidden("the worklist of another region is not yours to see")
    return principal.region_id


async def worklist(
    conn: AsyncConnection[DictRow],
    principal: Principal,
    *,
    region_id: int | None,
    care_worker_id: int | None,
    day: date | None,
    lang: Lang,
    limit: int,
    cursor: str | None,
    client_addr: str | None,
    now: datetime | None = None,
) -> tuple[list[WorklistItem], str | None]:
    """The caller's worklist of ``day`` (default: today in the region's timezone), by
    priority then enrollee id. Care worker: their enrollees; centre staff: their region's;
    admin: ``region_id``'s. The read is audited in the statement that reads the facts."""
    position = decode_cursor(cursor, WorklistCursor)
    now = now or datetime.now(UTC)
    region = _region_of(principal, region_id)
    scope, scope_params = enrollee_scope(principal)
    base = {**scope_params, "region_id": region, "care_worker_id": care_worker_id}
    region_query = sql.SQL(queries.REGION).format(scope=scope)  # type: ignore[arg-type]
    row = await (await conn.execute(region_query, base)).fetchone()
    if row is None:
        raise NotFound(f"region {region} not found")
    worklist_day = day or now.astimezone(enrollee_zone(row["timezone"])).date()
    zones = [judged(name, worklist_day, now) for name in sorted(row["zones"])]
    far_future = datetime.max.replace(tzinfo=UTC)
    params = {
        **base,
        "zone_names": [z.name for z in zones],
        "zone_keys": [z.zone.key for z in zones],  # the zone in effect, for PostgreSQL
        "day_starts": [z.day_start for z in zones],
        "day_ends": [z.day_end for z in zones],
        "lookbacks": [z.day_start - timedelta(days=LOOKBACK_DAYS) for z in zones],
        "as_ofs": [z.as_of for z in zones],
        # contacts count up to the day judged; today, any (a phone's clock may run ahead)
        "untils": [far_future if z.live else z.as_of for z in zones],
        "lives": [z.live for z in zones],
        "reporting_kinds": sorted(NO_DATA_DEVICE_KINDS),
        "silent_before": now - timedelta(hours=NO_DATA_AFTER_H),
        "day": worklist_day,
        **_needs(),
    }
    facts_query = sql.SQL(queries.FACTS).format(scope=scope)  # type: ignore[arg-type]
    query, params = audited(
        facts_query, params, principal, "read_worklist", resource="worklist",
        client_addr=client_addr,
        detail={"region_id": region, "date": worklist_day.isoformat(), "care_worker_id": care_worker_id},
    )
    rows = await (await conn.execute(query, params)).fetchall()
    by_zone = {z.name: z for z in zones}
    items = []
    for facts in rows:
        found = reasons(facts, by_zone[facts["timezone"]], worklist_day, now, lang)
        if found:
            items.append(WorklistItem(enrollee_id=facts["enrollee_id"], priority=priority(found),
                                      reasons=found))
    items.sort(key=lambda item: (-item.priority, item.enrollee_id))
    if position is not None:
        items = [item for item in items
                 if (-item.priority, item.enrollee_id) > (-position.priority, position.enrollee_id)]
    if len(items) <= limit:
        return items, None
    kept = items[:limit]
    return kept, encode_cursor({"priority": kept[-1].priority, "enrollee_id": kept[-1].enrollee_id})
