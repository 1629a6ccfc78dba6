"""Alert lifecycle decisions (pure): when to raise, when a snooze holds, when a condition has
cleared long enough to auto-resolve, when an unacknowledged critical alert escalates.

Hysteresis has two halves: rules only report a *clearance* once a value is past a band on
the safe side (rules.py ``clear_margin``), and an alert auto-resolves only after the
condition has stayed clear for ``CLEAR_AFTER_S[kind]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from analytics.findings import rank

HOUR: Final = 3600.0
DAY: Final = 86400.0
NEVER_AUTO_RESOLVE: Final = frozenset({"sos", "fall"})  # a person must look at these
# Kinds judged as a state each cycle (raise_alert is re-asserted at most hourly, not every minute).
STATE_KINDS: Final = frozenset({"inactivity", "no_data", "device_offline", "low_battery", "missed_checkins"})
# Kinds with no "cleared" reading: they clear by staying quiet for CLEAR_AFTER_S.
EPISODIC_KINDS: Final = frozenset({"night_wandering", "routine_change"})
REASSERT_S: Final = HOUR
CLEAR_AFTER_S: Final[dict[str, float]] = {
    "hypertensive_crisis": HOUR,
    "hypoglycemia": HOUR,
    "hyperglycemia": 2 * HOUR,
    "low_spo2": HOUR,
    "bradycardia": HOUR,
    "tachycardia": HOUR,
    "fever": 12 * HOUR,
    "rapid_weight_gain": 3 * DAY,
    "rising_blood_pressure": 7 * DAY,
    "inactivity": 30 * 60,
    "night_wandering": 2 * DAY,
    "routine_change": 3 * DAY,
    "declining_activity": 7 * DAY,
    "missed_checkins": HOUR,
    "no_data": 30 * 60,
    "device_offline": 30 * 60,
    "low_battery": HOUR,
}
ESCALATE_AFTER_S: Final = 5 * 60  # unacknowledged critical alert -> the region's centre staff


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    alert_id: int
    enrollee_id: int
    kind: str
    severity: str
    status: str
    last_seen_ts: float
    onset_ts: float
    snoozed_until_ts: float | None
    escalated: bool


def should_raise(kind: str, severity: str, active: ActiveAlert | None, now: float) -> bool:
    """Whether a finding goes through raise_alert (opens, or updates the active alert)."""
    if active is None:
        return True
    worse = rank(severity) > rank(active.severity)
    if active.snoozed_until_ts is not None and now < active.snoozed_until_ts and not worse:
        return False  # a snooze holds the same or a lower level, never a worse one
    if kind in STATE_KINDS and not worse:
        return now - active.last_seen_ts >= REASSERT_S
    return True


def auto_resolve_due(
    kind: str, last_breach_ts: float | None, last_clear_ts: float | None, last_seen_ts: float, now: float
) -> bool:
    """True once the condition has been clear for CLEAR_AFTER_S[kind]."""
    if kind in NEVER_AUTO_RESOLVE or kind not in CLEAR_AFTER_S:
        return False
    latest_breach = max(last_seen_ts, last_breach_ts if last_breach_ts is not None else -1e18)
    quiet = now - latest_breach >= CLEAR_AFTER_S[kind]
    if kind in EPISODIC_KINDS:
        return quiet
    return quiet and last_clear_ts is not None and last_clear_ts > latest_breach


def escalation_due(active: ActiveAlert, now: float) -> bool:
    return (
        active.severity == "critical"
        and active.status == "open"
        and not active.escalated
        and now - active.onset_ts >= ESCALATE_AFTER_S
    )


def ts(moment: datetime) -> float:
    return moment.timestamp()


def snooze_until(now: datetime, minutes: float) -> datetime:
    return now + timedelta(minutes=minutes)
