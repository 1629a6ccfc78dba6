"""Report periods: a calendar month ``YYYY-MM`` or an ISO week ``YYYY-Www``.

A period is a range of local calendar days ``[start, end)``; each enrollee's days are counted
in their own timezone, region-level instants (alerts) in the region's timezone, each resolved
by ``dolbom.rules.enrollee_zone`` (Asia/Seoul for none or one the system lacks, never UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dolbom.rules import enrollee_zone
from reports.errors import BadPeriod

_MONTH_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_WEEK_RE = re.compile(r"^([0-9]{4})-W([0-9]{2})$")
# A period and the one before it must be dates Python and PostgreSQL both hold: the last
# month of 9999 would end in year 10000.
FIRST_YEAR, LAST_YEAR = 1900, 9998


@dataclass(frozen=True, slots=True)
class Period:
    """``kind`` is ``"month"`` or ``"week"``; ``start`` inclusive, ``end`` exclusive."""

    kind: str
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period of the same kind just before this one."""
        if self.kind == "week":
            return Period("week", self.start - timedelta(days=7), self.start)
        last = self.start - timedelta(days=1)
        return Period("month", last.replace(day=1), self.start)

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """The period's start and end as aware instants in ``timezone``."""
        zone = enrollee_zone(timezone)
        return (
            datetime.combine(self.start, time(), tzinfo=zone),
            datetime.combine(self.end, time(), tzinfo=zone),
        )

    def __str__(self) -> str:
        return self.label


def month(year: int, month_number: int) -> Period:
    start = date(year, month_number, 1)
    end = date(year + 1, 1, 1) if month_number == 12 else date(year, month_number + 1, 1)
    return Period("month", start, end)


def parse_period(text: str) -> Period:
    """Parse ``YYYY-MM`` or ``YYYY-Www``; raise ``BadPeriod`` with a readable line."""
    text = text.strip()
    if match := _MONTH_RE.match(text):
        year, number = int(match.group(1)), int(match.group(2))
        if not 1 <= number <= 12 or not FIRST_YEAR <= year <= LAST_YEAR:
            raise BadPeriod(f"period {text!r} names no month of the years {FIRST_YEAR}-{LAST_YEAR}; "
                            "use YYYY-MM, e.g. 2026-10")
        return month(year, number)
    if match := _WEEK_RE.match(text):
        year, number = int(match.group(1)), int(match.group(2))
        try:
            if not FIRST_YEAR <= year <= LAST_YEAR:
                raise ValueError
            start = date.fromisocalendar(year, number, 1)
        except ValueError:
            raise BadPeriod(
                f"period {text!r} names no ISO week of {year}; use YYYY-Www, e.g. 2026-W05"
            ) from None
        return Period("week", start, start + timedelta(days=7))
    raise BadPeriod(f"period {text!r} is not YYYY-MM (a month) or YYYY-Www (an ISO week)")


def previous_month(now: datetime, timezone: str) -> Period:
    """The calendar month before the one holding ``now`` in ``timezone``."""
    local = now.astimezone(enrollee_zone(timezone)).date()
    return month(local.year, local.month).previous()
