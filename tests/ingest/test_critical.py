"""ingest.critical: the on-arrival rules, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dolbom.alerts import AlertKind, Severity
from dolbom.rules import CONFIRM_WINDOW_S
from dolbom.wire import METRIC_BY_NAME
from ingest import critical


def test_every_rule_is_critical_at_once_or_confirmed_within_its_window() -> None:
    for rule in critical.RULES:
        window = critical.confirm_window(rule.kind)
        if rule.kind in critical.CRITICAL_ON_FIRST:
            assert window is None
            assert critical.severity_for(rule.kind, 1) is Severity.CRITICAL
        else:
            assert window == timedelta(seconds=CONFIRM_WINDOW_S[rule.kind])
            assert critical.severity_for(rule.kind, 1) is Severity.HIGH
            assert critical.severity_for(rule.kind, 2) is Severity.CRITICAL


def test_confirm_lines_follow_the_enrollee_overrides() -> None:
    code = {name: metric.code for name, metric in METRIC_BY_NAME.items()}
    assert sorted(critical.confirm_lines(AlertKind.HYPERTENSIVE_CRISIS, {"sbp_crisis": 200})) == [
        (code["systolic_bp"], "ge", 200.0), (code["diastolic_bp"], "ge", 120.0)]
    assert critical.confirm_lines(AlertKind.LOW_SPO2, None) == [(code["spo2"], "le", 88.0)]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd"])
def test_local_time_of_an_unknown_zone_is_seoul_time(zone: str) -> None:
    ts = datetime(2026, 3, 2, 23, 15, tzinfo=UTC)
    assert critical.local_time(ts, zone, ts) == "08:15"  # Asia/Seoul, UTC+9
    assert critical.local_time(ts, "Europe/London", ts) == "23:15"


def test_confirmation_evidence_names_the_kinds_window() -> None:
    ts = datetime(2026, 3, 2, 8, tzinfo=UTC)
    [spo2] = critical.breaches("spo2", ts, 86.0, "band-1", None)
    evidence = critical.reading_evidence([spo2], 2)
    assert evidence["confirmation"] == {
        "window_min": CONFIRM_WINDOW_S[AlertKind.LOW_SPO2] / 60, "readings_past_line": 2}
    [glucose] = critical.breaches("glucose", ts, 45.0, "meter-1", None)
    assert "confirmation" not in critical.reading_evidence([glucose], None)


def test_reading_evidence_names_each_breach_with_its_line() -> None:
    """What dolbom.summaries renders a reading's summary from in each language."""
    ts = datetime(2026, 3, 2, 8, tzinfo=UTC)
    found = critical.breaches("systolic_bp", ts, 186.0, "cuff-1", {"sbp_crisis": 170})
    evidence = critical.reading_evidence(found, 1, {"systolic_bp": 186.0, "diastolic_bp": 95.0})
    assert evidence["breaches"] == [{
        "metric": "systolic_bp", "value": 186.0, "unit": "mmHg", "ts": ts.isoformat(),
        "device_id": "cuff-1", "threshold": "sbp_crisis", "line": 170, "comparison": "ge"}]
    assert evidence["bp"] == {"systolic_bp": 186.0, "diastolic_bp": 95.0}
    assert evidence["readings"][0]["value"] == 186.0  # as before, for API clients
    # without the pair, the crisis keeps the values that crossed the line
    assert critical.reading_evidence(found, 1)["bp"] == {"systolic_bp": 186.0}
    [glucose] = critical.breaches("glucose", ts, 45.0, "meter-1", None)
    assert "bp" not in critical.reading_evidence([glucose], None)


def test_event_evidence_carries_what_the_summary_needs_at_the_top() -> None:
    ts = datetime(2026, 3, 2, 17, 17, tzinfo=UTC)
    evidence = critical.event_evidence("sos", ts, "spk-1", "ai_speaker", "living", {"phrase": "help"})
    assert {k: evidence[k] for k in ("event_type", "event_ts", "device_id", "device_kind", "room")} == {
        "event_type": "sos", "event_ts": ts.isoformat(), "device_id": "spk-1",
        "device_kind": "ai_speaker", "room": "living"}
    assert evidence["events"][0]["data"] == {"phrase": "help"}
