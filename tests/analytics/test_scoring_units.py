"""NEWS2, baselines, features, trends, clock conditions and lifecycle decisions (pure)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics import lifecycle
from analytics.detectors import clock, news2, trends
from analytics.detectors.baselines import BaselineTable, fit, time_bin
from analytics.detectors.features import FEATURES, INDEX, DayData, daily_features
from dolbom.wire import EVENT_CODES


@pytest.mark.parametrize(
    ("parameter", "value", "points"),
    [
        ("spo2", 91, 3),
        ("spo2", 92, 2),
        ("spo2", 95, 1),
        ("spo2", 96, 0),
        ("heart_rate", 40, 3),
        ("heart_rate", 41, 1),
        ("heart_rate", 90, 0),
        ("heart_rate", 131, 3),
        ("respiratory_rate", 8, 3),
        ("respiratory_rate", 12, 0),
        ("respiratory_rate", 25, 3),
        ("body_temp", 35.0, 3),
        ("body_temp", 38.1, 1),
        ("body_temp", 39.1, 2),
        ("systolic_bp", 90, 3),
        ("systolic_bp", 111, 0),
        ("systolic_bp", 220, 3),
    ],
)
def test_news2_bands(parameter: str, value: float, points: int) -> None:
    assert news2.points(parameter, value) == points


def test_news2_partial_names_missing_parameters() -> None:
    result = news2.partial_score({"spo2": 90, "heart_rate": 120})
    assert result["score"] == 5 and "respiratory_rate" in result["missing"]  # type: ignore[operator]


def test_baseline_fit_is_robust_to_outliers_and_lookup_falls_back() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(70, 3, 200)
    values[:5] = 200  # a few artefacts
    bins = time_bin(np.tile(np.arange(24), 9)[:200])
    fitted = fit(values, bins, np.arange(200) // 24, sigma_floor=1.0)
    for median, sigma, _ in fitted.values():
        assert 68 < median < 72 and 2 < sigma < 5
    table = BaselineTable.empty(2)
    table.median[0, 1, :], table.sigma[0, 1, :], table.days[0, 1] = 60, 3, 20
    median, sigma, personal = table.lookup(np.array([0, 1]), 1, np.array([0, 0]))
    assert list(personal) == [True, False] and median[1] == 72.0  # population default


def day_data(
    events: list[tuple[float, str, bool]],
    steps: list[tuple[float, float]] = (),
    sleep: list[tuple[float, float]] = (),
) -> DayData:
    codes = np.array([EVENT_CODES[t] for _, t, _ in events], dtype=np.int64)
    return DayData(
        codes,
        np.array([h for h, _, _ in events], dtype=float),
        np.array([b for _, _, b in events], dtype=bool),
        np.array([1.0 if t == "checkin" else np.nan for _, t, _ in events]),
        np.array([4.0 if t == "checkin" else np.nan for _, t, _ in events]),
        np.array([h for h, _ in steps], dtype=float),
        np.array([v for _, v in steps], dtype=float),
        np.array([h for h, _ in sleep], dtype=float),
        np.array([v for _, v in sleep], dtype=float),
    )


def test_daily_features_of_a_simple_day() -> None:
    events = [
        (-1.5, "bed_entry", False),
        (2.0, "toilet", True),
        (2.05, "motion", True),
        (4.0, "toilet", True),
        (7.0, "bed_exit", False),
        (7.1, "motion", False),
        (10.0, "door_open", False),
        (12.0, "door_close", False),
        (12.1, "motion", False),
        (15.0, "motion", False),
        (19.0, "checkin", False),
        (21.0, "motion", False),
    ]
    f = daily_features(day_data(events, steps=[(9.0, 500.0), (12.5, 300.0)], sleep=[(7.0, 480.0)]))
    assert f[INDEX["sleep_minutes"]] == 480
    assert f[INDEX["bed_time_h"]] == -1.5
    assert f[INDEX["night_toilet_visits"]] == 2  # 02:00 and 02:03 are one visit
    assert f[INDEX["first_activity_h"]] == 7.0 and f[INDEX["last_activity_h"]] == 21.0
    assert f[INDEX["steps"]] == 800 and f[INDEX["checkins_answered"]] == 1 and f[INDEX["mood"]] == 4
    assert f[INDEX["time_out_h"]] == pytest.approx(2.0)
    assert f[INDEX["longest_gap_h"]] == pytest.approx(4.0)  # 15:00 -> 19:00
    assert f[INDEX["night_door_opens"]] == 0


def test_daily_features_without_data_are_nan_not_zero() -> None:
    f = daily_features(day_data([]))
    assert f.shape == (len(FEATURES),) and np.isnan(f).all()


def test_theil_sen_and_declining_activity() -> None:
    days = np.arange(30, dtype=float)
    slope, low, high = trends.theil_sen(days, 100 - 2 * days)
    assert slope == pytest.approx(-2) and low <= slope <= high
    rng = np.random.default_rng(0)
    normal = rng.normal(4000, 300, 49)
    assert not trends.declining_activity(normal).alert
    declining = normal.copy()
    declining[-14:] = np.linspace(3500, 1500, 14)
    verdict = trends.declining_activity(declining)
    assert verdict.alert and verdict.recent < 0.75 * verdict.usual
    assert not trends.declining_activity(normal[:10]).enough_history  # cold start: no judgement


@pytest.mark.parametrize(("gain", "alert"), [(2.0, False), (2.1, True)])
def test_weight_gain_esc_two_kg_in_three_days(gain: float, alert: bool) -> None:
    days = np.array([10.2, 11.2, 12.2, 13.2])
    weights = np.array([60.0, 60.5, 61.0, 60.0 + gain])
    assert trends.weight_gain(days, weights, today=14.0, limit_kg=2.0).alert is alert


def state(**overrides: object) -> clock.ActivityState:
    base: dict[str, object] = dict(
        enrollee_id=np.array([1]),
        utc_offset_s=np.array([0.0]),
        has_home_sensors=np.array([True]),
        has_speaker=np.array([True]),
        has_continuous=np.array([True]),
        last_data_ts=np.array([0.0]),
        last_activity_ts=np.array([0.0]),
        last_door_ts=np.array([np.nan]),
        last_checkin_ts=np.array([np.nan]),
        last_answered_ts=np.array([np.nan]),
        unanswered_in_row=np.array([0]),
        wake_h=np.array([np.nan]),
        sleep_h=np.array([np.nan]),
        gap_p90_h=np.array([np.nan]),
    )
    base.update(overrides)
    return clock.ActivityState(**base)  # type: ignore[arg-type]


DAY = 86400.0 * 100  # a midnight (UTC offset 0)


@pytest.mark.parametrize(("gap_h", "fires"), [(4.4, False), (4.6, True)])
def test_inactivity_cold_start_limit(gap_h: float, fires: bool) -> None:
    now = DAY + 14 * 3600
    s = state(last_activity_ts=np.array([now - gap_h * 3600]), last_data_ts=np.array([now]))
    findings, _ = clock.inactivity(s, now)
    assert bool(findings) is fires
    if fires:
        assert "cold start" in findings[0].summary


def test_inactivity_uses_personal_gap_and_respects_away_and_night() -> None:
    now = DAY + 14 * 3600
    s = state(
        last_activity_ts=np.array([now - 3.5 * 3600]),
        gap_p90_h=np.array([2.0]),
        last_data_ts=np.array([now - 600]),
    )
    assert clock.inactivity(s, now)[0]  # 3.5 h > max(3, 1.5 x 2.0)
    silent = state(last_activity_ts=np.array([now - 20 * 3600]), last_data_ts=np.array([now - 17 * 3600]))
    assert not clock.inactivity(silent, now)[0]  # the whole kit is silent: that is no_data
    away = state(last_activity_ts=np.array([now - 8 * 3600]), last_door_ts=np.array([now - 8 * 3600]))
    assert not clock.inactivity(away, now)[0]
    night = DAY + 2 * 3600
    assert not clock.inactivity(state(last_activity_ts=np.array([night - 6 * 3600])), night)[0]


@pytest.mark.parametrize(("silent_h", "fires"), [(15.9, False), (16.1, True)])
def test_no_data(silent_h: float, fires: bool) -> None:
    s = state(last_data_ts=np.array([DAY - silent_h * 3600]))
    assert bool(clock.no_data(s, DAY)[0]) is fires


def test_missed_checkins_two_in_a_row() -> None:
    one = state(
        unanswered_in_row=np.array([1]), last_checkin_ts=np.array([DAY]), last_answered_ts=np.array([DAY])
    )
    assert not clock.missed_checkins(one, DAY + 3600)[0]
    two = state(
        unanswered_in_row=np.array([2]), last_checkin_ts=np.array([DAY]), last_answered_ts=np.array([DAY])
    )
    assert clock.missed_checkins(two, DAY + 3600)[0]


def test_devices_battery_and_offline_with_hysteresis() -> None:
    act = state(last_data_ts=np.array([DAY]))
    devs = clock.DeviceState(
        enrollee=np.array([0, 0]),
        device_id=["w1", "m1"],
        kind=["wearable", "motion_sensor"],
        online=np.array([1.0, 0.0]),
        status_ts=np.array([DAY, DAY - 3600]),
        battery=np.array([15.0, 20.0]),
        last_ts=np.array([DAY, DAY - 3600]),
    )
    offline, battery, off_clear, batt_clear = clock.devices(devs, act, DAY)
    assert [f.kind for f in offline] == ["device_offline"] and "m1" in offline[0].summary
    assert [f.severity for f in battery] == ["low"] and not batt_clear[0] and not off_clear[0]
    half = clock.DeviceState(
        devs.enrollee,
        devs.device_id,
        devs.kind,
        np.array([1.0, 1.0]),
        devs.status_ts,
        np.array([25.0, 40.0]),
        devs.last_ts,
    )
    _, battery, off_clear, batt_clear = clock.devices(half, act, DAY)
    assert battery == [] and not batt_clear[0] and off_clear[0]  # 25 % is in the hysteresis band


def test_night_wandering_unusual_only() -> None:
    doors = np.array([DAY + 2 * 3600, DAY + 2 * 3600])
    found = clock.night_wandering(
        np.array([0, 1]), doors, np.zeros(2), np.array([0.0, 0.5]), np.array([20, 20])
    )
    assert [f.enrollee_id for f in found] == [0]  # enrollee 1 opens the door on half her nights
    assert not clock.night_wandering(
        np.array([0]), np.array([DAY + 8 * 3600]), np.zeros(1), np.zeros(1), np.array([20])
    )


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


def test_declining_activity_missing_first_day_keeps_the_baseline() -> None:
    """A day without data (enrolled at noon, band off) shrinks the monitored stretch; it must
    not leave the baseline one day short forever (the simulator's declines went unjudged)."""
    rng = np.random.default_rng(1)
    series = rng.normal(4000, 300, 28)
    series[8:] *= np.linspace(1.0, 0.6, 20)
    series[0] = np.nan
    verdict = trends.declining_activity(series)
    assert verdict.enough_history and verdict.alert
    assert np.isfinite(verdict.usual)


def test_declining_activity_recent_level_uses_mean_or_median() -> None:
    """One very low day in the last week pulls the mean, not the median; either at 20 % below
    the usual (with the CUSUM or slope) is a decline, and a flat week at 10 % below is not."""
    base = np.full(14, 5000.0) + np.tile([200.0, -200.0], 7)
    flat = np.concatenate([base, np.full(14, 4500.0)])
    assert not trends.declining_activity(flat).alert
    dropped = np.concatenate([base, np.linspace(4800, 3500, 14)])
    assert trends.declining_activity(dropped).alert


def test_weight_findings_on_arrival_ignore_later_readings() -> None:
    from analytics.detectors.weight import weight_findings

    days = np.array([10.3, 11.3, 12.3, 13.3, 14.3])
    kg = np.array([60.0, 60.3, 60.1, 62.2, 64.0])
    (finding,) = weight_findings(1, days, kg, 13.3 * 86400, 2.0)
    assert finding.kind == "rapid_weight_gain" and finding.onset_ts == 13.3 * 86400
    assert finding.evidence["gain_kg"] == pytest.approx(2.2)
    assert weight_findings(1, days[:3], kg[:3], 12.3 * 86400, 2.0) == []
    assert weight_findings(1, days, kg, 13.3 * 86400, 2.5) == []  # a centre's override


@pytest.mark.parametrize(
    ("usual_gap_h", "gap_h", "fires"), [(3.0, 3.4, False), (3.0, 3.6, True), (1.0, 3.1, True)]
)
def test_inactivity_personal_limit_is_capped(usual_gap_h: float, gap_h: float, fires: bool) -> None:
    """1.5 x a usual 3 h gap would be 4.5 h; the operational cap makes it 3.5 h (and the floor 3 h)."""
    now = DAY + 14 * 3600
    s = state(
        last_activity_ts=np.array([now - gap_h * 3600]),
        gap_p90_h=np.array([usual_gap_h]),
        last_data_ts=np.array([now - 600]),
    )
    findings, _ = clock.inactivity(s, now)
    assert bool(findings) is fires
    if fires:
        assert findings[0].evidence["limit_h"] == (3.5 if usual_gap_h == 3.0 else 3.0)


def test_weight_on_arrival_not_confused_by_yesterdays_later_weighing() -> None:
    """Yesterday at 07:10, today at 07:00: yesterday's lower weight is not "today's"."""
    from analytics.detectors.weight import weight_findings

    days = np.array([10.30, 11.30, 12.30, 13.297, 14.29])
    kg = np.array([60.0, 60.1, 60.8, 61.6, 62.3])
    (finding,) = weight_findings(1, days, kg, 14.29 * 86400, 2.0)
    assert finding.evidence["latest_kg"] == 62.3 and finding.evidence["reference_kg"] == 60.1


def test_night_toilet_visits_count_flushes_close_together() -> None:
    """Three visits 8 min apart: motion merges them (10 min), the three flushes do not."""
    events: list[tuple[float, str, bool]] = []
    for start in (2.0, 2.0 + 8 / 60, 2.0 + 16 / 60):
        events += [
            (start, "motion", True),
            (start + 4 / 60, "toilet", True),
            (start + 5 / 60, "motion", True),
        ]
    f = daily_features(day_data(events))
    assert f[INDEX["night_toilet_visits"]] == 3
    one = [(2.0, "toilet", True), (2.02, "toilet", True)]  # a double flush is one visit
    assert daily_features(day_data(one))[INDEX["night_toilet_visits"]] == 1
