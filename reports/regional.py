"""The regional report: per-enrollee figures summed up for the region, and who to review first.

Pure: takes what queries.py loaded and compute.py derived, returns a JSON-ready dict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import numpy as np

from dolbom.rules import (
    BATTERY_LOW_PCT,
    DEVICE_OFFLINE_AFTER_S,
    GLUCOSE_RANGE_MG_DL,
    HOME_ACTIVE_WITHIN_S,
    WEARABLE_SILENT_H,
)
from reports.compute import (
    HOME_DBP,
    HOME_SBP,
    SEVERITIES,
    WEAR_DAY_HOURS,
    EnrolleeFigures,
    contact_figures,
    device_problems,
    enrollee_months,
    response_times,
)
from reports.labels import kind_ko
from reports.period import Period
from reports.queries import AlertRow, DeviceRow, EnrolleeRow, RegionRow

FALSE_ALARM: Final = "false_alarm"
# Glucose in range below 50 % of readings: the ADA/ATTD consensus target for older or
# high-risk adults is > 50 % time in range (Battelino et al., Diabetes Care 2019;42:1593).
TIR_TARGET_OLDER: Final = 0.50
# Review-list rules (program choices, not clinical thresholds): points per reason.
REVIEW_POINTS: Final[dict[str, int]] = {
    "no_data": 3,
    "critical_alerts": 3,
    "unresolved_alerts": 2,
    "bp_uncontrolled": 2,
    "glucose_low": 2,
    "glucose_out_of_range": 2,
    "steps_decline": 2,
    "checkins_unanswered": 2,
    "bp_adherence": 1,
    "wear_adherence": 1,
    "devices": 1,
}
STEPS_DECLINE_PCT: Final = -30.0
CONTACTS_DEFINITION: Final = (
    "contacts (contacts.at) in [since, until), the period in the region's timezone, with the"
    " active enrollees; per enrollee-month = contacts / (observed enrollee-days / days of the"
    " month)"
)
LOW_SHARE: Final = 0.5

# Columns of the per-enrollee rows (JSON ``enrollees_detail`` and the CSV, same order).
ROW_FIGURES: Final = (
    "days_observed", "bp_days", "bp_share", "glucose_days", "glucose_share", "wear_days",
    "wear_share", "wear_hours_mean", "sbp_mean", "dbp_mean", "sbp_readings", "bp_controlled",
    "glucose_readings", "glucose_in_range", "glucose_below", "glucose_tir", "steps_per_day",
    "steps_prev_per_day", "steps_change_pct", "sleep_hours", "sleep_prev_hours", "checkins",
    "checkins_answered", "checkin_share", "mood_mean", "falls", "sos",
)
_INTEGER_FIGURES: Final = frozenset({
    "days_observed", "bp_days", "glucose_days", "wear_days", "sbp_readings", "glucose_readings",
    "glucose_in_range", "glucose_below", "checkins", "checkins_answered", "falls", "sos",
})


def number(value: float, digits: int = 2) -> float | None:
    """A JSON number: NaN becomes None; floats are rounded for reading."""
    value = float(value)
    return None if np.isnan(value) else round(value, digits)


def figure(name: str, value: float) -> float | int | bool | None:
    if np.isnan(value):
        return None
    if name in _INTEGER_FIGURES:
        return int(value)
    if name == "bp_controlled":
        return bool(value)
    return number(value, 4 if name.endswith("_share") or name == "glucose_tir" else 2)


def _median(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if len(values) else float("nan")


def _pooled(numerator: np.ndarray, denominator: np.ndarray, population: np.ndarray) -> dict[str, Any]:
    num = float(numerator[population].sum())
    den = float(denominator[population].sum())
    return {"population": int(population.sum()), "days": int(num), "days_observed": int(den),
            "share": number(num / den, 4) if den else None}


def review_reasons(
    i: int,
    f: EnrolleeFigures,
    alerts: Sequence[AlertRow],
    unresolved: int,
    problems: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Why enrollee ``i`` should be reviewed, each reason with its points and a line of text."""
    reasons: list[dict[str, Any]] = []

    def add(code: str, text: str, text_ko: str, times: int = 1) -> None:
        reasons.append({"code": code, "points": REVIEW_POINTS[code] * times, "text": text,
                        "text_ko": text_ko})

    if not f["has_data"][i]:
        add("no_data", "no readings or events this period", "이번 기간 측정·활동 기록 없음")
    critical = [a.kind for a in alerts if a.severity == "critical"]
    if critical:
        kinds = ", ".join(sorted(set(critical)))
        kinds_ko = ", ".join(sorted({kind_ko(k) for k in critical}))
        add("critical_alerts", f"critical alerts: {len(critical)} ({kinds})",
            f"위급 알림 {len(critical)}건 ({kinds_ko})", times=len(critical))
    if unresolved:
        add("unresolved_alerts", f"alerts still unresolved: {unresolved}", f"미해결 알림 {unresolved}건")
    if f["bp_controlled"][i] == 0:
        sbp, dbp = f["sbp_mean"][i], f["dbp_mean"][i]
        limit = f"{f['sbp_limit'][i]:.0f}/{f['dbp_limit'][i]:.0f}"
        add("bp_uncontrolled", f"mean home BP {sbp:.0f}/{dbp:.0f} mmHg (target < {limit})",
            f"가정혈압 평균 {sbp:.0f}/{dbp:.0f} mmHg (목표 {limit} 미만)")
    if f["glucose_below"][i] > 0:
        below = int(f["glucose_below"][i])
        low = f"{GLUCOSE_RANGE_MG_DL[0]:.0f}"
        add("glucose_low", f"glucose below {low} mg/dL: {below} readings",
            f"혈당 {low} mg/dL 미만 {below}회")
    if f["diabetic"][i] and f["glucose_tir"][i] < TIR_TARGET_OLDER:
        tir = 100 * f["glucose_tir"][i]
        add("glucose_out_of_range", f"glucose in range {tir:.0f}% (target > 50%)",
            f"혈당 목표범위 {tir:.0f}% (목표 50% 초과)")
    if f["steps_change_pct"][i] <= STEPS_DECLINE_PCT:
        now, before, pct = f["steps_per_day"][i], f["steps_prev_per_day"][i], f["steps_change_pct"][i]
        add("steps_decline", f"steps/day {now:,.0f} vs {before:,.0f} last period ({pct:+.0f}%)",
            f"하루 걸음 {now:,.0f} (지난 기간 {before:,.0f}, {pct:+.0f}%)")
    if f["checkin_share"][i] < LOW_SHARE:
        done, total = int(f["checkins_answered"][i]), int(f["checkins"][i])
        add("checkins_unanswered", f"answered {done} of {total} check-ins",
            f"안부 확인 {total}회 중 {done}회 응답")
    if f["has_data"][i] and f["bp_share"][i] < LOW_SHARE:
        days, observed = int(f["bp_days"][i]), int(f["days_observed"][i])
        add("bp_adherence", f"BP measured on {days} of {observed} days",
            f"혈압 측정 {observed}일 중 {days}일")
    if f["has_data"][i] and f["wear_share"][i] < LOW_SHARE:
        days, observed = int(f["wear_days"][i]), int(f["days_observed"][i])
        add("wear_adherence", f"band worn >= {WEAR_DAY_HOURS} h on {days} of {observed} days",
            f"밴드 {WEAR_DAY_HOURS}시간 이상 착용 {observed}일 중 {days}일")
    if problems:
        add("devices", f"device problems: {len(problems)}", f"기기 문제 {len(problems)}대")
    return reasons


def build_regional(
    region: RegionRow,
    period: Period,
    previous: Period,
    as_of: datetime,
    all_enrollees: Sequence[EnrolleeRow],
    population: Sequence[EnrolleeRow],
    f: EnrolleeFigures,
    alerts: Sequence[AlertRow],
    devices: Sequence[DeviceRow],
    unresolved: dict[int, int],
    contacts: dict[str, int],
    contact_bounds: tuple[datetime, datetime],
) -> dict[str, Any]:
    """The regional report as a JSON-ready dict (see docs/reports.md for every field).

    ``contacts`` are the population's contacts by channel in ``contact_bounds`` (the
    period's bounds in the region's timezone)."""
    n = len(population)
    alerts_of: dict[int, list[AlertRow]] = {}
    for alert in alerts:
        alerts_of.setdefault(alert.enrollee_id, []).append(alert)
    problems = device_problems(devices, as_of)
    problems_of: dict[int, list[dict[str, Any]]] = {}
    for problem in problems:
        problems_of.setdefault(int(problem["enrollee_id"]), []).append(problem)

    rows: list[dict[str, Any]] = []
    review: list[dict[str, Any]] = []
    for i, enrollee in enumerate(population):
        mine = alerts_of.get(enrollee.id, [])
        reasons = review_reasons(i, f, mine, unresolved.get(enrollee.id, 0),
                                 problems_of.get(enrollee.id, []))
        score = sum(r["points"] for r in reasons)
        row: dict[str, Any] = {
            "enrollee_id": enrollee.id, "name": enrollee.name, "birth_year": enrollee.birth_year,
            "sex": enrollee.sex, "care_worker": enrollee.care_worker,
            "conditions": list(enrollee.conditions), "new": bool(f["new"][i]),
            "has_data": bool(f["has_data"][i]),
        }
        row.update({name: figure(name, f[name][i]) for name in ROW_FIGURES})
        row.update({
            "alerts": len(mine),
            "critical_alerts": sum(a.severity == "critical" for a in mine),
            "false_alarms": sum(a.outcome == FALSE_ALARM for a in mine),
            "device_problems": len(problems_of.get(enrollee.id, [])),
            "review_score": score,
        })
        rows.append(row)
        if score:
            review.append({"enrollee_id": enrollee.id, "name": enrollee.name,
                           "care_worker": enrollee.care_worker, "score": score, "reasons": reasons})
    review.sort(key=lambda r: (-r["score"], r["enrollee_id"]))

    hypertensive = f["hypertensive"] > 0
    diabetic = f["diabetic"] > 0
    bp_measured = hypertensive & ~np.isnan(f["bp_controlled"])
    glucose_measured = diabetic & (f["glucose_readings"] > 0)
    steps_now, steps_before = _median(f["steps_per_day"]), _median(f["steps_prev_per_day"])
    checkins, answered = float(f["checkins"].sum()), float(f["checkins_answered"].sum())
    resolved = [a for a in alerts if a.status == "resolved"]
    false_alarms = [a for a in resolved if a.outcome == FALSE_ALARM]
    pooled_glucose = float(f["glucose_readings"][diabetic].sum())

    return {
        "report": "regional",
        "region": {"id": region.id, "name": region.name, "timezone": region.timezone},
        "period": {"label": period.label, "kind": period.kind, "start": period.start.isoformat(),
                   "end": period.end.isoformat(), "days": period.days,
                   "previous": previous.label},
        "as_of": as_of.isoformat(),
        "enrollees": {
            "active": n,
            "new": int(f["new"].sum()),
            "without_data": int(n - f["has_data"].sum()),
            "inactive": sum(not e.active for e in all_enrollees),
        },
        "adherence": {
            "bp": _pooled(f["bp_days"], f["days_observed"], f["has_bp_monitor"] > 0),
            "glucose": _pooled(f["glucose_days"], f["days_observed"], diabetic),
            "wear": {**_pooled(f["wear_days"], f["days_observed"], f["has_wearable"] > 0),
                     "min_hours": WEAR_DAY_HOURS},
        },
        "bp_control": {
            "hypertensive": int(hypertensive.sum()),
            "with_readings": int(bp_measured.sum()),
            "controlled": int(np.nansum(f["bp_controlled"][bp_measured])),
            "share": number(np.nanmean(f["bp_controlled"][bp_measured]), 4) if bp_measured.any() else None,
            "target": {"systolic": HOME_SBP.value, "diastolic": HOME_DBP.value, "source": HOME_SBP.source},
        },
        "glucose": {
            "diabetic": int(diabetic.sum()),
            "with_readings": int(glucose_measured.sum()),
            "readings": int(pooled_glucose),
            "in_range": int(f["glucose_in_range"][diabetic].sum()),
            "below_range": int(f["glucose_below"][diabetic].sum()),
            "share_in_range": number(f["glucose_in_range"][diabetic].sum() / pooled_glucose, 4)
            if pooled_glucose else None,
            "median_enrollee_share": number(_median(f["glucose_tir"][glucose_measured]), 4),
            "range_mg_dl": list(GLUCOSE_RANGE_MG_DL),
            "source": "ADA/ATTD time-in-range consensus (Battelino et al., Diabetes Care 2019)",
        },
        "steps": {
            "with_data": int((~np.isnan(f["steps_per_day"])).sum()),
            "median_per_day": number(steps_now, 1),
            "previous_median_per_day": number(steps_before, 1),
            "change_pct": number(100 * (steps_now / steps_before - 1), 1) if steps_before else None,
            "declined_30pct": int((f["steps_change_pct"] <= STEPS_DECLINE_PCT).sum()),
        },
        "sleep": {
            "with_data": int((~np.isnan(f["sleep_hours"])).sum()),
            "median_hours": number(_median(f["sleep_hours"]), 2),
            "previous_median_hours": number(_median(f["sleep_prev_hours"]), 2),
        },
        "checkins": {"total": int(checkins), "answered": int(answered),
                     "share": number(answered / checkins, 4) if checkins else None},
        "contacts": {
            **contact_figures(contacts, enrollee_months(f["days_observed"], period)),
            "since": contact_bounds[0].isoformat(), "until": contact_bounds[1].isoformat(),
            "definition": CONTACTS_DEFINITION,
        },
        "alerts": {
            "total": len(alerts),
            "by_kind": dict(sorted(Counter(a.kind for a in alerts).items())),
            "by_severity": {s: sum(a.severity == s for a in alerts) for s in SEVERITIES},
            "resolved": len(resolved),
            "false_alarms": len(false_alarms),
            "false_alarm_share": number(len(false_alarms) / len(resolved), 4) if resolved else None,
            "false_alarms_by_kind": dict(sorted(Counter(a.kind for a in false_alarms).items())),
            "outcomes": dict(sorted(Counter(a.outcome or "none" for a in resolved).items())),
            "unresolved_now": sum(unresolved.get(e.id, 0) for e in population),
        },
        "response_times": response_times(alerts),
        "devices": {
            "total": len(devices),
            "offline": sum("offline" in p["problems"] for p in problems),
            "never_seen": sum("never_seen" in p["problems"] for p in problems),
            "low_battery": sum("low_battery" in p["problems"] for p in problems),
            "offline_after_hours": DEVICE_OFFLINE_AFTER_S / 3600,
            "wearable_silent_hours": WEARABLE_SILENT_H,
            "home_active_within_hours": HOME_ACTIVE_WITHIN_S / 3600,
            "low_battery_pct": BATTERY_LOW_PCT,
            "problems": problems,
        },
        "review": review,
        "enrollees_detail": rows,
    }
