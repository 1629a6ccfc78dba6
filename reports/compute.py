"""Per-enrollee figures from per-day aggregates: pure numpy, no I/O, no clock.

Everything here works on ``(enrollees × days)`` grids built from ``queries.DailyReadings`` and
``queries.DailyEvents``. Day 0 is the first day of the reported period in each enrollee's own
timezone; the previous period is the negative days. Undefined figures are NaN (``None`` in
JSON).

Definitions (docs/reports.md repeats them for the centres):

* observed days: days of the period from the enrollee's enrollment day up to the day before
  the report's ``as_of`` day (a report of a running month counts complete days only);
* BP day: an observed day with at least one systolic reading (population: enrollees with a
  BP monitor provisioned);
* glucose day: the same with a glucose reading (population: enrollees with ``diabetes``);
* worn hour: a local clock hour holding at least one heart-rate or steps reading from the wrist
  band; a wear day has at least ``WEAR_DAY_HOURS`` worn hours (population: enrollees with a
  wearable provisioned);
* home BP: the mean of all systolic and of all diastolic readings of the period;
* device problems (state at ``as_of``): never seen; offline by ``dolbom.rules`` (said offline
  for ``DEVICE_OFFLINE_AFTER_S``, or a wearable silent for ``WEARABLE_SILENT_H`` while the
  home is active: some device of the enrollee seen within ``HOME_ACTIVE_WITHIN_S``); battery
  low at or below ``BATTERY_LOW_PCT``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import numpy as np

from dolbom.alerts import Severity
from dolbom.rules import battery_low, device_row_offline, enrollee_zone
from dolbom.thresholds import THRESHOLD_BY_NAME, effective
from dolbom.wire import EVENT_CODES, METRIC_BY_NAME
from reports.period import Period
from reports.queries import AlertRow, DailyEvents, DailyReadings, DeviceRow, EnrolleeRow
from store.contacts import CHANNELS, Channel

SBP: Final = METRIC_BY_NAME["systolic_bp"].code
DBP: Final = METRIC_BY_NAME["diastolic_bp"].code
GLUCOSE: Final = METRIC_BY_NAME["glucose"].code
HEART_RATE: Final = METRIC_BY_NAME["heart_rate"].code
STEPS: Final = METRIC_BY_NAME["steps"].code
SLEEP: Final = METRIC_BY_NAME["sleep_minutes"].code
ALL_METRICS: Final = tuple(m.code for m in METRIC_BY_NAME.values())
HISTORY_METRICS: Final = (STEPS, SLEEP)  # compared with the previous period

CHECKIN: Final = EVENT_CODES["checkin"]
FALL: Final = EVENT_CODES["fall"]
SOS: Final = EVENT_CODES["sos"]

# The adherence rule: a band day counts when worn >= 10 h, the usual valid-day rule
# of wearable activity monitoring (Troiano et al., Med Sci Sports Exerc 2008;40:181, NHANES).
WEAR_DAY_HOURS: Final = 10
# Home BP control: mean home BP < 135/85 mmHg (ESC/ESH 2018; dolbom.thresholds), per-enrollee
# overridable like every threshold.
HOME_SBP: Final = THRESHOLD_BY_NAME["home_sbp_control"]
HOME_DBP: Final = THRESHOLD_BY_NAME["home_dbp_control"]
SEVERITIES: Final = tuple(s.value for s in Severity)


def popcount(masks: np.ndarray) -> np.ndarray:
    """Number of set bits of each non-negative int64 (< 2**32)."""
    as_bytes = masks.astype(">u4").view(np.uint8).reshape(*masks.shape, 4)
    return np.unpackbits(as_bytes, axis=-1).sum(axis=-1)


def local_day(instant: datetime, timezone: str, origin_ordinal: int) -> int:
    """The day of ``instant`` in ``timezone`` (``dolbom.rules.enrollee_zone``), from the origin."""
    return instant.astimezone(enrollee_zone(timezone)).date().toordinal() - origin_ordinal


@dataclass(slots=True)
class Grids:
    """Per-enrollee, per-day sums over one day range ``[lo, hi)``."""

    lo: int
    hi: int
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]


def _index(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row index of each wanted id in sorted ``ids``, and which wanted ids are present."""
    pos = np.searchsorted(ids, wanted)
    pos = np.clip(pos, 0, max(len(ids) - 1, 0))
    present = (ids[pos] == wanted) if len(ids) else np.zeros(len(wanted), dtype=bool)
    return pos, present


def reading_grids(ids: np.ndarray, readings: DailyReadings, lo: int, hi: int) -> Grids:
    """Daily counts and sums of each regional metric for days [lo, hi)."""
    n, width = len(ids), hi - lo
    pos, present = _index(ids, readings.enrollee)
    in_days = present & (readings.day >= lo) & (readings.day < hi)
    grids = Grids(lo, hi)

    def add(name: str, select: np.ndarray, values: np.ndarray) -> None:
        out = np.zeros((n, width), dtype=np.float64)
        sel = select & in_days
        np.add.at(out, (pos[sel], readings.day[sel] - lo), values[sel])
        grids.values[name] = out

    for code, name in ((SBP, "sbp"), (DBP, "dbp"), (GLUCOSE, "glucose"), (STEPS, "steps"),
                       (SLEEP, "sleep"), (HEART_RATE, "hr")):
        is_metric = readings.metric == code
        add(f"{name}_n", is_metric, readings.count)
        add(f"{name}_sum", is_metric, readings.total)
    add("any_n", np.ones(len(readings.metric), dtype=bool), readings.count)
    is_glucose = readings.metric == GLUCOSE
    add("glucose_in_range", is_glucose, readings.in_range)
    add("glucose_below", is_glucose, readings.below_range)
    hours = np.zeros((n, width), dtype=np.int64)
    worn = in_days & readings.wearable & np.isin(readings.metric, (HEART_RATE, STEPS))
    np.bitwise_or.at(hours, (pos[worn], readings.day[worn] - lo), readings.hours[worn])
    grids.values["worn_hours"] = popcount(hours).astype(np.float64)
    return grids


def event_grids(ids: np.ndarray, events: DailyEvents, lo: int, hi: int) -> Grids:
    n, width = len(ids), hi - lo
    pos, present = _index(ids, events.enrollee)
    in_days = present & (events.day >= lo) & (events.day < hi)
    grids = Grids(lo, hi)

    def add(name: str, select: np.ndarray, values: np.ndarray) -> None:
        out = np.zeros((n, width), dtype=np.float64)
        sel = select & in_days
        np.add.at(out, (pos[sel], events.day[sel] - lo), values[sel])
        grids.values[name] = out

    everything = np.ones(len(events.type), dtype=bool)
    add("events_n", everything, events.count)
    is_checkin = events.type == CHECKIN
    add("checkin_n", is_checkin, events.count)
    add("checkin_answered", is_checkin, events.answered)
    add("mood_sum", is_checkin, events.mood_sum)
    add("mood_n", is_checkin, events.mood_n)
    add("fall_n", events.type == FALL, events.count)
    add("sos_n", events.type == SOS, events.count)
    return grids


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def _mean_over_data_days(total: np.ndarray, count: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Mean daily total over the days (mask) that hold data."""
    with_data = (count > 0) & days
    return _ratio((total * with_data).sum(axis=1), with_data.sum(axis=1).astype(np.float64))


@dataclass(frozen=True, slots=True)
class EnrolleeFigures:
    """One array per figure, one entry per enrollee (NaN where undefined)."""

    ids: np.ndarray
    arrays: dict[str, np.ndarray]
    current: Grids
    observed: np.ndarray  # (n, period days) bool

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]


def enrollee_figures(
    enrollees: Sequence[EnrolleeRow],
    period: Period,
    previous: Period,
    as_of: datetime,
    readings: DailyReadings,
    events: DailyEvents,
    devices: Sequence[DeviceRow],
) -> EnrolleeFigures:
    """Every per-enrollee figure of the report, vectorised over ``enrollees`` (sorted by id)."""
    ids = np.asarray([e.id for e in enrollees], dtype=np.int64)
    n, days = len(ids), period.days
    origin = period.start.toordinal()
    enrolled_day = np.asarray([local_day(e.enrolled_at, e.timezone, origin) for e in enrollees],
                              dtype=np.int64).reshape(n)
    as_of_day = np.asarray([local_day(as_of, e.timezone, origin) for e in enrollees],
                           dtype=np.int64).reshape(n)
    day_axis = np.arange(days)
    observed = (day_axis[None, :] >= enrolled_day[:, None]) & (day_axis[None, :] < as_of_day[:, None])
    prev_axis = np.arange(-previous.days, 0)
    observed_prev = (prev_axis[None, :] >= enrolled_day[:, None]) & (prev_axis[None, :] < as_of_day[:, None])

    cur = reading_grids(ids, readings, 0, days)
    prev = reading_grids(ids, readings, -previous.days, 0)
    ev = event_grids(ids, events, 0, days)

    kinds = {(d.enrollee_id, d.kind) for d in devices}
    has = {kind: np.asarray([(i, kind) in kinds for i in ids.tolist()], dtype=bool).reshape(n)
           for kind in ("bp_monitor", "wearable", "glucometer")}
    diabetic = np.asarray(["diabetes" in e.conditions for e in enrollees], dtype=bool).reshape(n)
    hypertensive = np.asarray(["hypertension" in e.conditions for e in enrollees], dtype=bool).reshape(n)

    a: dict[str, np.ndarray] = {}
    a["days_observed"] = observed.sum(axis=1).astype(np.float64)
    a["new"] = ((enrolled_day >= 0) & (enrolled_day < days)).astype(np.float64)
    a["has_data"] = ((cur["any_n"].sum(axis=1) + ev["events_n"].sum(axis=1)) > 0).astype(np.float64)

    a["bp_days"] = ((cur["sbp_n"] > 0) & observed).sum(axis=1).astype(np.float64)
    a["bp_share"] = np.where(has["bp_monitor"], _ratio(a["bp_days"], a["days_observed"]), np.nan)
    a["glucose_days"] = ((cur["glucose_n"] > 0) & observed).sum(axis=1).astype(np.float64)
    a["glucose_share"] = np.where(diabetic, _ratio(a["glucose_days"], a["days_observed"]), np.nan)
    worn = cur["worn_hours"]
    a["wear_days"] = ((worn >= WEAR_DAY_HOURS) & observed).sum(axis=1).astype(np.float64)
    a["wear_share"] = np.where(has["wearable"], _ratio(a["wear_days"], a["days_observed"]), np.nan)
    a["wear_hours_mean"] = np.where(
        has["wearable"], _ratio((worn * observed).sum(axis=1), a["days_observed"]), np.nan
    )

    def period_mean(name: str) -> tuple[np.ndarray, np.ndarray]:
        count = (cur[f"{name}_n"] * observed).sum(axis=1)
        return _ratio((cur[f"{name}_sum"] * observed).sum(axis=1), count), count

    a["sbp_mean"], a["sbp_readings"] = period_mean("sbp")
    a["dbp_mean"], a["dbp_readings"] = period_mean("dbp")
    limits = [effective(e.thresholds) for e in enrollees]
    sbp_limit = np.asarray([t[HOME_SBP.name] for t in limits], dtype=np.float64).reshape(n)
    dbp_limit = np.asarray([t[HOME_DBP.name] for t in limits], dtype=np.float64).reshape(n)
    a["sbp_limit"], a["dbp_limit"] = sbp_limit, dbp_limit
    measured = (a["sbp_readings"] > 0) & (a["dbp_readings"] > 0)
    with np.errstate(invalid="ignore"):
        controlled = (a["sbp_mean"] < sbp_limit) & (a["dbp_mean"] < dbp_limit)
    a["bp_controlled"] = np.where(hypertensive & measured, controlled.astype(np.float64), np.nan)

    a["glucose_mean"], a["glucose_readings"] = period_mean("glucose")
    a["glucose_in_range"] = (cur["glucose_in_range"] * observed).sum(axis=1)
    a["glucose_below"] = (cur["glucose_below"] * observed).sum(axis=1)
    a["glucose_tir"] = _ratio(a["glucose_in_range"], a["glucose_readings"])

    a["steps_per_day"] = _mean_over_data_days(cur["steps_sum"], cur["steps_n"], observed)
    a["steps_prev_per_day"] = _mean_over_data_days(prev["steps_sum"], prev["steps_n"], observed_prev)
    a["steps_change_pct"] = 100.0 * (_ratio(a["steps_per_day"], a["steps_prev_per_day"]) - 1.0)
    a["sleep_hours"] = _mean_over_data_days(cur["sleep_sum"], cur["sleep_n"], observed) / 60.0
    a["sleep_prev_hours"] = _mean_over_data_days(prev["sleep_sum"], prev["sleep_n"], observed_prev) / 60.0

    a["checkins"] = (ev["checkin_n"] * observed).sum(axis=1)
    a["checkins_answered"] = (ev["checkin_answered"] * observed).sum(axis=1)
    a["checkin_share"] = _ratio(a["checkins_answered"], a["checkins"])
    a["mood_mean"] = _ratio((ev["mood_sum"] * observed).sum(axis=1), (ev["mood_n"] * observed).sum(axis=1))
    a["falls"] = (ev["fall_n"] * observed).sum(axis=1)
    a["sos"] = (ev["sos_n"] * observed).sum(axis=1)
    a["has_bp_monitor"] = has["bp_monitor"].astype(np.float64)
    a["has_wearable"] = has["wearable"].astype(np.float64)
    a["diabetic"] = diabetic.astype(np.float64)
    a["hypertensive"] = hypertensive.astype(np.float64)
    return EnrolleeFigures(ids, a, cur, observed)


def device_problems(devices: Sequence[DeviceRow], as_of: datetime) -> list[dict[str, Any]]:
    """Devices never seen, offline or low on battery at ``as_of``, by ``dolbom.rules``
    (``device_row_offline``, ``battery_low``); the home of a device is active when any device
    of the same enrollee was seen within the hour before ``as_of``."""
    home_seen: dict[int, datetime] = {}
    for device in devices:
        newest = home_seen.get(device.enrollee_id)
        if device.last_seen is not None and (newest is None or device.last_seen > newest):
            home_seen[device.enrollee_id] = device.last_seen
    problems: list[dict[str, Any]] = []
    for device in devices:
        found: list[str] = []
        if device.last_seen is None:  # no message yet, or only a replayed (retained) state
            found.append("never_seen")
        if device_row_offline(as_of, kind=device.kind, online=device.online, status_at=device.status_at,
                              last_seen=device.last_seen, home_seen=home_seen.get(device.enrollee_id)):
            found.append("offline")
        if battery_low(device.battery):
            found.append("low_battery")
        if found:
            problems.append({
                "enrollee_id": device.enrollee_id, "device_id": device.device_id, "kind": device.kind,
                "problems": found, "battery": device.battery,
                "last_seen": device.last_seen.isoformat() if device.last_seen else None,
            })
    return problems


def percentiles_minutes(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """n, median and p90 (numpy's linear interpolation) of durations, in minutes."""
    if not seconds:
        return {"n": 0, "median_min": None, "p90_min": None}
    values = np.asarray(seconds, dtype=np.float64) / 60.0
    median, p90 = np.percentile(values, [50, 90])
    return {"n": len(values), "median_min": round(float(median), 2), "p90_min": round(float(p90), 2)}


def response_times(alerts: Sequence[AlertRow]) -> dict[str, dict[str, dict[str, float | int | None]]]:
    """Time to first response (acknowledge or resolve by a person) and to resolution by a
    person, per severity and overall. Alerts closed by the system are left out of the
    resolution times: those measure the condition, not the care worker."""
    out: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for severity in (*SEVERITIES, "all"):
        chosen = [a for a in alerts if severity in ("all", a.severity)]
        acknowledge = [(a.responded_at - a.opened_at).total_seconds() for a in chosen
                       if a.responded_at is not None]
        resolve = [(a.resolved_at - a.opened_at).total_seconds() for a in chosen
                   if a.resolved_at is not None and a.resolved_by_person]
        out[severity] = {"acknowledge": percentiles_minutes(acknowledge),
                         "resolve": percentiles_minutes(resolve)}
    return out


# The national programme's contact categories, "비대면 / 대면" (non-face-to-face /
# face-to-face), in which each centre reports its contacts: a home visit is face to face; a
# call, a video call, a message and a contact through the AI speaker are not. Every channel of
# ``store.contacts.CHANNELS`` is in exactly one group (tests/reports/test_contacts_in_report.py).
CONTACT_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "non_face_to_face": (Channel.PHONE, Channel.VIDEO, Channel.MESSAGE, Channel.SPEAKER),
    "face_to_face": (Channel.VISIT,),
}
# A week's enrollee-months: observed days over the mean Gregorian month (365.2425 / 12 days).
# A month report divides by the days of its own month, so a whole month is one.
MEAN_MONTH_DAYS: Final = 365.2425 / 12


def enrollee_months(days_observed: np.ndarray, period: Period) -> float:
    """Enrollee-months observed: the enrollees' observed days (as every other figure counts
    presence) over the days of the month (the period's own month, or the mean month for a
    week)."""
    month_days = period.days if period.kind == "month" else MEAN_MONTH_DAYS
    return float(days_observed.sum()) / month_days


def contact_figures(by_channel: dict[str, int], months: float) -> dict[str, Any]:
    """Contacts by channel and by the programme's group, in total and per enrollee-month
    (None without an observed enrollee-month)."""
    channels = {channel: int(by_channel.get(channel, 0)) for channel in CHANNELS}
    groups = {group: sum(channels[c] for c in members) for group, members in CONTACT_GROUPS.items()}
    total = sum(channels.values())

    def rate(count: int) -> float | None:
        return round(count / months, 2) if months > 0 else None

    return {
        "total": total,
        "by_channel": channels,
        "by_group": groups,
        "groups": {group: [str(c) for c in members] for group, members in CONTACT_GROUPS.items()},
        "enrollee_months": round(months, 2),
        "per_enrollee_month": {
            "total": rate(total),
            "by_channel": {channel: rate(count) for channel, count in channels.items()},
            "by_group": {group: rate(count) for group, count in groups.items()},
        },
    }
