"""Reading evidence that may be old or hostile, and writing its parts in one language.

The readers take only numbers, instants and keys of the catalogue's tables out of the
evidence (anything else reads as None), so no text of the evidence reaches a summary; ``Ctx``
writes numbers, times and catalogue words in the reader's language and zone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from dolbom.summaries.words import (
    ACTIONS,
    DECIMALS,
    DEVICE_LABELS,
    DEVICE_UNKNOWN,
    HOURS,
    ROOM_LABELS,
    SENTENCES,
    UNIT_LABELS,
    Pair,
)
from dolbom.thresholds import THRESHOLD_BY_NAME
from dolbom.timefmt import day_text, when, zone_label
from dolbom.wire import METRIC_BY_NAME

Lang = Literal["ko", "en"]
NUMBER_MAX: Final = 1e7  # past this a "value" is not a measurement
EPOCH_RANGE: Final = (-2208988800.0, 253402300799.0)  # 1900-01-01 .. 9999-12-31 UTC
INSTANT_CHARS: Final = 40
OPS: Final = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
# A clinical source as short as a line can hold: its leading acronyms and year
# ("AHA/ACC 2017 hypertensive crisis" -> "AHA/ACC 2017", "NEWS2 scale 2 floor" -> "NEWS2").
_SOURCE: Final = re.compile(r"(?:[A-Z][A-Z0-9]*/)*[A-Z][A-Z0-9]*(?: \d{4})?")


def as_dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: object) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def number(value: object) -> float | None:
    """A finite JSON number of plausible size (not a boolean)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        found = float(value)
    except OverflowError:
        return None
    return found if math.isfinite(found) and abs(found) <= NUMBER_MAX else None


def count(value: object) -> int | None:
    """A whole number of at least 0."""
    found = number(value)
    return int(found) if found is not None and found >= 0 and found.is_integer() else None


def key(value: object, table: Mapping[str, Any]) -> str | None:
    """``value`` if it is one of ``table``'s keys."""
    return value if isinstance(value, str) and value in table else None


def instant(value: object) -> datetime | None:
    """Epoch seconds (analytics) or ISO 8601 with an offset (ingest), 1900 to 9999."""
    if isinstance(value, str):
        if len(value) > INSTANT_CHARS:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    if not math.isfinite(seconds) or not EPOCH_RANGE[0] <= seconds <= EPOCH_RANGE[1]:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def calendar_day(value: object) -> date | None:
    """An ISO date ("2026-12-03")."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def short_source(name: object, given: object = None) -> str | None:
    """A threshold's source, short ("AHA/ACC 2017"): ours by the threshold's name, else the
    given one's leading acronyms (never its prose)."""
    threshold = THRESHOLD_BY_NAME.get(name) if isinstance(name, str) else None
    text = threshold.source if threshold is not None else given
    if not isinstance(text, str):
        return None
    match = _SOURCE.match(text)
    return match.group(0) if match else None


def fmt(value: float, decimals: int = 0) -> str:
    """A number with thousands separators and ``decimals`` places ("4,500", "64.2")."""
    text = f"{value:,.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def hours_number(value: float) -> str:
    whole = abs(value) >= 10 or abs(value - round(value)) < 0.05
    return fmt(value, 0 if whole else 1)


def pick(pair: Pair, lang: Lang) -> str:
    return pair[1] if lang == "en" else pair[0]


def say(sentence: str, lang: Lang, **fields: object) -> str:
    return pick(SENTENCES[sentence], lang).format(**fields)


def line(text: str, details: Sequence[str | None], action: str) -> str:
    """A summary: "{what} ({detail}; {detail}): {what to do}"."""
    shown = "; ".join(d for d in details if d)
    return f"{text} ({shown}): {action}" if shown else f"{text}: {action}"


def attached(unit: str) -> str:
    """A unit as written after its number: "86%", "38회/분", but "186 mmHg"."""
    return unit if not unit or unit == "%" or "\uac00" <= unit[0] <= "\ud7a3" else f" {unit}"


def sourced(text: str, source: str | None) -> str:
    return f"{text}, {source}" if source else text


@dataclass(frozen=True, slots=True)
class Ctx:
    """One reader: language, the enrollee's zone, and the reader's time (None: print)."""

    lang: Lang
    zone: ZoneInfo
    now: datetime | None

    def say(self, sentence: str, **fields: object) -> str:
        return say(sentence, self.lang, **fields)

    def pick(self, pair: Pair) -> str:
        return pick(pair, self.lang)

    def action(self, kind: str) -> str:
        return self.pick(ACTIONS[kind])

    @property
    def today(self) -> date | None:
        return self.now.astimezone(self.zone).date() if self.now is not None else None

    def when(self, at: datetime) -> str:
        """``dolbom.timefmt.when``: "02:17 KST", "3 Dec 02:17 KST", "2025년 12월 3일 02:17 KST"."""
        return when(at, self.zone, self.lang, now=self.now)

    def times(self, instants: Sequence[datetime]) -> str:
        """Several instants, labelled once and dated once per local day that is not today:
        "02:41, 03:12 KST", "12월 3일 23:50, 12월 4일 02:41 KST"."""
        today = self.today
        groups: dict[date, list[str]] = {}
        for at in sorted(instants):
            local = at.astimezone(self.zone)
            groups.setdefault(local.date(), []).append(f"{local:%H:%M}")
        parts = []
        for day, clocks in groups.items():
            shown = ", ".join(clocks)
            if day != today:
                shown = f"{self.day(day)} {shown}"
            parts.append(shown)
        return f"{', '.join(parts)} {zone_label(self.zone, max(instants))}"

    def day(self, day: date) -> str:
        """A local day, with the year unless it is this year's."""
        today = self.today
        return day_text(day, self.lang, year=today is None or day.year != today.year)

    def on_day(self, day: date | None) -> str | None:
        """"on 3 Dec" for a day judged that is not today; None otherwise."""
        return self.say("on_day", day=self.day(day)) if day is not None and day != self.today else None

    def hours(self, value: float) -> str:
        """"3시간", "4.5시간" / "3 h", "4.5 h" (whole from 10 h on)."""
        return self.pick(HOURS).format(n=hours_number(value))

    def device(self, kind: object, room: object = None) -> str:
        """"거실 AI 스피커" / "AI speaker (living room)"; an unknown kind is "기기" / "device"."""
        known = key(kind, DEVICE_LABELS)
        device = self.pick(DEVICE_LABELS[known] if known else DEVICE_UNKNOWN)
        place = key(room, ROOM_LABELS)
        return self.say("device_in_room", room=self.pick(ROOM_LABELS[place]), device=device) \
            if place else device

    def unit(self, metric: str) -> str:
        return self.pick(UNIT_LABELS[metric]) if metric in UNIT_LABELS else METRIC_BY_NAME[metric].unit

    def value(self, metric: str, value: float) -> str:
        """A measurement with its unit, at the metric's precision ("64.2 kg", "38 회/분")."""
        return f"{fmt(value, DECIMALS.get(metric, 0))}{attached(self.unit(metric))}"
