"""Daily routine features of one day (NaN is no data, never 0)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.detectors.features import FEATURES, INDEX, DayData, daily_features
from dolbom.wire import EVENT_CODES


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
