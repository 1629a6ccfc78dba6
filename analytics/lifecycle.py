"""Alert lifecycle decisions (pure): when to raise, when a snooze holds, when a condition has
cleared long enough to auto-resolve, when an unacknowledged critical alert escalates. A
cycle's decisions come out as ``AlertChanges``, which analytics/queries/alerts.py writes.

Hysteresis has two halves: rules only report a *clearance* once a value is past a band on
the safe side (vital_rules.py ``clear_margin``), and an alert auto-resolves only after the
condition has stayed clear for ``CLEAR_AFTER_S[kind]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from analytics.findings import Finding, rank
from dolbom.alerts import AlertKind, AlertStatus, Severity
from dolbom.timeutil import utc

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


@dataclass(frozen=True, slots=True)
class AutoResolve:
    """Resolve an alert whose condition has been clear for long enough (``detail``: why)."""

    alert_id: int
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Escalation:
    """Escalate an unacknowledged critical alert to its region's centre staff."""

    alert_id: int
    reason: str


@dataclass(frozen=True, slots=True)
class AlertChanges:
    """What a cycle changes, in the order it is written: the findings that go through
    ``raise_alert``, the alerts whose snooze a worse level ends, the conditions' breach and
    clearance times, then auto-resolve and escalation."""

    raised: tuple[Finding, ...] = ()
    snooze_ended: tuple[int, ...] = ()
    breaches: tuple[Mark, ...] = ()
    clears: tuple[Mark, ...] = ()
    follow_ups: tuple[AutoResolve | Escalation, ...] = ()


def raising(
    findings: Sequence[Finding], active: Mapping[tuple[int, AlertKind], ActiveAlert], now: float
) -> AlertChanges:
    """Which findings are raised (``should_raise`` against the active alert of their kind),
    whose snooze a worse level ends, and the breach every finding marks: its onset (never
    after ``now``), a state kind's at ``now``."""
    raised: list[Finding] = []
    ended: list[int] = []
    for f in findings:
        current = active.get((f.enrollee_id, f.kind))
        if not should_raise(f.kind, f.severity, current, now):
            continue
        raised.append(f)
        if current is not None and current.snoozed_until_ts is not None and now < current.snoozed_until_ts:
            ended.append(current.alert_id)
    breaches = tuple(
        (f.enrollee_id, f.kind, now if f.kind in STATE_KINDS else min(f.onset_ts, now)) for f in findings
    )
    return AlertChanges(raised=tuple(raised), snooze_ended=tuple(ended), breaches=breaches)


def _latest(marks: Iterable[Mark]) -> dict[tuple[int, AlertKind], float]:
    latest: dict[tuple[int, AlertKind], float] = {}
    for e, kind, t in marks:
        latest[(e, kind)] = max(t, latest.get((e, kind), t))
    return latest


def _raised(alert: ActiveAlert, finding: Finding, now: float) -> ActiveAlert:
    """``alert`` as ``raise_alert`` leaves it after ``finding`` (store/alerts/queries.py's
    upsert): seen at the finding's onset, never a lower severity, re-opened by a worse one."""
    at = min(finding.onset_ts, now)
    worse = rank(finding.severity) > rank(alert.severity)
    return dataclasses.replace(
        alert,
        last_seen_ts=max(alert.last_seen_ts, at),
        onset_ts=min(alert.onset_ts, at),
        severity=finding.severity if worse else alert.severity,
        status=AlertStatus.OPEN if worse else alert.status,
    )


def follow_ups(
    active: Sequence[ActiveAlert],
    conditions: Mapping[tuple[int, AlertKind], tuple[float | None, float | None]],
    changes: AlertChanges,
    now: float,
) -> tuple[AutoResolve | Escalation, ...]:
    """Auto-resolve and escalation of the ``active`` alerts (in their order) once ``changes``
    are written: each alert as its raise leaves it, each condition's breach and clearance
    times (``conditions``, as stored) moved by the changes' marks. An alert opened by
    ``changes`` is judged from the next cycle on (it was seen at this one's data time)."""
    raised = {(f.enrollee_id, f.kind): f for f in changes.raised}
    breaches, clears = _latest(changes.breaches), _latest(changes.clears)
    out: list[AutoResolve | Escalation] = []
    for alert in active:
        key = (alert.enrollee_id, alert.kind)
        if key in raised:
            alert = _raised(alert, raised[key], now)
        stored_breach, stored_clear = conditions.get(key, (None, None))
        breach = max((t for t in (stored_breach, breaches.get(key)) if t is not None), default=None)
        clear = max((t for t in (stored_clear, clears.get(key)) if t is not None), default=None)
        if auto_resolve_due(alert.kind, breach, clear, alert.last_seen_ts, now):
            detail = {
                "reason": "condition cleared",
                "cleared_at": None if clear is None else utc(clear).isoformat(),
                "clear_after_s": CLEAR_AFTER_S[alert.kind],
                "data_time": utc(now).isoformat(),
            }
            out.append(AutoResolve(alert.alert_id, detail))
        elif escalation_due(alert, now):
            out.append(
                Escalation(alert.alert_id, f"critical alert unacknowledged for {ESCALATE_AFTER_S / 60:g} min")
            )
    return tuple(out)
