"""Every figure of the regional report and the personal summary, against hand-computed values.

The data are written by ``conftest.build_known_region``; each expected value below is worked
out from that data in the comment next to it.
"""

from __future__ import annotations

from datetime import timedelta
from statistics import median

import psycopg
import pytest

from dolbom.rules import (
    BATTERY_LOW_PCT,
    DEFAULT_TIMEZONE,
    DEVICE_OFFLINE_AFTER_S,
    HOME_ACTIVE_WITHIN_S,
    WEARABLE_SILENT_H,
    battery_low,
    device_row_offline,
)
from reports.service import enrollee_summary, regional_report
from tests.reports.conftest import AS_OF, KnownRegion, sep, set_device


@pytest.fixture
def report(db: psycopg.Connection, known: KnownRegion) -> dict:
    return regional_report(db, known.region_id, "2026-09", as_of=AS_OF)


def linear_percentile(values: list[float], q: float) -> float:
    """The textbook linear-interpolation percentile (numpy's default), written out by hand."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_enrollee_counts(report: dict) -> None:
    # A, B, C are active and enrolled by the end of September; C enrolled on Sep 16 (new) and
    # has no data; D is inactive; E enrolled in October; F lives in another region.
    assert report["enrollees"] == {"active": 3, "new": 1, "without_data": 1, "inactive": 1}
    assert [row["name"] for row in report["enrollees_detail"]] == ["김영희", "박철수", "이순자"]


def test_adherence(report: dict) -> None:
    adherence = report["adherence"]
    # BP monitors: A (10 BP days of 30), B (30 of 30), C (0 of 15 days since Sep 16).
    assert adherence["bp"] == {"population": 3, "days": 40, "days_observed": 75,
                               "share": round(40 / 75, 4)}
    # Diabetics: A (20 glucose days of 30), C (0 of 15).
    assert adherence["glucose"] == {"population": 2, "days": 20, "days_observed": 45,
                                    "share": round(20 / 45, 4)}
    # Bands: A worn 12 h on days 0-14 and 9 h on days 15-19 -> 15 days >= 10 h; B's band
    # sends one steps reading a day -> 1 worn hour, no wear day.
    assert adherence["wear"]["days"] == 15
    assert adherence["wear"]["days_observed"] == 60
    assert adherence["wear"]["share"] == 0.25
    rows = {row["name"]: row for row in report["enrollees_detail"]}
    assert rows["김영희"]["wear_hours_mean"] == pytest.approx((15 * 12 + 5 * 9) / 30)
    assert rows["박철수"]["wear_hours_mean"] == pytest.approx(1.0)
    assert rows["이순자"]["days_observed"] == 15
    assert rows["이순자"]["glucose_share"] == 0.0


def test_bp_control(report: dict) -> None:
    rows = {row["name"]: row for row in report["enrollees_detail"]}
    # A: SBP 120..138 step 2 on days 0-9 plus 150 on day 0 evening; DBP 70..79 plus 95.
    sbp_a = (sum(120 + 2 * d for d in range(10)) + 150) / 11
    dbp_a = (sum(70 + d for d in range(10)) + 95) / 11
    assert rows["김영희"]["sbp_mean"] == pytest.approx(sbp_a, abs=0.01)
    assert rows["김영희"]["dbp_mean"] == pytest.approx(dbp_a, abs=0.01)
    assert rows["김영희"]["bp_controlled"] is (sbp_a < 135 and dbp_a < 85)
    assert rows["박철수"]["bp_controlled"] is False  # 150/90 every day
    assert rows["이순자"]["bp_controlled"] is None  # not hypertensive
    assert report["bp_control"]["hypertensive"] == 2
    assert report["bp_control"]["with_readings"] == 2
    assert report["bp_control"]["controlled"] == 1
    assert report["bp_control"]["share"] == 0.5
    assert report["bp_control"]["target"]["systolic"] == 135


def test_glucose_in_range(report: dict) -> None:
    # A: 60 on days 0-1 (below), 200 on days 2-4 (above), 100 on days 5-19 (in range).
    glucose = report["glucose"]
    assert glucose["readings"] == 20
    assert glucose["in_range"] == 15
    assert glucose["below_range"] == 2
    assert glucose["share_in_range"] == 0.75
    assert glucose["median_enrollee_share"] == 0.75
    assert glucose["with_readings"] == 1  # C measured nothing; E's 40 mg/dL is October's enrollee


def test_steps_and_sleep(report: dict) -> None:
    rows = {row["name"]: row for row in report["enrollees_detail"]}
    # A: 3000/day now (20 days), 5000/day on Aug 22-31; B: 1000/day in both months.
    assert rows["김영희"]["steps_per_day"] == 3000
    assert rows["김영희"]["steps_prev_per_day"] == 5000
    assert rows["김영희"]["steps_change_pct"] == pytest.approx(-40.0)
    assert rows["박철수"]["steps_change_pct"] == pytest.approx(0.0)
    steps = report["steps"]
    assert steps["median_per_day"] == median([3000, 1000])
    assert steps["previous_median_per_day"] == median([5000, 1000])
    assert steps["change_pct"] == pytest.approx(round(100 * (2000 / 3000 - 1), 1))
    assert steps["declined_30pct"] == 1
    # A slept 420 min on days 0-9 and 360 on days 10-19.
    assert report["sleep"]["median_hours"] == pytest.approx((10 * 420 + 10 * 360) / 20 / 60)
    assert report["sleep"]["with_data"] == 1


def test_checkins(report: dict) -> None:
    # A: days 0-9 answered on 0-5 (6 of 10), day 10 a mood without "answered" (counts as
    # answered), the October 1 check-in falls outside the period.
    assert report["checkins"] == {"total": 11, "answered": 7, "share": round(7 / 11, 4)}
    rows = {row["name"]: row for row in report["enrollees_detail"]}
    assert rows["김영희"]["mood_mean"] == pytest.approx((2 + 4) / 2)
    assert rows["김영희"]["falls"] == 1


def test_alerts(report: dict) -> None:
    alerts = report["alerts"]
    # In period, for A/B/C: fall, hypoglycemia, low_battery (A); crisis, inactivity (B).
    assert alerts["total"] == 5
    assert alerts["by_kind"] == {"fall": 1, "hypertensive_crisis": 1, "hypoglycemia": 1,
                                 "inactivity": 1, "low_battery": 1}
    assert alerts["by_severity"] == {"critical": 2, "high": 2, "medium": 0, "low": 1}
    assert alerts["resolved"] == 4
    assert alerts["false_alarms"] == 2
    assert alerts["false_alarm_share"] == 0.5
    assert alerts["false_alarms_by_kind"] == {"fall": 1, "inactivity": 1}
    assert alerts["outcomes"] == {"false_alarm": 2, "visited": 1, "none": 1}
    assert alerts["unresolved_now"] == 1


def test_response_times(report: dict) -> None:
    times = report["response_times"]
    # acknowledge: fall 5, crisis 10 (critical); hypoglycemia 20, inactivity 30 (high).
    # resolve by a person: fall 65 (critical); hypoglycemia 120, inactivity 90 (high); the
    # crisis was closed by the system and is left out.
    expected = {
        "critical": ([5, 10], [65]),
        "high": ([20, 30], [120, 90]),
        "all": ([5, 10, 20, 30], [65, 120, 90]),
    }
    for severity, (acknowledge, resolve) in expected.items():
        got = times[severity]
        assert got["acknowledge"]["n"] == len(acknowledge)
        assert got["acknowledge"]["median_min"] == pytest.approx(median(acknowledge))
        assert got["acknowledge"]["p90_min"] == pytest.approx(linear_percentile(acknowledge, 0.9))
        assert got["resolve"]["n"] == len(resolve)
        assert got["resolve"]["median_min"] == pytest.approx(median(resolve))
        assert got["resolve"]["p90_min"] == pytest.approx(linear_percentile(resolve, 0.9))
    assert times["low"]["acknowledge"] == {"n": 0, "median_min": None, "p90_min": None}
    assert times["all"]["acknowledge"]["p90_min"] == pytest.approx(27.0)  # 20 + 0.7 * 10


def test_devices(report: dict) -> None:
    devices = report["devices"]
    # A: band at 15 % (low: at or below BATTERY_LOW_PCT), cuff silent for 2 days (not offline:
    # only a wearable's silence counts, and only past WEARABLE_SILENT_H), speaker never seen;
    # B and C all online, seen within 5 h, batteries 60-90 %.
    assert devices["total"] == 8
    batteries = (15, 80, 90, 70, 70, 60, 60)
    assert devices["low_battery"] == sum(b <= BATTERY_LOW_PCT for b in batteries) == 1
    assert (devices["offline"], devices["never_seen"]) == (0, 1)
    assert sorted(p["kind"] for p in devices["problems"]) == ["ai_speaker", "wearable"]
    assert devices["offline_after_hours"] == DEVICE_OFFLINE_AFTER_S / 3600
    assert devices["wearable_silent_hours"] == WEARABLE_SILENT_H
    assert devices["low_battery_pct"] == BATTERY_LOW_PCT


def _device(conn: psycopg.Connection, enrollee_id: int, kind: str) -> tuple[int, str]:
    row = conn.execute("SELECT id, device_id FROM devices WHERE enrollee_id = %s AND kind = %s",
                       (enrollee_id, kind)).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


_MIN = timedelta(minutes=1)
_SAID = timedelta(seconds=DEVICE_OFFLINE_AFTER_S)
_SILENT = timedelta(hours=WEARABLE_SILENT_H)
_HOME = timedelta(seconds=HOME_ACTIVE_WITHIN_S)


# (name, B's band: (seen ago, online, status ago, battery), B's cuff: the same, band offline,
# band low, cuff offline, cuff low): each line of dolbom.rules from just inside and just outside.
DEVICE_CASES = [
    ("band silent past the line, home active", (_SILENT + _MIN, True, None, 50),
     (_HOME - _MIN, True, None, 50), True, False, False, False),
    ("band silent past the line, home quiet", (_SILENT + _MIN, True, None, 50),
     (_HOME + _MIN, True, None, 50), False, False, False, False),
    ("band silent just short of the line", (_SILENT - _MIN, True, None, 50),
     (_MIN, True, None, 50), False, False, False, False),
    ("cuff said offline past the line", (_MIN, True, None, 50),
     (_MIN, False, _SAID + _MIN, 50), False, False, True, False),
    ("cuff said offline just now (a reconnect)", (_MIN, True, None, 50),
     (_MIN, False, _SAID - _MIN, 50), False, False, False, False),
    ("cuff silent for days, never said offline", (_MIN, True, None, 50),
     (timedelta(days=3), True, None, 50), False, False, False, False),
    ("batteries at and just above the line", (_MIN, True, None, BATTERY_LOW_PCT),
     (_MIN, True, None, BATTERY_LOW_PCT + 1), False, True, False, False),
]


@pytest.mark.parametrize("case", DEVICE_CASES, ids=[c[0] for c in DEVICE_CASES])
def test_device_problems_follow_dolbom_rules(db: psycopg.Connection, known: KnownRegion,
                                             case: tuple) -> None:
    _, band_state, cuff_state, *expected = case
    band, band_id = _device(db, known.ids["B"], "wearable")
    cuff, cuff_id = _device(db, known.ids["B"], "bp_monitor")
    got: list[bool] = []
    ruled: list[bool] = []
    for device, (seen_ago, online, status_ago, battery) in ((band, band_state), (cuff, cuff_state)):
        status_at = AS_OF - status_ago if status_ago is not None else None
        set_device(db, device, AS_OF - seen_ago, battery, online, status_at)
    report = regional_report(db, known.region_id, "2026-09", as_of=AS_OF)
    problems = {p["device_id"]: p["problems"] for p in report["devices"]["problems"]}
    home_seen = AS_OF - min(band_state[0], cuff_state[0])
    for device_id, kind, (seen_ago, online, status_ago, battery) in (
            (band_id, "wearable", band_state), (cuff_id, "bp_monitor", cuff_state)):
        got += ["offline" in problems.get(device_id, []), "low_battery" in problems.get(device_id, [])]
        ruled += [device_row_offline(AS_OF, kind=kind, online=online, last_seen=AS_OF - seen_ago,
                                     status_at=AS_OF - status_ago if status_ago is not None else None,
                                     home_seen=home_seen),
                  battery_low(battery)]
    assert got == expected == ruled


def test_review_ranking(report: dict, known: KnownRegion) -> None:
    review = report["review"]
    # A: critical fall 3 + unresolved 2 + glucose < 70 2 + steps -40 % 2 + BP 10/30 days 1
    #    + devices 1 = 11; B: critical crisis 3 + BP 150/90 2 + band 0/30 days 1 = 6;
    # C: no data 3.
    assert [(r["enrollee_id"], r["score"]) for r in review] == [
        (known.ids["A"], 11), (known.ids["B"], 6), (known.ids["C"], 3)]
    codes_a = [r["code"] for r in review[0]["reasons"]]
    assert codes_a == ["critical_alerts", "unresolved_alerts", "glucose_low", "steps_decline",
                       "bp_adherence", "devices"]
    assert "150/90" in review[1]["reasons"][1]["text"]
    assert review[2]["reasons"][0]["code"] == "no_data"


def test_personal_threshold_override_changes_control(db: psycopg.Connection, known: KnownRegion) -> None:
    db.execute("UPDATE enrollees SET thresholds = %s WHERE id = %s",
               ('{"home_sbp_control": 150, "home_dbp_control": 95}', known.ids["B"]))
    report = regional_report(db, known.region_id, "2026-09", as_of=AS_OF)
    assert report["bp_control"]["controlled"] == 1  # 150 is not < 150
    db.execute("UPDATE enrollees SET thresholds = %s WHERE id = %s",
               ('{"home_sbp_control": 150.5, "home_dbp_control": 95}', known.ids["B"]))
    report = regional_report(db, known.region_id, "2026-09", as_of=AS_OF)
    assert report["bp_control"]["controlled"] == 2


def test_running_period_counts_complete_days_only(db: psycopg.Connection, known: KnownRegion) -> None:
    # As of Sep 11 09:00 local, days 0-9 are complete: A measured BP on all ten.
    report = regional_report(db, known.region_id, "2026-09", as_of=sep(10, 9))
    rows = {row["name"]: row for row in report["enrollees_detail"]}
    assert rows["김영희"]["days_observed"] == 10
    assert rows["김영희"]["bp_share"] == 1.0
    assert rows["이순자"]["days_observed"] == 0


def test_week_period(db: psycopg.Connection, known: KnownRegion) -> None:
    # ISO week 2026-W37 is Mon Sep 7 - Sun Sep 13 (days 6-12): A's BP on days 6-9.
    report = regional_report(db, known.region_id, "2026-W37", as_of=AS_OF)
    rows = {row["name"]: row for row in report["enrollees_detail"]}
    assert report["period"]["start"] == "2026-09-07"
    assert rows["김영희"]["bp_days"] == 4
    assert rows["김영희"]["days_observed"] == 7
    # previous week Aug 31 - Sep 6: A's steps on Aug 31 (5000) and Sep 1-6 (3000 each).
    assert rows["김영희"]["steps_prev_per_day"] == pytest.approx((5000 + 6 * 3000) / 7, abs=0.01)


def test_enrollee_summary(db: psycopg.Connection, known: KnownRegion) -> None:
    summary = enrollee_summary(db, known.ids["A"], "2026-09", as_of=AS_OF)
    assert summary["enrollee"]["name"] == "김영희"
    sbp = summary["vitals"]["systolic_bp"]
    assert sbp["readings"] == 11
    # baseline: daily means 130, 132, ..., 148 on Aug 11-20.
    baseline = [130 + 2 * k for k in range(10)]
    assert sbp["baseline"]["days"] == 10
    assert sbp["baseline"]["median"] == pytest.approx(median(baseline))
    assert sbp["baseline"]["p25"] == pytest.approx(linear_percentile(baseline, 0.25))
    assert sbp["baseline"]["p75"] == pytest.approx(linear_percentile(baseline, 0.75))
    assert sbp["change_vs_baseline"] == pytest.approx(1440 / 11 - median(baseline), abs=0.01)
    assert sbp["daily"][0] == {"day": "2026-09-01", "n": 2, "mean": 135.0, "min": 120.0, "max": 150.0}
    assert len(sbp["daily"]) == 10
    activity = summary["activity"]
    assert len(activity["steps_daily"]) == 20
    assert activity["steps_change_pct"] == pytest.approx(-40.0)
    assert activity["sleep_daily_hours"][0]["value"] == 7.0
    assert summary["adherence"]["checkins"] == 11
    assert summary["alerts"]["total"] == 3
    assert summary["alerts"]["false_alarms"] == 1
    fall = next(item for item in summary["alerts"]["items"] if item["kind"] == "fall")
    assert (fall["minutes_to_respond"], fall["minutes_to_resolve"]) == (5.0, 65.0)
    assert summary["review"][0]["code"] == "critical_alerts"


def test_a_timezone_the_system_lacks_counts_days_in_seoul(db: psycopg.Connection, known: KnownRegion) -> None:
    """``dolbom.rules.enrollee_zone``: a stored zone the system lacks (or none) is Asia/Seoul,
    never UTC; the known region's data are Seoul days, so every figure stays the same (at UTC,
    A's 08:00 readings would fall on the day before)."""
    before = regional_report(db, known.region_id, "2026-09", as_of=AS_OF)
    summary_before = enrollee_summary(db, known.ids["A"], "2026-09", as_of=AS_OF)
    db.execute("UPDATE enrollees SET timezone = 'Nowhere/Atlantis' WHERE region_id = %s", (known.region_id,))
    db.execute("UPDATE regions SET timezone = '' WHERE id = %s", (known.region_id,))
    after = regional_report(db, known.region_id, "2026-09", as_of=AS_OF)
    summary_after = enrollee_summary(db, known.ids["A"], "2026-09", as_of=AS_OF)
    assert after["region"]["timezone"] == DEFAULT_TIMEZONE
    assert summary_after["enrollee"]["timezone"] == DEFAULT_TIMEZONE
    for key in ("enrollees", "adherence", "bp_control", "glucose", "steps", "alerts", "enrollees_detail"):
        assert after[key] == before[key], key
    assert summary_after["vitals"] == summary_before["vitals"]
    assert summary_after["alerts"] == summary_before["alerts"]
