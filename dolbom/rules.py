"""Care and device rules' numbers, defined once, imported wherever the rule is applied.

Clinical lines are in ``dolbom.thresholds`` (each with its source); this module holds the
numbers that say how and when a rule applies, so that ingest, analytics, the reports and the
web app cannot disagree (``tests/test_rules_agree.py`` pins it):

- a severe reading is *confirmed* (critical) by another past the line within
  ``CONFIRM_WINDOW_S`` (per kind): ingest on arrival and analytics' vital rules;
- a device that said it is offline is offline after 15 min; a wearable silent while the home
  is active (some device of it sent data within the hour), after 6 h: analytics' clock, the
  reports and the web app;
- battery low, very low and cleared after a charge at 15 %, 5 % and 30 %: the same three;
- glucose in range 70-180 mg/dL (ADA 2024 §6, time in range): the reports;
- no data: a kit with a device that reports on its own, silent from every device for
  ``NO_DATA_AFTER_H``: analytics' clock and the API's worklist;
- a measurement a person's conditions call for (``CONDITION_MEASUREMENTS``) is missing after
  ``NOT_MEASURED_DAYS`` local days without one: the API's worklist (CONTRACT §5.3);
- the enrollee's timezone when none, or one the system lacks, is stored: Asia/Seoul,
  everywhere a local time is shown or computed.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from dolbom.alerts import AlertKind

# AHA/ACC 2017 asks to confirm a hypertensive crisis on a repeat reading (a second cuff
# measurement within the half hour); a wearable's SpO2 (NEWS2 scores <= 91 % three) and
# heart rate are noisy, so a repeat within minutes, not one point, makes them critical.
CONFIRM_WINDOW_S: Final[dict[AlertKind, float]] = {
    AlertKind.HYPERTENSIVE_CRISIS: 30 * 60.0,
    AlertKind.LOW_SPO2: 15 * 60.0,
    AlertKind.BRADYCARDIA: 10 * 60.0,
    AlertKind.TACHYCARDIA: 10 * 60.0,
}

# Operational lines (no guideline gives them): a status "offline" shorter than this is a
# reconnect, not an outage; a wrist band silent for a working morning while the home moves
# is off the wrist or flat.
DEVICE_OFFLINE_AFTER_S: Final = 15 * 60.0
WEARABLE_SILENT_H: Final = 6.0
BATTERY_LOW_PCT: Final = 15
BATTERY_VERY_LOW_PCT: Final = 5  # "medium" instead of "low"
BATTERY_CLEAR_PCT: Final = 30  # hysteresis: a low-battery alert clears only after a charge
# The home is active while some device of it sent data within the hour (analytics' clock:
# a wearable silent then is off the wrist, not out of the door with its wearer).
HOME_ACTIVE_WITHIN_S: Final = 3600.0

# ADA Standards of Care 2024 §6 (glycemic goals): time in range 70-180 mg/dL; below 70 is
# level 1 hypoglycemia.
GLUCOSE_RANGE_MG_DL: Final = (70.0, 180.0)

# No data: a kit with a device that reports on its own (NO_DATA_DEVICE_KINDS; a cuff, a
# glucometer or a scale sends only when used) silent, every device, for this long: long
# enough for a night in bed plus a day out with home sensors only (Ordóñez replay).
NO_DATA_AFTER_H: Final = 16.0
NO_DATA_DEVICE_KINDS: Final = frozenset({"wearable", "hub", "motion_sensor", "door_sensor", "bed_sensor"})

# CONTRACT §5.3: the measurement each condition calls for, as (metric, the device kind that
# takes it), the self-monitoring each guideline asks of the person: home blood pressure
# (AHA/ACC 2017), blood glucose (ADA Standards of Care), daily weight in heart failure
# (AHA/ACC/HFSA 2022). Missing after NOT_MEASURED_DAYS local days without a reading (the
# contract's number, an operational line: no guideline gives one).
CONDITION_MEASUREMENTS: Final[dict[str, tuple[str, str]]] = {
    "hypertension": ("systolic_bp", "bp_monitor"),
    "diabetes": ("glucose", "glucometer"),
    "heart_failure": ("weight", "scale"),
}
NOT_MEASURED_DAYS: Final = 2

# The programme's home zone: an enrollee without a (valid) timezone lives in Korea.
DEFAULT_TIMEZONE: Final = "Asia/Seoul"


@lru_cache(maxsize=256)
def enrollee_zone(name: str | None) -> ZoneInfo:
    """The enrollee's zone, or ``DEFAULT_TIMEZONE`` for none or a name the system lacks."""
    if name:
        try:
            return ZoneInfo(name)
        except (KeyError, ValueError):
            pass
    return ZoneInfo(DEFAULT_TIMEZONE)


def device_offline(*, kind: str, said_offline_s: float | None, silent_s: float | None,
                   home_active: bool = True) -> bool:
    """Whether a device counts as offline.

    ``said_offline_s``: seconds since it reported ``online: false`` (None: it did not, or is
    online); ``silent_s``: seconds since its last data (None: never seen). A wearable also
    counts as offline when silent for ``WEARABLE_SILENT_H`` while the rest of the home is
    active (someone is there, so it is off the wrist)."""
    if said_offline_s is not None and said_offline_s >= DEVICE_OFFLINE_AFTER_S:
        return True
    return (kind == "wearable" and home_active and silent_s is not None
            and silent_s > WEARABLE_SILENT_H * 3600.0)


def home_active(newest_data_s: float | None) -> bool:
    """Whether the home counts as active, ``newest_data_s`` seconds after its newest data
    from any device (None: never seen)."""
    return newest_data_s is not None and newest_data_s < HOME_ACTIVE_WITHIN_S


def device_row_offline(now: datetime, *, kind: str, online: bool | None, status_at: datetime | None,
                       last_seen: datetime | None, home_seen: datetime | None) -> bool:
    """``device_offline`` over a row of the ``devices`` table at ``now``: said offline since
    ``status_at`` (its newest status), silent since ``last_seen``; ``home_seen`` is the newest
    ``last_seen`` of the enrollee's devices (``home_active``). A device that said offline with
    no status time did not say when: not offline by that clause (as in analytics)."""
    def since(then: datetime | None) -> float | None:
        return None if then is None else (now - then).total_seconds()

    return device_offline(
        kind=kind, said_offline_s=since(status_at) if online is False else None,
        silent_s=since(last_seen), home_active=home_active(since(home_seen)))


def battery_low(battery: float | None) -> bool:
    return battery is not None and battery <= BATTERY_LOW_PCT


# Night, in the enrollee's local hours [start, end): a door opened then is night wandering
# (analytics' clock) and marked on the enrollee page's timeline.
NIGHT_START_H: Final = 0.0
NIGHT_END_H: Final = 5.0
