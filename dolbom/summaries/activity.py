"""Summaries of what analytics judged over time: the clock's conditions (inactivity, no data,
missed check-ins, night doors, devices) and the nightly trends (weight, blood pressure,
activity, routine), from the evidence keys of ``analytics/detectors`` (clock.py, trends.py,
person.py, routine.py, weight.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from dolbom.alerts import AlertKind
from dolbom.summaries.read import (
    Ctx,
    as_dict,
    as_list,
    calendar_day,
    count,
    fmt,
    hours_number,
    instant,
    key,
    line,
    number,
    short_source,
    sourced,
)
from dolbom.summaries.words import (
    DEVICE_LABELS,
    FEATURE_FORMS,
    FEATURE_LABELS,
    FEATURE_UNITS,
    HOURS,
    PER_DAY,
)

TIMES_SHOWN: Final = 5  # night door openings listed, then "and n more"
DEVICES_SHOWN: Final = 5
FEATURES_SHOWN: Final = 3
COLD_START_NIGHTS: Final = 7  # analytics' night-door rate is personal from 7 nights on
_READ_AT_MOST: Final = 1000  # items of a list looked at (hostile evidence can be long)


def weight_gain(ctx: Ctx, evidence: Mapping[str, Any]) -> str | None:
    """"체중 66.8 kg, 3일 새 2.4 kg 증가 (3일 전 최저 64.4 kg; 기준 3일 2.0 kg 초과, ESC 2021)"."""
    latest, gain = number(evidence.get("latest_kg")), number(evidence.get("gain_kg"))
    if latest is None or gain is None:
        return None
    text = ctx.say("weight_gain", latest=ctx.value("weight", latest), gain=ctx.value("weight", gain))
    reference = number(evidence.get("reference_kg"))
    threshold = as_dict(evidence.get("threshold"))
    limit = number(threshold.get("value"))
    details = [
        ctx.say("weight_from", reference=ctx.value("weight", reference)) if reference is not None else None,
        sourced(ctx.say("weight_line", line=ctx.value("weight", limit)),
                short_source(threshold.get("name"), threshold.get("source"))) if limit is not None else None,
        ctx.on_day(calendar_day(evidence.get("day"))),
    ]
    return line(text, details, ctx.action(AlertKind.RAPID_WEIGHT_GAIN))


def rising_bp(ctx: Ctx, evidence: Mapping[str, Any]) -> str | None:
    slope, mean = number(evidence.get("slope_per_week")), number(evidence.get("recent_mean"))
    if slope is None:
        return None
    threshold = as_dict(evidence.get("threshold"))
    limit = number(threshold.get("value"))
    details = [
        ctx.say("bp_recent", mean=ctx.value("systolic_bp", mean)) if mean is not None else None,
        sourced(ctx.say("line", op="≥", line=fmt(limit)), short_source("sbp_stage2"))
        if limit is not None else None,
        ctx.on_day(calendar_day(evidence.get("day"))),
    ]
    text = ctx.say("bp_rising", slope=f"{slope:+.1f} {ctx.unit('systolic_bp')}")
    return line(text, details, ctx.action(AlertKind.RISING_BLOOD_PRESSURE))


def declining(ctx: Ctx, evidence: Mapping[str, Any]) -> str | None:
    feature = key(evidence.get("feature"), PER_DAY)
    recent, usual = number(evidence.get("recent")), number(evidence.get("usual"))
    if feature is None or recent is None or usual is None:
        return None
    per_day = ctx.pick(PER_DAY[feature])
    text = ctx.say("declining", recent=per_day.format(n=fmt(recent)))
    slope = number(evidence.get("slope_per_week"))
    trend = ctx.say("trend", slope=f"{'+' if slope > 0 else ''}{fmt(slope)}") if slope is not None else None
    details = [ctx.say("usual", usual=per_day.format(n=fmt(usual))), trend,
               ctx.on_day(calendar_day(evidence.get("day")))]
    return line(text, details, ctx.action(AlertKind.DECLINING_ACTIVITY))


def _feature_value(ctx: Ctx, feature: str, value: float) -> tuple[str, str]:
    """(number, unit as written after it) of a routine feature's value."""
    form = FEATURE_FORMS.get(feature)
    if form == "clock":  # hours from the local midnight of the day (-0.5 is 23:30 the evening before)
        hours = value % 24
        return f"{int(hours):02d}:{round((hours % 1) * 60) % 60:02d}", ""
    if form in ("minutes", "hours"):
        return hours_number(value / 60 if form == "minutes" else value), ctx.pick(HOURS).format(n="")
    unit = ctx.pick(FEATURE_UNITS.get(feature, ("", "")))
    return fmt(value, 0 if abs(value) >= 10 or value.is_integer() else 1), unit


def routine(ctx: Ctx, evidence: Mapping[str, Any]) -> str | None:
    """"12월 2일 기준 지난밤 화장실 8회 (평소 1–2회)": the features that moved most."""
    parts = []
    for moved in as_list(evidence.get("moved"))[:_READ_AT_MOST]:
        moved = as_dict(moved)
        feature = key(moved.get("feature"), FEATURE_LABELS)
        value, low, high = (number(moved.get(k)) for k in ("value", "usual_low", "usual_high"))
        if feature is None or value is None or low is None or high is None:
            continue
        (shown, unit), (low_text, _), (high_text, _) = (
            _feature_value(ctx, feature, v) for v in (value, low, high))
        parts.append(ctx.say("feature", label=ctx.pick(FEATURE_LABELS[feature]), value=shown + unit,
                             usual=f"{low_text}–{high_text}{unit}"))
        if len(parts) == FEATURES_SHOWN:
            break
    if not parts:
        return None
    text = "; ".join(parts)
    day = calendar_day(evidence.get("day"))
    if day is not None and day != ctx.today:
        text = ctx.say("day_prefix", day=ctx.day(day), text=text)
    cold = evidence.get("baseline") == "population default (cold start)"
    return line(text, [ctx.say("routine_cold") if cold else None], ctx.action(AlertKind.ROUTINE_CHANGE))


def inactivity(ctx: Ctx, evidence: Mapping[str, Any]) -> str | None:
    """"09:10 KST부터 집 안 움직임 없음 (4.2시간 넘게; 평소 가장 긴 공백 2.5시간; 기준 3.5시간)"."""
    since, gap = instant(evidence.get("since_ts")), number(evidence.get("gap_h"))
    if since is None and gap is None:
        return None
    text = ctx.say("inactivity", since=ctx.when(since)) if since is not None else ctx.say("inactivity_bare")
    baseline = as_dict(evidence.get("baseline"))
    usual, limit = number(baseline.get("gap_p90_h")), number(evidence.get("limit_h"))
    if usual is not None and baseline.get("source") == "personal":
        habit: str | None = ctx.say("usual_gap", hours=ctx.hours(usual))
    else:
        habit = ctx.say("no_usual_gap") if isinstance(baseline.get("source"), str) else None
    details = [ctx.say("for_hours", hours=ctx.hours(gap)) if gap is not None else None, habit,
               ctx.say("line_hours", hours=ctx.hours(limit)) if limit is not None else None]
    return line(text, details, ctx.action(AlertKind.INACTIVITY))


def no_data(ctx: Ctx, evidence: Mapping[str, Any]) -> str | None:
    last, silent = instant(evidence.get("last_data_ts")), number(evidence.get("silent_h"))
    if last is None and silent is None:
        return None
    text = ctx.say("no_data", since=ctx.when(last)) if last is not None else ctx.say("no_data_bare")
    limit = number(evidence.get("threshold_h"))
    details = [ctx.say("for_hours", hours=ctx.hours(silent)) if silent is not None else None,
               ctx.say("line_hours", hours=ctx.hours(limit)) if limit is not None else None]
    return line(text, details, ctx.action(AlertKind.NO_DATA))


def missed_checkins(ctx: Ctx, evidence: Mapping[str, Any]) -> str | None:
    in_row, quiet_h = count(evidence.get("unanswered_in_row")), number(evidence.get("hours_without_answer"))
    threshold = as_dict(evidence.get("threshold"))
    line_n, line_h = count(threshold.get("in_row")), number(threshold.get("hours"))
    if in_row is not None and in_row >= max(line_n or 2, 1):
        text = ctx.say("unanswered_in_row", n=in_row)
    elif quiet_h is not None:
        text = ctx.say("no_answer_hours", hours=ctx.hours(quiet_h))
    else:
        return None
    details = [ctx.say("checkin_line", n=line_n, hours=ctx.hours(line_h))
               if line_n is not None and line_h is not None else None]
    return line(text, details, ctx.action(AlertKind.MISSED_CHECKINS))


def night_wandering(ctx: Ctx, evidence: Mapping[str, Any]) -> str | None:
    """"밤에 문 열림: 12월 3일 02:41, 03:12 KST (평소 밤의 5%에 열림)"."""
    opened = sorted(at for at in (instant(t) for t in as_list(evidence.get("door_open_ts"))[:_READ_AT_MOST])
                    if at is not None)
    if not opened:
        return None
    shown = ctx.times(opened[:TIMES_SHOWN])
    if len(opened) > TIMES_SHOWN:
        shown = f"{shown} {ctx.say('more_times', n=len(opened) - TIMES_SHOWN)}"
    baseline = as_dict(evidence.get("baseline"))
    rate, nights = number(baseline.get("night_door_rate")), count(baseline.get("nights"))
    if nights is not None and nights < COLD_START_NIGHTS:
        usual: str | None = ctx.say("night_no_history")
    elif rate is not None and 0 <= rate <= 1:
        usual = ctx.say("night_rate", pct=fmt(rate * 100))
    else:
        usual = None
    return line(ctx.say("door_at_night", times=shown), [usual], ctx.action(AlertKind.NIGHT_WANDERING))


def devices(ctx: Ctx, kind: AlertKind, evidence: Mapping[str, Any]) -> str | None:
    """"손목 밴드 (마지막 수신 12월 3일 14:05 KST), 문 열림 감지기 (연결 끊김 알림)" or
    "손목 밴드 12%": devices by kind and room (their ids are not words a person reads)."""
    parts = []
    listed = [as_dict(d) for d in as_list(evidence.get("devices"))[:_READ_AT_MOST]]
    if kind == AlertKind.LOW_BATTERY and not any(key(d.get("kind"), DEVICE_LABELS) for d in listed):
        batteries = (number(d.get("battery")) for d in listed)
        levels = [f"{fmt(b)}%" for b in batteries if b is not None and 0 <= b <= 100]
        return line(ctx.say("battery_levels", levels=", ".join(levels[:DEVICES_SHOWN])), (),
                    ctx.action(kind)) if levels else None
    for device in listed:
        name = ctx.device(device.get("kind"), device.get("room"))
        if kind == AlertKind.LOW_BATTERY:
            battery = number(device.get("battery"))
            if battery is not None and 0 <= battery <= 100:
                parts.append(ctx.say("device_battery", device=name, pct=fmt(battery)))
            continue
        last = instant(device.get("last_data_ts"))
        if device.get("reported_offline") is True:
            parts.append(ctx.say("device_said_offline", device=name))
        elif last is not None:
            parts.append(ctx.say("device_last", device=name, time=ctx.when(last)))
        elif key(device.get("kind"), DEVICE_LABELS):
            parts.append(name)
    if not parts:
        return None
    text = ", ".join(parts[:DEVICES_SHOWN])
    if len(parts) > DEVICES_SHOWN:
        text = f"{text} {ctx.say('more_devices', n=len(parts) - DEVICES_SHOWN)}"
    return line(text, (), ctx.action(kind))


RENDERERS: Final[dict[AlertKind, Callable[[Ctx, Mapping[str, Any]], str | None]]] = {
    AlertKind.RAPID_WEIGHT_GAIN: weight_gain,
    AlertKind.RISING_BLOOD_PRESSURE: rising_bp,
    AlertKind.DECLINING_ACTIVITY: declining,
    AlertKind.ROUTINE_CHANGE: routine,
    AlertKind.INACTIVITY: inactivity,
    AlertKind.NO_DATA: no_data,
    AlertKind.MISSED_CHECKINS: missed_checkins,
    AlertKind.NIGHT_WANDERING: night_wandering,
    AlertKind.DEVICE_OFFLINE: lambda ctx, evidence: devices(ctx, AlertKind.DEVICE_OFFLINE, evidence),
    AlertKind.LOW_BATTERY: lambda ctx, evidence: devices(ctx, AlertKind.LOW_BATTERY, evidence),
}
