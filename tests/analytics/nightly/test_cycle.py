"""The nightly job: daily features, personal models and a routine_change a nurse can read."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import psycopg

from analytics.detectors.features import INDEX
from analytics.nightly.score import as_stored
from analytics.queries.people import daily_features, save_daily_features
from analytics.service import run_once
from tests.analytics.conftest import alerts_of, store_events
from tests.factories import make_device

SEOUL = ZoneInfo("Asia/Seoul")
DAY0 = datetime(2026, 10, 1, tzinfo=SEOUL)


def routine_day(day: datetime, toilet_visits: int) -> tuple[list, list]:
    bathroom, elsewhere = [], []
    elsewhere.append((day - timedelta(hours=2), "bed_entry", None))
    for i in range(toilet_visits):
        bathroom.append((day + timedelta(hours=1, minutes=30 * i), "toilet", None))
    elsewhere.append((day + timedelta(hours=7), "bed_exit", None))
    for hour in range(7, 22):
        elsewhere.append((day + timedelta(hours=hour, minutes=15), "motion", None))
    return bathroom, elsewhere


def test_nightly_features_and_routine_change(db_url: str, db: psycopg.Connection, enrollee: int) -> None:
    toilet, _ = make_device(db, enrollee, "motion_sensor", room="bathroom")
    living, _ = make_device(db, enrollee, "motion_sensor", room="living")
    for d in range(22):
        day = DAY0 + timedelta(days=d)
        bathroom, elsewhere = routine_day(day, 7 if d >= 20 else 1 + d % 2)  # two bad nights
        store_events(db, toilet, enrollee, bathroom)
        store_events(db, living, enrollee, elsewhere)
    now = DAY0 + timedelta(days=22, minutes=10)
    results = run_once(db_url, now)
    assert results["nightly"]["days"] >= 22
    features = db.execute(
        "SELECT features FROM analytics_daily_features WHERE enrollee_id = %s AND day = %s",
        (enrollee, (DAY0 + timedelta(days=21)).date()),
    ).fetchone()[0]
    assert features[INDEX["night_toilet_visits"]] == 7
    assert features[INDEX["first_activity_h"]] == 7.0
    rows = alerts_of(db, enrollee)
    assert [(r[0], r[2]) for r in rows] == [("routine_change", "open")]
    assert "toilet visits last night: 7; usual 1–2" in rows[0][4]
    assert rows[0][5]["moved"][0]["feature"] == "night_toilet_visits"
    params = db.execute(
        "SELECT params FROM analytics_person_models WHERE enrollee_id = %s", (enrollee,)
    ).fetchone()[0]
    assert params["personal"] is True and 0.9 < params["gap_p90_h"] < 1.1
    # the next run finds nothing new to do
    assert run_once(db_url, now + timedelta(minutes=1))["nightly"]["days"] == 0


def test_todays_features_are_refitted_as_the_store_returns_them(
    db: psycopg.Connection, enrollee: int
) -> None:
    """The refit reads the day's features from memory (no read-back within the cycle), as the
    ``real[]`` column would return them."""
    rng = np.random.default_rng(3)
    vector = [*rng.normal(0, 1, 6) * 10.0 ** rng.integers(-2, 4, 6), 420.5, 37.9, 1 / 3, 7.0, np.nan, 0.1]
    save_daily_features(db, [(enrollee, DAY0.date(), vector)])
    ((stored,),) = db.execute(
        "SELECT features FROM analytics_daily_features WHERE enrollee_id = %s", (enrollee,)
    ).fetchall()
    ((_, _, read_back),) = daily_features(db, [enrollee], DAY0.date(), DAY0.date())
    assert np.array_equal(np.array(read_back), np.array(stored), equal_nan=True)
    assert np.array_equal(np.array(as_stored(vector)), np.array(stored), equal_nan=True)
