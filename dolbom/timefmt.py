"""Times as a person reads them: one rule for every page and report (issue 14).

Every time shown is in the enrollee's zone (``dolbom.rules.enrollee_zone``; a region page or
report: the region's), labelled with the zone's abbreviation for that instant ("KST", "EST",
"NZDT"; a zone without one, such as Asia/Dubai, by its offset: "UTC+04"), with the date
whenever it is not the reader's today in that zone, and the year whenever it is not this
year::

    08:15 KST                      today
    12월 3일 08:15 KST / 3 Dec 08:15 KST              another day this year
    2025년 12월 3일 08:15 KST / 3 Dec 2025 08:15 KST  another year

A printed report has no "today" (it is read days later): ``now=None`` always gives the date
with its year; ``printed`` leaves out the year the report's heading already gives. Pure: the
caller passes ``now``. The month names are spelt here rather than by the C locale, so a
server's locale never changes a page. A browser formats the same way from
``api/web/static/enrollee.js`` (``Intl.DateTimeFormat`` with the zone, and this module's
label for the zone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

from dolbom.rules import enrollee_zone

LANGS: Final = ("ko", "en")
_MONTHS_EN: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def zone_label(zone: ZoneInfo, at: datetime) -> str:
    """The zone's abbreviation at ``at`` ("KST", "EDT"), or its offset ("UTC+04", "UTC+05:30")
    when the zone database has no letters for it."""
    name = at.astimezone(zone).tzname() or zone.key
    if name[:1] in "+-" and name[1:3].isdigit():
        minutes = name[3:5]
        return f"UTC{name[:3]}" + (f":{minutes}" if minutes and minutes != "00" else "")
    return name


def day_text(day: date, lang: str = "ko", *, year: bool = True) -> str:
    """A calendar day: "2026년 12월 3일" / "3 Dec 2026" (``year=False``: "12월 3일" / "3 Dec")."""
    if lang == "en":
        text = f"{day.day} {_MONTHS_EN[day.month - 1]}"
        return f"{text} {day.year}" if year else text
    text = f"{day.month}월 {day.day}일"
    return f"{day.year}년 {text}" if year else text


def tick_text(day: date, lang: str = "ko") -> str:
    """A day on a chart's axis, short: "12/3" / "3 Dec"."""
    return f"{day.day} {_MONTHS_EN[day.month - 1]}" if lang == "en" else f"{day.month}/{day.day}"


def when(at: datetime, zone: ZoneInfo, lang: str = "ko", *, now: datetime | None = None,
         until: datetime | None = None) -> str:
    """``at`` for a person: local time and zone label, with the date unless it is ``now``'s
    local day, with the year unless it is ``now``'s year (``now`` None: date and year always).
    ``until``: a span of hours from ``at`` ("06:00–12:00 KST"), dated by its start."""
    local = at.astimezone(zone)
    hours = f"{local:%H:%M}" + (f"–{until.astimezone(zone):%H:%M}" if until is not None else "")
    clock = f"{hours} {zone_label(zone, at)}"
    if now is None:
        return f"{day_text(local.date(), lang)} {clock}"
    today = now.astimezone(zone).date()
    if local.date() == today:
        return clock
    return f"{day_text(local.date(), lang, year=local.year != today.year)} {clock}"


def printed(at: datetime, zone: ZoneInfo, lang: str = "ko", *, year_of: int | None = None) -> str:
    """``at`` on paper, read on another day: always dated, the year left out when it is
    ``year_of`` (the report's own year, in its heading)."""
    local = at.astimezone(zone)
    return f"{day_text(local.date(), lang, year=local.year != year_of)} {local:%H:%M} {zone_label(zone, at)}"


@dataclass(frozen=True, slots=True)
class LocalClock:
    """The rule bound to one reader's page: a zone, a language and the page's ``now``, for
    templates (``clock.when(alert.opened_at)``) and charts."""

    zone: ZoneInfo
    lang: str
    now: datetime | None

    @classmethod
    def of(cls, timezone: str | None, lang: str, now: datetime | None) -> LocalClock:
        """The clock of a stored zone name (the fallback of ``enrollee_zone`` for none)."""
        return cls(enrollee_zone(timezone), lang if lang in LANGS else "ko", now)

    @property
    def label(self) -> str:
        """The zone's label now (the page's time), e.g. for an axis."""
        return zone_label(self.zone, self.now or datetime.now(self.zone))

    def when(self, at: datetime | None, empty: str = "—", *, until: datetime | None = None) -> str:
        return empty if at is None else when(at, self.zone, self.lang, now=self.now, until=until)

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.zone)

    def day(self, day: date, *, year: bool | None = None) -> str:
        """A calendar day (a follow-up date): with the year unless it is this year's."""
        if year is None:
            year = self.now is None or day.year != self.local(self.now).year
        return day_text(day, self.lang, year=year)

    def tick(self, day: date) -> str:
        return tick_text(day, self.lang)
