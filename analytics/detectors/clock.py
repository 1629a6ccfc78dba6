"""Conditions judged by the clock (data time ``now``): inactivity, no data, device offline,
low battery, missed check-ins; and night wandering from door events. Pure functions over
per-enrollee arrays; NaN timestamps mean "never seen".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from analytics.findings import Finding
from dolbom.alerts import AlertKind, Severity
from dolbom.rules import (
    BATTERY_CLEAR_PCT,
    BATTERY_LOW_PCT,
    BATTERY_VERY_LOW_PCT,
    DEVICE_OFFLINE_AFTER_S,
    HOME_ACTIVE_WITHIN_S,
    NIGHT_END_H,
    NIGHT_START_H,
    NO_DATA_AFTER_H,
    NO_DATA_DEVICE_KINDS,
    WEARABLE_SILENT_H,
)

HOUR: Final = 3600.0
# The kinds of the device checks and of all clock checks (their active alerts are re-judged).
DEVICE_KINDS: Final = (AlertKind.DEVICE_OFFLINE, AlertKind.LOW_BATTERY)
CLOCK_KINDS: Final = (AlertKind.INACTIVITY, AlertKind.NO_DATA, AlertKind.MISSED_CHECKINS, *DEVICE_KINDS)
# inactivity: no movement at home during the person's waking hours for longer than
# INACTIVITY_FACTOR x their usual longest daytime gap (90th percentile over 2 weeks), never
# less than INACTIVITY_MIN_H nor more than INACTIVITY_MAX_H; population default 4.5 h from
# 08:00 on a cold start.
INACTIVITY_MIN_H: Final = 3.0
INACTIVITY_DEFAULT_H: Final = 4.5
INACTIVITY_FACTOR: Final = 1.5
# Operational cap (no clinical guideline gives one): during waking hours, 3.5 h without any
# movement at home is worth a call whatever the person's usual gaps (a "cognitive" profile's
# long daytime gaps had pushed her limit past a 4 h immobility). Measured on the simulator's
# controls: bench/RESULTS.md ``## analytics``.
INACTIVITY_MAX_H: Final = 3.5
DEFAULT_WAKE_H: Final = 8.0  # cold start: a late riser is not inactive at 11:30
DEFAULT_SLEEP_H: Final = 21.5
AWAY_AFTER_DOOR_S: Final = 60.0  # the door was the last thing that moved: probably out
# no_data: the line of dolbom/rules.py (a kit with a device that reports by itself, silent
# for NO_DATA_H); device_offline and low_battery: its lines too (shared with the reports and
# the web app).
NO_DATA_H: Final = NO_DATA_AFTER_H
# The kit's kinds each check looks for (``ActivityState``'s flags).
HOME_SENSOR_KINDS: Final = frozenset({"motion_sensor", "door_sensor", "bed_sensor"})
SPEAKER_KIND: Final = "ai_speaker"
CONTINUOUS_KINDS: Final = NO_DATA_DEVICE_KINDS
WEARABLE_KIND: Final = "wearable"
MISSED_IN_ROW: Final = 2
NO_ANSWER_H: Final = 74.0  # three daily check-ins without an answer (a person away for a weekend)
NIGHT_DOOR_USUAL_RATE: Final = 0.10  # nights with a door opening; above this it is her habit


def _local_h(ts: np.ndarray, offset: np.ndarray) -> np.ndarray:
    return ((ts + offset) % 86400.0) / HOUR


def _hhmm(ts: float, offset: float) -> str:
    h = ((ts + offset) % 86400.0) / HOUR
    return f"{int(h):02d}:{int((h % 1) * 60):02d}"


@dataclass(frozen=True, slots=True)
class ActivityState:
    """Per-enrollee state for the clock checks, aligned arrays of length n."""

    enrollee_id: np.ndarray
    utc_offset_s: np.ndarray
    has_home_sensors: np.ndarray  # bool
    has_speaker: np.ndarray  # bool
    has_continuous: np.ndarray  # bool: a wearable, hub or home sensor (something that reports on its own)
    last_data_ts: np.ndarray
    last_activity_ts: np.ndarray
    last_door_ts: np.ndarray
    last_checkin_ts: np.ndarray
    last_answered_ts: np.ndarray
    unanswered_in_row: np.ndarray
    wake_h: np.ndarray  # personal profile, NaN = population default
    sleep_h: np.ndarray
    gap_p90_h: np.ndarray


def inactivity(state: ActivityState, now: float) -> tuple[list[Finding], np.ndarray]:
    """Findings, and the mask of enrollees evaluated as clear (for auto-resolve)."""
    wake = np.where(np.isfinite(state.wake_h), state.wake_h, DEFAULT_WAKE_H)
    sleep = np.where(np.isfinite(state.sleep_h), state.sleep_h, DEFAULT_SLEEP_H)
    personal = np.isfinite(state.gap_p90_h)
    limit_h = np.where(
        personal,
        np.clip(INACTIVITY_FACTOR * state.gap_p90_h, INACTIVITY_MIN_H, INACTIVITY_MAX_H),
        INACTIVITY_DEFAULT_H,
    )
    local = _local_h(np.full(state.enrollee_id.size, now), state.utc_offset_s)
    awake = (local >= wake) & (local < sleep)
    wake_ts = now - (local - wake) * HOUR  # today's usual wake time
    since = np.fmax(state.last_activity_ts, wake_ts)
    away = np.isfinite(state.last_door_ts) & (
        state.last_door_ts >= state.last_activity_ts - AWAY_AFTER_DOOR_S
    )
    gap_h = (now - since) / HOUR
    reporting = (now - state.last_data_ts) / HOUR <= NO_DATA_H  # a silent kit is no_data, not inactivity
    fire = (
        state.has_home_sensors
        & awake
        & ~away
        & reporting
        & np.isfinite(state.last_activity_ts)
        & (gap_h > limit_h)
    )
    clear = state.has_home_sensors & ~fire & (gap_h < limit_h)
    findings = []
    for i in np.flatnonzero(fire):
        usual = (
            f"usual longest daytime gap {state.gap_p90_h[i]:.1f} h"
            if personal[i]
            else f"population default limit {INACTIVITY_DEFAULT_H:g} h (cold start)"
        )
        summary = (
            f"No movement at home for {gap_h[i]:.1f} h (since "
            f"{_hhmm(since[i], state.utc_offset_s[i])}); {usual}"
        )
        evidence = {
            "summary": summary,
            "gap_h": round(float(gap_h[i]), 2),
            "limit_h": round(float(limit_h[i]), 2),
            "since_ts": float(since[i]),
            "last_activity_ts": float(state.last_activity_ts[i]),
            "baseline": {
                "gap_p90_h": None if not personal[i] else round(float(state.gap_p90_h[i]), 2),
                "waking_hours": [round(float(wake[i]), 2), round(float(sleep[i]), 2)],
                "source": "personal" if personal[i] else "population default (cold start)",
            },
        }
        findings.append(
            Finding(
                int(state.enrollee_id[i]),
                AlertKind.INACTIVITY,
                Severity.HIGH,
                float(since[i] + limit_h[i] * HOUR),
                summary,
                evidence,
                score=float(gap_h[i] / limit_h[i]),
            )
        )
    return findings, clear


def no_data(state: ActivityState, now: float) -> tuple[list[Finding], np.ndarray]:
    silent_h = (now - state.last_data_ts) / HOUR
    known = np.isfinite(state.last_data_ts) & state.has_continuous  # a glucometer alone is used when needed
    fire = known & (silent_h > NO_DATA_H)
    findings = []
    for i in np.flatnonzero(fire):
        summary = (
            f"No data from any device for {silent_h[i]:.0f} h (last at "
            f"{_hhmm(state.last_data_ts[i], state.utc_offset_s[i])}); expected within {NO_DATA_H:g} h"
        )
        findings.append(
            Finding(
                int(state.enrollee_id[i]),
                AlertKind.NO_DATA,
                Severity.MEDIUM,
                float(state.last_data_ts[i] + NO_DATA_H * HOUR),
                summary,
                {
                    "summary": summary,
                    "silent_h": round(float(silent_h[i]), 1),
                    "threshold_h": NO_DATA_H,
                    "last_data_ts": float(state.last_data_ts[i]),
                },
                score=float(silent_h[i] / NO_DATA_H),
            )
        )
    return findings, known & ~fire


def missed_checkins(state: ActivityState, now: float) -> tuple[list[Finding], np.ndarray]:
    no_answer_h = (
        now - np.where(np.isfinite(state.last_answered_ts), state.last_answered_ts, state.last_checkin_ts)
    ) / HOUR
    in_row = state.unanswered_in_row >= MISSED_IN_ROW
    long_quiet = np.isfinite(state.last_checkin_ts) & (no_answer_h > NO_ANSWER_H)
    fire = state.has_speaker & (in_row | long_quiet)
    clear = state.has_speaker & ~fire & (state.unanswered_in_row == 0)
    findings = []
    for i in np.flatnonzero(fire):
        summary = (
            f"{int(state.unanswered_in_row[i])} daily check-ins in a row unanswered"
            if in_row[i]
            else f"No answered check-in for {no_answer_h[i]:.0f} h"
        )
        summary += f" (alert at {MISSED_IN_ROW} in a row or {NO_ANSWER_H:g} h)"
        onset = float(state.last_checkin_ts[i]) if np.isfinite(state.last_checkin_ts[i]) else now
        findings.append(
            Finding(
                int(state.enrollee_id[i]),
                AlertKind.MISSED_CHECKINS,
                Severity.MEDIUM,
                onset,
                summary,
                {
                    "summary": summary,
                    "unanswered_in_row": int(state.unanswered_in_row[i]),
                    "hours_without_answer": round(float(no_answer_h[i]), 1),
                    "threshold": {"in_row": MISSED_IN_ROW, "hours": NO_ANSWER_H},
                },
                score=float(state.unanswered_in_row[i]),
            )
        )
    return findings, clear


@dataclass(frozen=True, slots=True)
class DeviceState:
    """Per-device arrays (length m); ``enrollee`` indexes the ActivityState arrays."""

    enrollee: np.ndarray
    device_id: list[str]
    kind: list[str]
    online: np.ndarray  # float: 1, 0, NaN unknown
    status_ts: np.ndarray
    battery: np.ndarray  # float, NaN unknown
    last_ts: np.ndarray  # latest data time from this device


def devices(
    state: DeviceState, activity: ActivityState, now: float
) -> tuple[list[Finding], list[Finding], np.ndarray, np.ndarray]:
    """device_offline and low_battery findings (one per enrollee, listing devices) and the
    per-enrollee clear masks."""
    n = activity.enrollee_id.size
    said_offline = (state.online == 0) & (now - state.status_ts >= DEVICE_OFFLINE_AFTER_S)
    others_active = (now - activity.last_data_ts[state.enrollee]) < HOME_ACTIVE_WITHIN_S
    wearable = np.array([k == WEARABLE_KIND for k in state.kind], dtype=bool)
    silent = (
        wearable
        & np.isfinite(state.last_ts)
        & ((now - state.last_ts) / HOUR > WEARABLE_SILENT_H)
        & others_active
    )
    offline = said_offline | silent
    low = np.isfinite(state.battery) & (state.battery <= BATTERY_LOW_PCT)
    charged = np.isfinite(state.battery) & (state.battery >= BATTERY_CLEAR_PCT)
    offline_findings = []
    battery_findings = []
    off_any = np.zeros(n, dtype=bool)
    low_any = np.zeros(n, dtype=bool)
    np.logical_or.at(off_any, state.enrollee, offline)
    np.logical_or.at(low_any, state.enrollee, low)
    has_battery = np.zeros(n, dtype=bool)
    np.logical_or.at(has_battery, state.enrollee, np.isfinite(state.battery))
    all_charged = np.ones(n, dtype=bool)
    np.logical_and.at(all_charged, state.enrollee, charged | ~np.isfinite(state.battery))
    for e in np.flatnonzero(off_any):
        rows = np.flatnonzero((state.enrollee == e) & offline)
        names = [f"{state.kind[r]} {state.device_id[r]}" for r in rows]
        since = [float(state.status_ts[r] if said_offline[r] else state.last_ts[r]) for r in rows]
        summary = f"Device offline: {', '.join(names)}"
        offline_findings.append(
            Finding(
                int(activity.enrollee_id[e]),
                AlertKind.DEVICE_OFFLINE,
                Severity.LOW,
                min(since),
                summary,
                {
                    "summary": summary,
                    "devices": [
                        {
                            "device_id": state.device_id[r],
                            "kind": state.kind[r],
                            "reported_offline": bool(said_offline[r]),
                            "last_data_ts": float(state.last_ts[r]),
                        }
                        for r in rows
                    ],
                    "threshold": {
                        "offline_after_s": DEVICE_OFFLINE_AFTER_S,
                        "wearable_silent_h": WEARABLE_SILENT_H,
                    },
                },
            )
        )
    for e in np.flatnonzero(low_any):
        rows = np.flatnonzero((state.enrollee == e) & low)
        lowest = float(state.battery[rows].min())
        severity = Severity.MEDIUM if lowest <= BATTERY_VERY_LOW_PCT else Severity.LOW
        summary = "Low battery: " + ", ".join(
            f"{state.kind[r]} {state.device_id[r]} {state.battery[r]:.0f}%" for r in rows
        )
        battery_findings.append(
            Finding(
                int(activity.enrollee_id[e]),
                AlertKind.LOW_BATTERY,
                severity,
                now,
                summary,
                {
                    "summary": summary,
                    "devices": [
                        {"device_id": state.device_id[r], "battery": float(state.battery[r])} for r in rows
                    ],
                    "threshold": {
                        "low": BATTERY_LOW_PCT,
                        "very_low": BATTERY_VERY_LOW_PCT,
                        "clear_at": BATTERY_CLEAR_PCT,
                    },
                },
            )
        )
    return offline_findings, battery_findings, ~off_any, has_battery & all_charged


# ---- whom the checks can concern (the clock's SQL pre-selection) -------------------------

SELECTION_MARGIN_S: Final = 60.0  # the pre-selection is looser than the checks by this much


@dataclass(frozen=True, slots=True)
class Reach:
    """The loosest line of each check as of a data time, moved by ``SELECTION_MARGIN_S`` the
    loose way: an enrollee whose state is on the safe side of every one, who has no active
    clock alert and no device reported offline or at ``BATTERY_LOW_PCT`` or below, can neither
    raise a clock alert nor clear one then. ``analytics/queries/clock.py`` selects by exactly
    these lines (``reach(now)``), so its SQL and the checks above share their constants
    (tests/analytics/queries/test_clock.py: the selection holds everyone the checks flag)."""

    moved_before: float  # inactivity: last movement before this (the shortest limit)
    data_before: float  # no_data: last data before this
    unanswered_in_row: int  # missed_checkins: this many check-ins unanswered in a row
    answered_before: float  # missed_checkins: no answer (or check-in) since before this
    wearable_data_before: float  # device_offline: a wearable's last data before this


def reach(now: float) -> Reach:
    """The lines of ``Reach`` as of data time ``now``."""
    shortest_inactivity_h = min(INACTIVITY_MIN_H, INACTIVITY_DEFAULT_H)  # a limit is never below
    return Reach(
        moved_before=now - shortest_inactivity_h * HOUR + SELECTION_MARGIN_S,
        data_before=now - NO_DATA_H * HOUR + SELECTION_MARGIN_S,
        unanswered_in_row=MISSED_IN_ROW,
        answered_before=now - NO_ANSWER_H * HOUR + SELECTION_MARGIN_S,
        wearable_data_before=now - WEARABLE_SILENT_H * HOUR + SELECTION_MARGIN_S,
    )


def night_wandering(
    enrollee_id: np.ndarray,
    door_ts: np.ndarray,
    utc_offset_s: np.ndarray,
    night_door_rate: np.ndarray,
    history_nights: np.ndarray,
) -> list[Finding]:
    """Door openings at night (00:00-05:00 local) for people for whom that is unusual.

    Aligned arrays, one element per door opening: whose (``enrollee_id``), when, the
    person's UTC offset, ``night_door_rate`` (share of her recent nights with a door opening)
    and ``history_nights`` (nights behind that rate; < 7 is a cold start and the population
    default of 0 applies).
    """
    hour = _local_h(door_ts, utc_offset_s)
    night = (hour >= NIGHT_START_H) & (hour < NIGHT_END_H)
    personal = history_nights >= 7
    rate = np.where(personal, night_door_rate, 0.0)
    fire = night & (rate < NIGHT_DOOR_USUAL_RATE)
    findings = []
    for e in np.unique(enrollee_id[fire]):
        rows = np.flatnonzero(fire & (enrollee_id == e))
        first = float(door_ts[rows].min())
        offset = float(utc_offset_s[rows[0]])
        times = ", ".join(_hhmm(float(t), offset) for t in np.sort(door_ts[rows])[:5])
        usual = (
            f"usually on {night_door_rate[rows[0]] * 100:.0f}% of nights"
            if personal[rows[0]]
            else "no history yet (cold start: any night door opening alerts)"
        )
        summary = f"Door opened at night at {times}; {usual}"
        findings.append(
            Finding(
                int(e),
                AlertKind.NIGHT_WANDERING,
                Severity.MEDIUM,
                first,
                summary,
                {
                    "summary": summary,
                    "door_open_ts": [float(t) for t in door_ts[rows]],
                    "baseline": {
                        "night_door_rate": float(night_door_rate[rows[0]]),
                        "nights": int(history_nights[rows[0]]),
                    },
                    "threshold": {
                        "night_hours": [NIGHT_START_H, NIGHT_END_H],
                        "usual_rate_below": NIGHT_DOOR_USUAL_RATE,
                    },
                },
                score=float(rows.size),
            )
        )
    return findings
