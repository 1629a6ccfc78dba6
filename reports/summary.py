"""The personal monthly summary a care worker takes to a home visit. Pure, like regional.py.

Vitals are shown as daily means against the enrollee's own baseline: the median and
interquartile range of their daily means over the ``BASELINE_DAYS`` before the period
(DESIGN: "an older adult's normal is their own").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np

from dolbom.rules import enrollee_zone
from dolbom.thresholds import THRESHOLD_BY_NAME, effective
from dolbom.wire import METRIC_BY_NAME
from reports.compute import WEAR_DAY_HOURS, EnrolleeFigures, device_problems, percentiles_minutes
from reports.period import Period
from reports.queries import AlertRow, DailyReadings, DeviceRow, EnrolleeRow
from reports.regional import FALSE_ALARM, ROW_FIGURES, figure, number, review_reasons

BASELINE_DAYS: Final = 90
VITALS: Final = ("systolic_bp", "diastolic_bp", "glucose", "heart_rate", "spo2", "weight", "body_temp",
                 "respiratory_rate")


def _daily(
    readings: DailyReadings, code: int, lo: int, hi: int
) -> dict[int, tuple[int, float, float, float]]:
    """day -> (count, sum, min, max) of one metric, merged across devices."""
    out: dict[int, tuple[int, float, float, float]] = {}
    chosen = (readings.metric == code) & (readings.day >= lo) & (readings.day < hi)
    for k in np.flatnonzero(chosen):
        day = int(readings.day[k])
        n, total, low, high = out.get(day, (0, 0.0, float("inf"), float("-inf")))
        out[day] = (n + int(readings.count[k]), total + float(readings.total[k]),
                    min(low, float(readings.minimum[k])), max(high, float(readings.maximum[k])))
    return out


def vital_trend(
    readings: DailyReadings, period: Period, name: str, observed: np.ndarray | None = None
) -> dict[str, Any] | None:
    """Daily means of one vital in the period with the personal baseline; None without data.

    ``observed`` (bool per day of the period): the days that count, as for every figure of
    the report (complete days since enrollment, ``compute``): a running month's today, not
    finished, is neither charted nor in the mean."""
    code = METRIC_BY_NAME[name].code
    days = _daily(readings, code, 0, period.days)
    if observed is not None:
        days = {day: value for day, value in days.items() if observed[day]}
    history = _daily(readings, code, -BASELINE_DAYS, 0)
    if not days and not history:
        return None
    count = sum(v[0] for v in days.values())
    mean = sum(v[1] for v in days.values()) / count if count else float("nan")
    history_means = np.asarray([v[1] / v[0] for v in history.values()], dtype=np.float64)
    baseline: dict[str, Any] = {"days": len(history_means), "median": None, "p25": None, "p75": None}
    if len(history_means):
        p25, median, p75 = np.percentile(history_means, [25, 50, 75])
        baseline.update(median=number(median), p25=number(p25), p75=number(p75))
    return {
        "unit": METRIC_BY_NAME[name].unit,
        "readings": count,
        "mean": number(mean),
        "baseline": baseline,
        "change_vs_baseline": number(mean - baseline["median"]) if baseline["median"] is not None
        and count else None,
        "daily": [
            {"day": (period.start + timedelta(days=day)).isoformat(), "n": n, "mean": number(total / n),
             "min": number(low), "max": number(high)}
            for day, (n, total, low, high) in sorted(days.items())
        ],
    }


def _series(
    period: Period, values: np.ndarray, present: np.ndarray, scale: float = 1.0
) -> list[dict[str, Any]]:
    return [
        {"day": (period.start + timedelta(days=int(d))).isoformat(), "value": number(values[d] * scale)}
        for d in np.flatnonzero(present)
    ]


def _alert_item(alert: AlertRow, timezone: str) -> dict[str, Any]:
    def minutes(end: datetime | None) -> float | None:
        return number((end - alert.opened_at).total_seconds() / 60) if end else None

    return {
        "id": alert.id, "kind": alert.kind, "severity": alert.severity, "status": alert.status,
        "opened_at": alert.opened_at.astimezone(enrollee_zone(timezone)).isoformat(),
        "summary": alert.summary, "outcome": alert.outcome,
        "minutes_to_respond": minutes(alert.responded_at),
        "minutes_to_resolve": minutes(alert.resolved_at) if alert.resolved_by_person else None,
    }


def build_summary(
    enrollee: EnrolleeRow,
    period: Period,
    previous: Period,
    as_of: datetime,
    f: EnrolleeFigures,
    readings: DailyReadings,
    alerts: Sequence[AlertRow],
    devices: Sequence[DeviceRow],
    unresolved: int,
) -> dict[str, Any]:
    """The personal summary as a JSON-ready dict; ``f`` holds this one enrollee's figures."""
    problems = device_problems(devices, as_of)
    grids, observed = f.current, f.observed[0]
    steps_present = (grids["steps_n"][0] > 0) & observed
    sleep_present = (grids["sleep_n"][0] > 0) & observed
    worn_present = (grids["worn_hours"][0] > 0) & observed
    vitals = {name: trend for name in VITALS if (trend := vital_trend(readings, period, name, observed))}
    if "weight" in vitals:  # the heart-failure line the PDF draws (ESC 2021: > 2 kg in 3 days)
        line = THRESHOLD_BY_NAME["weight_gain_3d"]
        vitals["weight"]["gain_line"] = {"kg": effective(enrollee.thresholds)[line.name],
                                         "days": 3, "source": line.source}
    resolved = [a for a in alerts if a.status == "resolved"]
    return {
        "report": "enrollee_summary",
        "enrollee": {
            "id": enrollee.id, "name": enrollee.name, "birth_year": enrollee.birth_year,
            "age": period.start.year - enrollee.birth_year, "sex": enrollee.sex,
            "conditions": list(enrollee.conditions), "care_worker": enrollee.care_worker,
            "region_id": enrollee.region_id, "timezone": enrollee.timezone,
        },
        "period": {"label": period.label, "kind": period.kind, "start": period.start.isoformat(),
                   "end": period.end.isoformat(), "days": period.days, "previous": previous.label},
        "as_of": as_of.isoformat(),
        "baseline_days": BASELINE_DAYS,
        "figures": {name: figure(name, f[name][0]) for name in ROW_FIGURES},
        "vitals": vitals,
        "activity": {
            "steps_daily": _series(period, grids["steps_sum"][0], steps_present),
            "steps_per_day": number(f["steps_per_day"][0], 1),
            "steps_prev_per_day": number(f["steps_prev_per_day"][0], 1),
            "steps_change_pct": number(f["steps_change_pct"][0], 1),
            "sleep_daily_hours": _series(period, grids["sleep_sum"][0], sleep_present, 1 / 60),
            "sleep_hours": number(f["sleep_hours"][0]),
            "sleep_prev_hours": number(f["sleep_prev_hours"][0]),
            "worn_hours_daily": _series(period, grids["worn_hours"][0], worn_present),
            "wear_day_hours": WEAR_DAY_HOURS,
        },
        "adherence": {
            "days_observed": figure("days_observed", f["days_observed"][0]),
            "bp_days": figure("bp_days", f["bp_days"][0]),
            "bp_share": figure("bp_share", f["bp_share"][0]),
            "glucose_days": figure("glucose_days", f["glucose_days"][0]),
            "glucose_share": figure("glucose_share", f["glucose_share"][0]),
            "wear_days": figure("wear_days", f["wear_days"][0]),
            "wear_share": figure("wear_share", f["wear_share"][0]),
            "checkins": figure("checkins", f["checkins"][0]),
            "checkins_answered": figure("checkins_answered", f["checkins_answered"][0]),
            "checkin_share": figure("checkin_share", f["checkin_share"][0]),
        },
        "alerts": {
            "total": len(alerts),
            "by_kind": dict(sorted(Counter(a.kind for a in alerts).items())),
            "false_alarms": sum(a.outcome == FALSE_ALARM for a in resolved),
            "unresolved_now": unresolved,
            "respond": percentiles_minutes([(a.responded_at - a.opened_at).total_seconds()
                                            for a in alerts if a.responded_at]),
            "items": [_alert_item(a, enrollee.timezone) for a in alerts],
        },
        "devices": {"problems": problems},
        "review": review_reasons(0, f, alerts, unresolved, problems),
    }
