"""The nightly cycle's read for one chunk of enrollees of one time zone and one local day
(SQL only, through analytics/queries): what its scoring takes, as frozen arrays."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import MappingProxyType

import numpy as np
import psycopg

from analytics.columns import Columns, frozen
from analytics.detectors import baselines, trends
from analytics.queries import people, readings
from analytics.queries.people import EnrolleeRow
from dolbom.rules import enrollee_zone
from dolbom.timeutil import utc
from dolbom.wire import METRIC_BY_NAME

STEPS = METRIC_BY_NAME["steps"].code
SLEEP = METRIC_BY_NAME["sleep_minutes"].code
WEIGHT = METRIC_BY_NAME["weight"].code
SBP = METRIC_BY_NAME["systolic_bp"].code
EVENTS_BEFORE_S = 6 * 3600.0  # the evening before day D: bedtime, the night's toilet visits
HISTORY_DAYS = trends.BASELINE_DAYS + 21  # daily features before day D the refit reads
WEIGHT_DAYS = 5
SBP_DAYS = 28


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=enrollee_zone(tz))


@dataclass(frozen=True, slots=True)
class DayInput:
    """What the nightly scoring of ``people`` (one time zone) for local ``day`` reads."""

    people: tuple[EnrolleeRow, ...]
    timezone: str
    day: date
    start: datetime  # local midnight that starts the day
    end: datetime  # and the one that ends it
    events: Columns  # from EVENTS_BEFORE_S before the day to its end
    steps: Columns  # enrollee_id, ts, value over the day
    sleep: Columns
    hourly: Columns  # enrollee_id, metric, ts (the hour), mean: the baseline metrics' last 4 weeks
    history: Mapping[int, Mapping[date, tuple[float, ...]]]  # stored daily features before the day
    weights: Columns  # enrollee_id, ts, value of the last WEIGHT_DAYS
    sbp: Columns  # of the last SBP_DAYS

    @property
    def history_start(self) -> date:
        return self.day - timedelta(days=HISTORY_DAYS)


def _series(
    conn: psycopg.Connection, ids: Sequence[int], metric: int, start: datetime, end: datetime
) -> Columns:
    rows = np.array(readings.metric_series(conn, ids, metric, start, end), dtype=float).reshape(-1, 3)
    return frozen({"enrollee_id": rows[:, 0].astype(np.int64), "ts": rows[:, 1], "value": rows[:, 2]})


def load_day(conn: psycopg.Connection, group: Sequence[EnrolleeRow], tz: str, day: date) -> DayInput:
    """The events, steps and sleep of ``day`` (features), four weeks of hourly means
    (baselines), the stored daily features before it, weights and systolic pressures (the
    refit and trends) of ``group``."""
    ids = [row[0] for row in group]
    start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    t0, t1 = start.timestamp(), end.timestamp()
    events = readings.events_in_windows(conn, ids, [t0 - EVENTS_BEFORE_S] * len(ids), [t1] * len(ids))
    steps = _series(conn, ids, STEPS, utc(t0), end)
    sleep = _series(conn, ids, SLEEP, utc(t0), end)
    four_weeks = end - timedelta(days=baselines.WINDOW_DAYS)
    means = readings.hourly_means(conn, ids, baselines.BASELINE_METRICS, four_weeks, end)
    hourly = np.array(means, dtype=float).reshape(-1, 4)
    history: dict[int, dict[date, tuple[float, ...]]] = defaultdict(dict)
    first_day = day - timedelta(days=HISTORY_DAYS)
    for e, d, vector in people.daily_features(conn, ids, first_day, day - timedelta(days=1)):
        history[e][d] = tuple(vector)
    weights = _series(conn, ids, WEIGHT, end - timedelta(days=WEIGHT_DAYS), end)
    sbp = _series(conn, ids, SBP, end - timedelta(days=SBP_DAYS), end)
    return DayInput(
        people=tuple(group),
        timezone=tz,
        day=day,
        start=start,
        end=end,
        events=frozen(events),
        steps=steps,
        sleep=sleep,
        hourly=frozen(
            {
                "enrollee_id": hourly[:, 0].astype(np.int64),
                "metric": hourly[:, 1].astype(np.int64),
                "ts": hourly[:, 2],
                "mean": hourly[:, 3],
            }
        ),
        history=MappingProxyType({e: MappingProxyType(days) for e, days in history.items()}),
        weights=weights,
        sbp=sbp,
    )
