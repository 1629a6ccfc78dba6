"""Reports from the store: load (queries) → compute (pure) → a JSON-ready dict.

``regional_report`` loads a region in chunks of enrollees so a progress callback can follow
a long region; ``enrollee_summary`` is the personal summary of one enrollee;
``stored_reports`` and ``stored_report`` read what the monthly job (``reports.jobs``) stored.
Each takes a synchronous connection and raises ``reports.errors`` only.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import orjson
import psycopg

from reports import queries
from reports.compute import ALL_METRICS, HISTORY_METRICS, enrollee_figures, local_day
from reports.errors import UnknownEnrollee, UnknownRegion, UnknownStoredReport
from reports.period import Period, parse_period
from reports.regional import build_regional
from reports.render import render
from reports.summary import BASELINE_DAYS, build_summary
from store.contacts import contacts_by_channel

log = logging.getLogger(__name__)

CHUNK_ENROLLEES: Final = 250
DAY: Final = timedelta(days=1)  # any timezone's local day lies within a UTC day either side

Progress = Callable[[int, int], None]
# Whether the caller may see an enrollee (the API's scoping rule, given by the API).
Visible = Callable[[queries.EnrolleeRow], bool]


def _period(period: Period | str) -> Period:
    return period if isinstance(period, Period) else parse_period(period)


def _widened(day: date, by: timedelta) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC) + by


def _window(period: Period, earliest: Period | None = None) -> tuple[datetime, datetime, datetime]:
    """(since, until, history_since): instants that hold every timezone's local days of the
    period (and of ``earliest`` onwards), a day wider either side than the calendar dates
    read at UTC. Loading only: each enrollee's days are counted in their own zone."""
    since = _widened(period.start, -DAY)
    until = _widened(period.end, DAY)
    history = _widened(earliest.start, -DAY) if earliest else since
    return since, until, history


def _zones(enrollees: Sequence[queries.EnrolleeRow]) -> dict[int, str]:
    return {e.id: e.timezone for e in enrollees}


def regional_report(
    conn: psycopg.Connection,
    region_id: int | str,
    period: Period | str,
    as_of: datetime | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The regional report of ``region_id`` (an id, or a region's exact name) for ``period``.

    ``as_of`` (default: now) bounds the days counted in a running period and dates the device
    state. Raises ``UnknownRegion`` and ``BadPeriod``.
    """
    period = _period(period)
    as_of = as_of or datetime.now(UTC)
    region = queries.load_region(conn, region_id)
    if region is None:
        raise UnknownRegion(f"no region {region_id!r}")
    started = clock.perf_counter()
    previous = period.previous()
    everyone = queries.load_enrollees(conn, region.id)
    origin = period.start.toordinal()
    population = [e for e in everyone
                  if e.active and local_day(e.enrolled_at, e.timezone, origin) < period.days]
    ids = [e.id for e in population]
    since, until, history = _window(period, previous)
    region_since, region_until = period.bounds(region.timezone)

    chunks = [population[k:k + CHUNK_ENROLLEES] for k in range(0, len(ids), CHUNK_ENROLLEES)] or [[]]
    reading_parts, event_parts = [], []
    for done, chunk in enumerate(chunks):
        zones = _zones(chunk)
        reading_parts.append(queries.daily_readings(
            conn, zones, period.start, since, until, ALL_METRICS, history, HISTORY_METRICS))
        event_parts.append(queries.daily_events(conn, zones, period.start, since, until))
        if progress:
            progress(min((done + 1) * CHUNK_ENROLLEES, len(ids)), len(ids))
    readings = queries.DailyReadings.concat(reading_parts)
    events = queries.DailyEvents.concat(event_parts)
    alerts = queries.alerts_opened(conn, ids, region_since, region_until)
    devices = queries.devices(conn, ids)
    unresolved = queries.unresolved_alert_counts(conn, ids)
    contacts = contacts_by_channel(conn, ids, region_since, region_until)

    figures = enrollee_figures(population, period, previous, as_of, readings, events, devices)
    report = build_regional(region, period, previous, as_of, everyone, population, figures, alerts,
                            devices, unresolved, contacts, (region_since, region_until))
    log.info("regional report region=%s period=%s enrollees=%d in %.2f s",
             region.id, period.label, len(population), clock.perf_counter() - started)
    return report


def enrollee_summary(
    conn: psycopg.Connection,
    enrollee_id: int,
    period: Period | str,
    as_of: datetime | None = None,
    *,
    visible: Visible | None = None,
) -> dict[str, Any]:
    """The personal summary of one enrollee for ``period`` (vitals against their baseline,
    activity and sleep, alerts and outcomes, adherence). Raises ``UnknownEnrollee``, also for
    an enrollee that ``visible`` says the caller may not see (nothing else is read then)."""
    period = _period(period)
    as_of = as_of or datetime.now(UTC)
    enrollee = queries.load_enrollee(conn, enrollee_id)
    if enrollee is None or (visible is not None and not visible(enrollee)):
        raise UnknownEnrollee(f"no enrollee {enrollee_id}")
    previous = period.previous()
    baseline_start = Period(period.kind, period.start - timedelta(days=BASELINE_DAYS), period.start)
    since, until, history = _window(period, baseline_start)
    zones = _zones([enrollee])
    readings = queries.daily_readings(conn, zones, period.start, since, until, ALL_METRICS,
                                      history, ALL_METRICS)
    events = queries.daily_events(conn, zones, period.start, since, until)
    bounds = period.bounds(enrollee.timezone)
    alerts = queries.alerts_opened(conn, [enrollee.id], *bounds)
    devices = queries.devices(conn, [enrollee.id])
    unresolved = queries.unresolved_alert_counts(conn, [enrollee.id]).get(enrollee.id, 0)
    figures = enrollee_figures([enrollee], period, previous, as_of, readings, events, devices)
    return build_summary(enrollee, period, previous, as_of, figures, readings, alerts, devices, unresolved)


def stored_reports(conn: psycopg.Connection, region_id: int) -> list[queries.StoredReport]:
    """The finished reports stored for a region, newest period first. Raises ``UnknownRegion``."""
    if queries.load_region(conn, region_id) is None:
        raise UnknownRegion(f"no region {region_id!r}")
    return queries.list_stored_reports(conn, region_id)


def stored_report(conn: psycopg.Connection, report_id: int, fmt: str) -> tuple[int, bytes]:
    """(region id, body in ``fmt``) of a stored report. Raises ``UnknownStoredReport``.

    The CSV is written again from the stored report, so one stored before cells were
    neutralised (``reports.render.neutralised``) is served neutralised too."""
    found = queries.stored_report_body(conn, report_id, "json" if fmt == "csv" else fmt)
    if found is None:
        raise UnknownStoredReport(f"no stored report {report_id}")
    region_id, body = found
    return (region_id, render(orjson.loads(body), "csv")) if fmt == "csv" else (region_id, body)
