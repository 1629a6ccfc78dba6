"""Alert lifecycle decisions (pure): when to raise, when a snooze holds, when a condition has
cleared long enough to auto-resolve, when an unacknowledged critical alert escalates.

Hysteresis has two halves: rules only report a *clearance* once a value is past a band on
the safe side (vital_rules.py ``clear_margin``), and an alert auto-resolves only after the
condition has stayed clear for ``CLEAR_AFTER_S[kind]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from analytics.findings import rank
from dolbom.alerts import AlertKind, AlertStatus, Severity

HOUR: Final = 3600.0
DAY: Final = 86400.0
NEVER_AUTO_RESOLVE: Final = frozenset({AlertKind.SOS, AlertKind.FALL})  # a person must look at these
# Kinds judged as a state each cycle (raise_alert is re-asserted at most hourly, not every minute).
STATE_KINDS: Final = frozenset(
    {
        AlertKind.INACTIVITY,
        AlertKind.NO_DATA,
        AlertKind.DEVICE_OFFLINE,
        AlertKind.LOW_BATTERY,
        AlertKind.MISSED_CHECKINS,
    }
)
# Kinds with no "cleared" reading: they clear by staying quiet for CLEAR_AFTER_S.
EPISODIC_KINDS: Final = frozenset({AlertKind.NIGHT_WANDERING, AlertKind.ROUTINE_CHANGE})
REASSERT_S: Final = HOUR
CLEAR_AFTER_S: Final[dict[AlertKind, float]] = {
    AlertKind.HYPERTENSIVE_CRISIS: HOUR,
    AlertKind.HYPOGLYCEMIA: HOUR,
    AlertKind.HYPERGLYCEMIA: 2 * HOUR,
    AlertKind.LOW_SPO2: HOUR,
    AlertKind.BRADYCARDIA: HOUR,
    AlertKind.TACHYCARDIA: HOUR,
    AlertKind.FEVER: 12 * HOUR,
    AlertKind.RAPID_WEIGHT_GAIN: 3 * DAY,
    AlertKind.RISING_BLOOD_PRESSURE: 7 * DAY,
    AlertKind.INACTIVITY: 30 * 60,
    AlertKind.NIGHT_WANDERING: 2 * DAY,
    AlertKind.ROUTINE_CHANGE: 3 * DAY,
    AlertKind.DECLINING_ACTIVITY: 7 * DAY,
    AlertKind.MISSED_CHECKINS: HOUR,
    AlertKind.NO_DATA: 30 * 60,
    AlertKind.DEVICE_OFFLINE: 30 * 60,
    AlertKind.LOW_BATTERY: HOUR,
}
ESCALATE_AFTER_S: Final = 5 * 60  # unacknowledged critical alert -> the region's centre staff

# A condition's breach or clearance seen at a data time: (enrollee id, kind, epoch seconds).
Mark = tuple[int, AlertKind, float]


@dataclass(frozen=True, slots=True)
class ActiveAlert:
    """An open or acknowledged alert as the lifecycle judges it (times in epoch seconds)."""

    alert_id: int
    enrollee_id: int
    kind: AlertKind
    severity: Severity
    status: AlertStatus
    last_seen_ts: float
    onset_ts: float
    snoozed_until_ts: float | None
    escalated: bool


def should_raise(kind: AlertKind, severity: Severity, active: ActiveAlert | None, now: float) -> bool:
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
    kind: AlertKind,
    last_breach_ts: float | None,
    last_clear_ts: float | None,
    last_seen_ts: float,
    now: float,
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
        active.severity == Severity.CRITICAL
        and active.status == AlertStatus.OPEN
        and not active.escalated
        and now - active.onset_ts >= ESCALATE_AFTER_S
    )
