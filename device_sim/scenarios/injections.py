"""A scenario's injections resolved to absolute times, with their defaults.

An ``InjectionSpec`` says when a condition starts relative to the scenario's origin (or its live
start); ``resolve`` turns each into an ``Injection`` with a start, an end (the kind's default
length unless the scenario gives ``hours``), a device and the severity an evaluator should expect.
The generator bends the days with these; the ground truth labels them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from device_sim.model import Injection, Population
from dolbom.alerts import DEFAULT_SEVERITY, AlertKind, Severity
from dolbom.thresholds import CRITICAL_ON_ARRIVAL

# Default duration (hours) of each injected condition, where the caller gives none.
DEFAULT_HOURS: dict[str, float] = {
    AlertKind.SOS: 0.0,
    AlertKind.FALL: 0.5,  # lies on the floor ~25 min, then gets up
    AlertKind.HYPERTENSIVE_CRISIS: 5 / 60,  # a reading and its re-measure a few minutes later
    AlertKind.HYPOGLYCEMIA: 0.25,  # low reading, re-check after 15 g carbohydrate (ADA)
    AlertKind.HYPERGLYCEMIA: 3.0,
    AlertKind.LOW_SPO2: 1.0,
    AlertKind.BRADYCARDIA: 0.75,
    AlertKind.TACHYCARDIA: 0.5,
    AlertKind.FEVER: 30.0,
    AlertKind.RAPID_WEIGHT_GAIN: 72.0,
    AlertKind.INACTIVITY: 4.5,
    AlertKind.NIGHT_WANDERING: 0.6,
    AlertKind.ROUTINE_CHANGE: 5 * 24.0,
    AlertKind.DECLINING_ACTIVITY: 21 * 24.0,
    AlertKind.MISSED_CHECKINS: 3 * 24.0,
    AlertKind.DEVICE_OFFLINE: 36.0,
    AlertKind.LOW_BATTERY: 20.0,
    AlertKind.NO_DATA: 30.0,
}
# Injected readings go past the critical lines that open an alert on arrival
# (dolbom.thresholds.CRITICAL_ON_ARRIVAL: SBP >= 180, glucose < 54, SpO2 <= 88, HR <= 40 or
# >= 140), so the expected severity of those kinds is critical, not the kind's default.
INJECTED_SEVERITY: dict[str, str] = {kind: Severity.CRITICAL.value
                                     for kind, _, _ in CRITICAL_ON_ARRIVAL}
DEFAULT_DEVICE: dict[str, str] = {
    AlertKind.DEVICE_OFFLINE: "pir-kitchen",
    AlertKind.LOW_BATTERY: "wear",
}


def origin_for(start: datetime, tz_name: str) -> datetime:
    """The local midnight of the day holding ``start``: day 0 of a scenario."""
    local = start.astimezone(ZoneInfo(tz_name))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def resolve(
    population: Population, origin: datetime, live_start: datetime | None = None
) -> list[Injection]:
    """Absolute times of every injection (``live_offset`` ones need ``live_start``)."""
    resolved: list[Injection] = []
    people = {p.index: p for p in population.people}
    for spec in population.injections:
        person = people.get(spec.enrollee)
        if person is None:  # not in this (sub-)population
            continue
        if spec.live_offset_s is not None:
            if live_start is None:
                continue
            start = live_start + timedelta(seconds=spec.live_offset_s)
        else:
            assert spec.day is not None
            hh, mm = (int(x) for x in spec.at.split(":")[:2])
            day0 = origin.astimezone(person.tz).date() + timedelta(days=spec.day)
            start = datetime(day0.year, day0.month, day0.day, hh, mm, tzinfo=person.tz)
        resolved.append(injection(spec.kind, spec.enrollee, start, hours=spec.hours,
                                  device=spec.device, severity=spec.severity))
    return resolved


def injection(
    kind: str,
    enrollee: int,
    start: datetime,
    *,
    hours: float | None = None,
    device: str | None = None,
    severity: str | None = None,
) -> Injection:
    """One condition of one enrollee from ``start``, with the kind's defaults where not given."""
    if hours is None:
        hours = DEFAULT_HOURS[kind]
    severity = severity or INJECTED_SEVERITY.get(kind) or DEFAULT_SEVERITY[AlertKind(kind)].value
    return Injection(kind, enrollee, start, start + timedelta(hours=hours),
                     device or DEFAULT_DEVICE.get(kind), severity)
