"""dolbom.timefmt: one rule for every time a person reads (issue 14)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dolbom.timefmt import LocalClock, day_text, tick_text, when, zone_label

NEW_YORK = ZoneInfo("America/New_York")
AUCKLAND = ZoneInfo("Pacific/Auckland")
NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 10:00 in New York, 04:00 on Dec 4 in Auckland


def test_today_shows_the_time_and_the_zone_only() -> None:
    assert when(NOW - timedelta(hours=2), NEW_YORK, "ko", now=NOW) == "08:00 EST"
    assert when(NOW - timedelta(hours=2), AUCKLAND, "en", now=NOW) == "02:00 NZDT"  # Dec 4 there


def test_another_day_is_dated_and_another_year_has_its_year() -> None:
    assert when(NOW - timedelta(hours=12), NEW_YORK, "ko", now=NOW) == "12월 2일 22:00 EST"
    assert when(NOW - timedelta(hours=12), NEW_YORK, "en", now=NOW) == "2 Dec 22:00 EST"
    # Across the date line: 22:00 on Dec 3 in Auckland is yesterday there, while it is Dec 3 in UTC.
    assert when(NOW - timedelta(hours=6), AUCKLAND, "ko", now=NOW) == "12월 3일 22:00 NZDT"
    assert when(NOW - timedelta(days=400), NEW_YORK, "en", now=NOW) == "29 Oct 2025 11:00 EDT"
    assert when(NOW - timedelta(days=400), NEW_YORK, "ko", now=NOW) == "2025년 10월 29일 11:00 EDT"


def test_a_printed_page_always_has_the_date() -> None:
    assert when(NOW, AUCKLAND, "ko") == "2026년 12월 4일 04:00 NZDT"
    assert when(NOW, NEW_YORK, "en") == "3 Dec 2026 10:00 EST"


def test_a_span_of_hours_carries_one_label() -> None:
    assert when(NOW, NEW_YORK, "ko", now=NOW, until=NOW + timedelta(hours=6)) == "10:00–16:00 EST"


def test_zone_labels() -> None:
    assert zone_label(ZoneInfo("Asia/Seoul"), NOW) == "KST"
    assert zone_label(NEW_YORK, NOW - timedelta(days=200)) == "EDT"  # summer time
    assert zone_label(ZoneInfo("Asia/Dubai"), NOW) == "UTC+04"  # no letters in the zone database
    assert zone_label(ZoneInfo("Asia/Kathmandu"), NOW) == "UTC+05:45"
    assert zone_label(ZoneInfo("UTC"), NOW) == "UTC"


def test_days_and_ticks() -> None:
    assert day_text(date(2026, 12, 3), "ko") == "2026년 12월 3일"
    assert day_text(date(2026, 12, 3), "en", year=False) == "3 Dec"
    assert tick_text(date(2026, 12, 3), "ko") == "12/3"
    assert tick_text(date(2026, 12, 3), "en") == "3 Dec"


def test_the_clock_of_a_zone_the_system_lacks_is_seouls() -> None:
    clock = LocalClock.of("Nowhere/Atlantis", "ko", NOW)
    assert clock.label == "KST"  # dolbom.rules.enrollee_zone's fallback
    assert clock.when(None) == "—"
    assert clock.day(date(2026, 12, 24)) == "12월 24일" and clock.day(date(2027, 1, 2)) == "2027년 1월 2일"
    assert LocalClock.of("America/New_York", "xx", NOW).lang == "ko"


def test_printed_times_leave_out_the_reports_year_only() -> None:
    from dolbom.timefmt import printed

    assert printed(NOW, NEW_YORK, "ko", year_of=2026) == "12월 3일 10:00 EST"
    assert printed(NOW, AUCKLAND, "ko", year_of=2026) == "12월 4일 04:00 NZDT"
    assert printed(NOW, NEW_YORK, "en", year_of=2025) == "3 Dec 2026 10:00 EST"
