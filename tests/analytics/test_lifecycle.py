"""Alert lifecycle decisions (pure): raise, snooze, re-assert, auto-resolve, escalate."""

from __future__ import annotations

import pytest

from analytics import lifecycle
from analytics.findings import Finding
from dolbom.alerts import AlertKind, Severity


def active(**kw: object) -> lifecycle.ActiveAlert:
    base: dict[str, object] = dict(
        alert_id=1,
        enrollee_id=1,
        kind="hypoglycemia",
        severity="high",
        status="open",
        last_seen_ts=0.0,
        onset_ts=0.0,
        snoozed_until_ts=None,
        escalated=False,
    )
    base.update(kw)
    return lifecycle.ActiveAlert(**base)  # type: ignore[arg-type]


def test_snooze_never_hides_a_worse_level() -> None:
    snoozed = active(snoozed_until_ts=1000.0)
    assert not lifecycle.should_raise("hypoglycemia", "high", snoozed, 500)
    assert lifecycle.should_raise("hypoglycemia", "critical", snoozed, 500)
    assert lifecycle.should_raise("hypoglycemia", "high", snoozed, 1001)


def test_state_kinds_reassert_hourly_only() -> None:
    a = active(kind="inactivity", last_seen_ts=0.0)
    assert not lifecycle.should_raise("inactivity", "high", a, 600)
    assert lifecycle.should_raise("inactivity", "high", a, 3600)


@pytest.mark.parametrize(
    ("clear_ts", "now", "due"),
    [(None, 10_000, False), (100.0, 3000, False), (100.0, 3700, True), (-5.0, 10_000, False)],
)
def test_auto_resolve_needs_a_clear_reading_and_time(clear_ts: float | None, now: float, due: bool) -> None:
    assert lifecycle.auto_resolve_due("hypoglycemia", 0.0, clear_ts, 0.0, now) is due
    assert not lifecycle.auto_resolve_due("sos", 0.0, 100.0, 0.0, 10**9)


def test_escalation_of_unacknowledged_critical() -> None:
    assert lifecycle.escalation_due(active(severity="critical"), 300)
    assert not lifecycle.escalation_due(active(severity="critical"), 299)
    assert not lifecycle.escalation_due(active(severity="critical", status="acknowledged"), 900)
    assert not lifecycle.escalation_due(active(severity="high"), 900)


def finding(kind: AlertKind, severity: Severity, onset_ts: float, enrollee_id: int = 1) -> Finding:
    return Finding(enrollee_id, kind, severity, onset_ts, f"{kind} {severity}")


def test_raising_ends_a_snooze_only_for_a_worse_level_and_marks_every_breach() -> None:
    snoozed = active(alert_id=7, snoozed_until_ts=10_000.0)
    current = {(1, AlertKind.HYPOGLYCEMIA): snoozed}
    same = lifecycle.raising([finding(AlertKind.HYPOGLYCEMIA, Severity.HIGH, 400.0)], current, 500.0)
    assert same.raised == () and same.snooze_ended == ()
    assert same.breaches == ((1, AlertKind.HYPOGLYCEMIA, 400.0),)  # held by the snooze, still a breach
    worse = lifecycle.raising([finding(AlertKind.HYPOGLYCEMIA, Severity.CRITICAL, 600.0)], current, 500.0)
    assert [f.severity for f in worse.raised] == [Severity.CRITICAL] and worse.snooze_ended == (7,)
    assert worse.breaches == ((1, AlertKind.HYPOGLYCEMIA, 500.0),)  # never after now
    state = lifecycle.raising([finding(AlertKind.INACTIVITY, Severity.HIGH, 100.0)], {}, 500.0)
    assert state.breaches == ((1, AlertKind.INACTIVITY, 500.0),)  # a state is breached now


def test_follow_ups_judge_the_alerts_as_the_cycle_leaves_them() -> None:
    hour = 3600.0
    quiet = active(alert_id=1, kind=AlertKind.NO_DATA, severity=Severity.MEDIUM, last_seen_ts=0.0)
    critical = active(alert_id=2, enrollee_id=2, severity=Severity.CRITICAL, onset_ts=0.0, last_seen_ts=0.0)
    stored: dict[tuple[int, AlertKind], tuple[float | None, float | None]] = {
        (1, AlertKind.NO_DATA): (0.0, None)
    }
    # no data cleared this cycle (a mark), 30 min after the last breach: resolved
    cleared = lifecycle.AlertChanges(clears=((1, AlertKind.NO_DATA, hour),))
    (resolve, escalate) = lifecycle.follow_ups([quiet, critical], stored, cleared, hour)
    assert isinstance(resolve, lifecycle.AutoResolve) and resolve.alert_id == 1
    assert resolve.detail["clear_after_s"] == 1800 and resolve.detail["cleared_at"] is not None
    assert isinstance(escalate, lifecycle.Escalation) and escalate.alert_id == 2
    # the same condition raised again this cycle: seen now, neither quiet nor resolved
    again = lifecycle.AlertChanges(
        raised=(finding(AlertKind.NO_DATA, Severity.MEDIUM, hour),),
        breaches=((1, AlertKind.NO_DATA, hour),),
        clears=((1, AlertKind.NO_DATA, hour),),
    )
    assert lifecycle.follow_ups([quiet], stored, again, hour) == ()
    # nothing cleared: not resolved (a clearance is needed, not only time)
    assert lifecycle.follow_ups([quiet], stored, lifecycle.AlertChanges(), hour) == ()
