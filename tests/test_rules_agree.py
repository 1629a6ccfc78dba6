"""The web app, the reports and analytics apply ``dolbom.rules`` alike (issue 13).

Each rule is run through every component's own path, not only compared by identity:

- device offline and low battery: a grid of device states straddling every line (said
  offline, wearable silence, an active home, the battery line), judged by
  ``dolbom.rules.device_offline`` / ``battery_low``, by the reports (``device_problems``), by
  the web app (the enrollee page's ``device_lines`` and the region page's SQL,
  ``api.web.queries.DEVICE_OFFLINE``, run in PostgreSQL) and by analytics' clock;
- the glucose range: the reports' SQL counts in range and below range as the rule says, and
  the range's lower end is the level 1 hypoglycaemia threshold;
- the timezone fallback: the reports' local days and period bounds, and analytics' UTC
  offset, in ``enrollee_zone``'s zone for every stored name, valid or not.

ANALYTICS (another engineer is moving analytics onto ``dolbom.rules``): the analytics parts
below are marked ``# ANALYTICS``. They assume, as of the commit that added this file, a
clock module (``analytics.detectors.clock``, or ``analytics.clock`` before the move) with
``devices(DeviceState, ActivityState, now)`` returning (offline findings, battery findings,
...) whose ``evidence["devices"]`` list the ``device_id`` of each device, with the home
active when ``ActivityState.last_data_ts`` is recent; its constants under dolbom.rules'
names or the old ones (``OFFLINE_AFTER_S``, ``BATTERY_LOW``, ...); and a context module
(``analytics.detectors.context`` or ``analytics.context``) with
``utc_offset_s(timezone, at)``. Adapt those helpers, not the cases.
"""

from __future__ import annotations

import importlib
import itertools
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import ModuleType

import numpy as np
import psycopg
import pytest

from api.devices.models import Device
from api.web.queries import DEVICE_OFFLINE
from api.web.views import device_lines
from dolbom import rules
from dolbom.rules import (
    BATTERY_LOW_PCT,
    DEVICE_OFFLINE_AFTER_S,
    GLUCOSE_RANGE_MG_DL,
    HOME_ACTIVE_WITHIN_S,
    WEARABLE_SILENT_H,
    battery_low,
    device_offline,
    enrollee_zone,
    home_active,
)
from dolbom.thresholds import THRESHOLD_BY_NAME
from dolbom.wire import METRIC_BY_NAME
from reports.compute import device_problems, local_day
from reports.period import month
from reports.queries import DeviceRow, daily_readings
from tests.factories import make_device, make_enrollee, make_region

NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
MIN = 60.0
SAID = DEVICE_OFFLINE_AFTER_S
SILENT = WEARABLE_SILENT_H * 3600.0
HOME = HOME_ACTIVE_WITHIN_S


@dataclass(frozen=True)
class State:
    """A device and its home: seconds since its newest status (``online`` as said then),
    since its last data, and since another device of the same home was last seen (None:
    none of them / never)."""

    kind: str
    online: bool | None
    status_s: float | None
    silent_s: float | None
    home_s: float | None
    battery: int | None

    def ago(self, seconds: float | None) -> datetime | None:
        return None if seconds is None else NOW - timedelta(seconds=seconds)

    @property
    def home_newest_s(self) -> float | None:
        seen = [s for s in (self.silent_s, self.home_s) if s is not None]
        return min(seen) if seen else None


def _states() -> list[State]:
    grid = itertools.product(
        ("wearable", "hub"),
        (True, False, None),
        (None, SAID - MIN, SAID + MIN),
        (None, MIN, SILENT - MIN, SILENT + MIN, 3 * 86400.0),
        (None, HOME - MIN, HOME + MIN),
    )
    batteries = (None, BATTERY_LOW_PCT - 1, BATTERY_LOW_PCT, BATTERY_LOW_PCT + 1, 100)
    return [State(kind, online, status, silent, home, batteries[k % len(batteries)])
            for k, (kind, online, status, silent, home) in enumerate(grid)]


STATES = _states()


def by_rule(state: State) -> tuple[bool, bool]:
    said = state.status_s if state.online is False else None
    offline = device_offline(kind=state.kind, said_offline_s=said, silent_s=state.silent_s,
                             home_active=home_active(state.home_newest_s))
    return offline, battery_low(state.battery)


def test_the_grid_crosses_every_line() -> None:
    verdicts = [by_rule(s) for s in STATES]
    assert {v[0] for v in verdicts} == {True, False} and {v[1] for v in verdicts} == {True, False}
    wearable_silent = [s for s in STATES if s.kind == "wearable" and s.online and s.silent_s == SILENT + MIN]
    assert {by_rule(s)[0] for s in wearable_silent} == {True, False}  # the home decides


def by_reports(states: list[State]) -> list[tuple[bool, bool]]:
    devices: list[DeviceRow] = []
    for i, state in enumerate(states):
        devices.append(DeviceRow(i, f"dev-{i}", state.kind, state.ago(state.silent_s), state.battery,
                                 state.online, state.ago(state.status_s)))
        if state.home_s is not None:
            devices.append(DeviceRow(i, f"home-{i}", "hub", state.ago(state.home_s), None, True, None))
    problems = {p["device_id"]: p["problems"] for p in device_problems(devices, NOW)}
    return [("offline" in problems.get(f"dev-{i}", []), "low_battery" in problems.get(f"dev-{i}", []))
            for i in range(len(states))]


def _device(i: int, device_id: str, kind: str, last_seen: datetime | None, battery: int | None,
            online: bool | None, status_at: datetime | None) -> Device:
    return Device(id=i, device_id=device_id, enrollee_id=1, kind=kind, room=None, last_seen=last_seen,
                  battery=battery, online=online, status_at=status_at, created_at=NOW, removed_at=None)


def by_web_page(state: State) -> tuple[bool, bool]:
    devices = [_device(1, "dev", state.kind, state.ago(state.silent_s), state.battery, state.online,
                       state.ago(state.status_s))]
    if state.home_s is not None:
        devices.append(_device(2, "home", "hub", state.ago(state.home_s), None, True, None))
    line = device_lines(devices, NOW)[0]
    return line.offline, line.battery_low


# ANALYTICS: where its modules are, before and after the move of analytics' detectors.
def _analytics(*candidates: str) -> ModuleType:
    for name in candidates:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    raise AssertionError(f"none of {candidates} exists")


def _clock() -> ModuleType:
    return _analytics("analytics.detectors.clock", "analytics.clock")


# ANALYTICS: the clock's device check as of this file's commit (see the module docstring).
def by_analytics(states: list[State]) -> list[tuple[bool, bool]]:
    clock = _clock()

    def ts(seconds: float | None) -> float:
        return math.nan if seconds is None else NOW.timestamp() - seconds

    n = len(states)
    nan = np.full(n, math.nan)
    activity = clock.ActivityState(
        enrollee_id=np.arange(n), utc_offset_s=np.zeros(n), has_home_sensors=np.ones(n, dtype=bool),
        has_speaker=np.zeros(n, dtype=bool), has_continuous=np.ones(n, dtype=bool),
        last_data_ts=np.asarray([ts(s.home_newest_s) for s in states]), last_activity_ts=nan,
        last_door_ts=nan, last_checkin_ts=nan, last_answered_ts=nan, unanswered_in_row=np.zeros(n),
        wake_h=nan, sleep_h=nan, gap_p90_h=nan)
    state = clock.DeviceState(
        enrollee=np.arange(n), device_id=[f"dev-{i}" for i in range(n)], kind=[s.kind for s in states],
        online=np.asarray([math.nan if s.online is None else float(s.online) for s in states]),
        status_ts=np.asarray([ts(s.status_s) for s in states]),
        battery=np.asarray([math.nan if s.battery is None else float(s.battery) for s in states]),
        last_ts=np.asarray([ts(s.silent_s) for s in states]))
    offline_findings, battery_findings, *_ = clock.devices(state, activity, NOW.timestamp())
    offline = {d["device_id"] for f in offline_findings for d in f.evidence["devices"]}
    low = {d["device_id"] for f in battery_findings for d in f.evidence["devices"]}
    return [(f"dev-{i}" in offline, f"dev-{i}" in low) for i in range(n)]


def _disagreements(got: list[tuple[bool, bool]]) -> list[tuple[State, tuple[bool, bool], tuple[bool, bool]]]:
    return [(s, g, by_rule(s)) for s, g in zip(STATES, got, strict=True) if g != by_rule(s)]


def test_reports_judge_devices_by_the_rule() -> None:
    assert _disagreements(by_reports(STATES)) == []


def test_web_enrollee_page_judges_devices_by_the_rule() -> None:
    assert _disagreements([by_web_page(s) for s in STATES]) == []


def test_analytics_judges_devices_by_the_rule() -> None:  # ANALYTICS
    assert _disagreements(by_analytics(STATES)) == []


# ANALYTICS: its constants, by name, until it imports dolbom.rules' own (either name passes).
ANALYTICS_NAMES = {
    "DEVICE_OFFLINE_AFTER_S": ("DEVICE_OFFLINE_AFTER_S", "OFFLINE_AFTER_S"),
    "WEARABLE_SILENT_H": ("WEARABLE_SILENT_H",),
    "BATTERY_LOW_PCT": ("BATTERY_LOW_PCT", "BATTERY_LOW"),
    "BATTERY_VERY_LOW_PCT": ("BATTERY_VERY_LOW_PCT", "BATTERY_VERY_LOW"),
    "BATTERY_CLEAR_PCT": ("BATTERY_CLEAR_PCT", "BATTERY_CLEAR"),
}


@pytest.mark.parametrize("rule_name", sorted(ANALYTICS_NAMES))
def test_analytics_clock_constants_are_the_rules(rule_name: str) -> None:  # ANALYTICS
    clock = _clock()

    found = {name: getattr(clock, name) for name in ANALYTICS_NAMES[rule_name] if hasattr(clock, name)}
    assert found, f"analytics.clock has none of {ANALYTICS_NAMES[rule_name]}"
    assert all(value == getattr(rules, rule_name) for value in found.values()), found


def test_web_templates_compute_no_rule() -> None:
    """The pages read booleans computed by the rule: no battery or online line in a template."""
    from pathlib import Path

    import api.web

    for template in (Path(api.web.__file__).parent / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        for pattern in ("battery <", "battery >", "battery<=", "battery <=", "online is false"):
            assert pattern not in text, (template.name, pattern)


def test_web_region_sql_judges_devices_by_the_rule(db: psycopg.Connection) -> None:
    """The region page's SQL (devices offline, their count) against the rule, in PostgreSQL."""
    region = make_region(db)
    ids: list[int] = []
    for state in STATES:
        enrollee = make_enrollee(db, region)
        device, _ = make_device(db, enrollee, state.kind)
        db.execute("UPDATE devices SET online = %s, status_at = %s, last_seen = %s, battery = %s"
                   " WHERE id = %s", (state.online, state.ago(state.status_s), state.ago(state.silent_s),
                                      state.battery, device))
        if state.home_s is not None:
            other, _ = make_device(db, enrollee, "hub")
            db.execute("UPDATE devices SET online = true, last_seen = %s WHERE id = %s",
                       (state.ago(state.home_s), other))
        ids.append(device)
    rows = db.execute("SELECT d.id, " + DEVICE_OFFLINE + " FROM devices d WHERE d.id = ANY(%(ids)s)",  # type: ignore[operator]
                      {"now": NOW, "ids": ids}).fetchall()
    offline = {int(r[0]): r[1] for r in rows}
    got = [offline[i] for i in ids]
    assert [(s, g) for s, g in zip(STATES, got, strict=True) if g != by_rule(s)[0]] == []


def test_glucose_range_in_the_reports_sql_is_the_rule(db: psycopg.Connection) -> None:
    low, high = GLUCOSE_RANGE_MG_DL
    values = [low - 0.1, low, (low + high) / 2, high, high + 0.1]
    enrollee = make_enrollee(db, make_region(db), conditions=("diabetes",))
    device, _ = make_device(db, enrollee, "glucometer")
    day = datetime(2026, 9, 10, 0, 0, tzinfo=UTC)  # 09:00 in Seoul
    for k, value in enumerate(values):
        db.execute("INSERT INTO readings (device, metric, ts, value) VALUES (%s, %s, %s, %s)",
                   (device, METRIC_BY_NAME["glucose"].code, day + timedelta(minutes=k), value))
    got = daily_readings(db, {enrollee: "Asia/Seoul"}, date(2026, 9, 1), day - timedelta(days=1),
                         day + timedelta(days=1), (METRIC_BY_NAME["glucose"].code,))
    assert int(got.in_range.sum()) == sum(low <= v <= high for v in values) == 3
    assert int(got.below_range.sum()) == sum(v < low for v in values) == 1
    # below range is level 1 hypoglycaemia (ADA 2024 §6), the line analytics and the web app use
    assert THRESHOLD_BY_NAME["glucose_low_l1"].value == low


ZONE_NAMES = (None, "", "Nowhere/Atlantis", "Asia/Seoul", "America/New_York", "UTC", "Europe/London")
INSTANTS = (datetime(2026, 9, 30, 15, 30, tzinfo=UTC), datetime(2026, 3, 29, 0, 30, tzinfo=UTC))


@pytest.mark.parametrize("name", ZONE_NAMES)
def test_reports_local_days_are_in_the_rules_zone(name: str | None) -> None:
    zone = enrollee_zone(name)
    september = month(2026, 9)
    for instant in INSTANTS:
        expected = instant.astimezone(zone).date().toordinal() - september.start.toordinal()
        assert local_day(instant, name or "", september.start.toordinal()) == expected
    bounds = (datetime(2026, 9, 1, tzinfo=zone), datetime(2026, 10, 1, tzinfo=zone))
    assert september.bounds(name or "") == bounds


@pytest.mark.parametrize("name", ZONE_NAMES)
def test_analytics_utc_offset_is_in_the_rules_zone(name: str | None) -> None:  # ANALYTICS
    utc_offset_s = _analytics("analytics.detectors.context", "analytics.context").utc_offset_s
    for instant in INSTANTS:
        offset = instant.astimezone(enrollee_zone(name)).utcoffset()
        assert offset is not None
        assert utc_offset_s(name or "", instant) == offset.total_seconds()
