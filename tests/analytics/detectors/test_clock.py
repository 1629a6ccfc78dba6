"""The clock conditions: inactivity, no data, missed check-ins, devices, night wandering."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.detectors import clock


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
