"""Summaries of what a device or a reading said: SOS and falls (ingest, on arrival) and vital
readings past a clinical line (ingest on arrival, analytics' vital rules).

Two shapes of evidence for the vitals, the newer writer's stored on the alert:
- ingest (``ingest/critical.py``): ``breaches`` [{metric, value, unit, ts, threshold, line,
  comparison}] (older alerts: ``readings`` and ``thresholds`` apart), ``bp`` {systolic_bp,
  diastolic_bp} with a crisis, ``confirmation`` {window_min, readings_past_line};
- analytics (``analytics/detectors/vitals.py``): ``metric``, ``value``, ``values`` [{ts,
  value}], ``threshold`` {name, op, value, source}, ``baseline`` {median, sigma, source},
  ``rule`` {min_count, window_s, personal, at_rest}.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from dolbom.alerts import AlertKind, Severity
from dolbom.summaries.read import (
    OPS,
    Ctx,
    as_dict,
    as_list,
    count,
    fmt,
    instant,
    key,
    line,
    number,
    short_source,
    sourced,
)
from dolbom.summaries.words import AT_REST, BP_LABEL, DECIMALS, DEVICE_LABELS, METRIC_LABELS
from dolbom.thresholds import THRESHOLD_BY_NAME

VITAL_KINDS: Final = frozenset({
    AlertKind.HYPERTENSIVE_CRISIS, AlertKind.HYPOGLYCEMIA, AlertKind.HYPERGLYCEMIA,
    AlertKind.LOW_SPO2, AlertKind.BRADYCARDIA, AlertKind.TACHYCARDIA, AlertKind.FEVER,
})
SUSTAINED_MIN_COUNT: Final = 6  # analytics' sustained rules ask for 6 readings or more
# Kinds a single reading cannot make critical: "repeat the measurement" until confirmed.
CONFIRMED_BY_REPEAT: Final = frozenset({
    AlertKind.HYPERTENSIVE_CRISIS, AlertKind.LOW_SPO2, AlertKind.BRADYCARDIA, AlertKind.TACHYCARDIA,
})


def event(ctx: Ctx, kind: AlertKind, evidence: Mapping[str, Any]) -> str | None:
    """"거실 AI 스피커에서 긴급 호출 (02:17 KST): 바로 전화하거나 방문하세요"."""
    events = as_list(evidence.get("events"))
    first = as_dict(events[0]) if events else {}
    device_kind = evidence.get("device_kind", first.get("device_kind"))
    room = evidence.get("room", first.get("room"))
    at = instant(evidence.get("event_ts", first.get("ts")))
    known_device = key(device_kind, DEVICE_LABELS) is not None
    if at is None and not known_device:
        return None
    name = "sos" if kind == AlertKind.SOS else "fall"
    what = ctx.say(name, device=ctx.device(device_kind, room)) if known_device else ctx.say(f"{name}_bare")
    text = ctx.say("event_at", what=what, time=ctx.when(at)) if at is not None else what
    return line(text, (), ctx.action(kind))


@dataclass(slots=True)
class Reading:
    """A vital finding, whichever component wrote it."""

    metric: str
    value: float
    at: datetime | None = None
    line: float | None = None
    op: str | None = None
    threshold: str | None = None
    source: str | None = None
    pair: tuple[float, float] | None = None  # (systolic, diastolic) of a crisis reading
    confirmed: tuple[str, int, int] | None = None  # (sentence, window in minutes, readings)
    unconfirmed: bool = False  # one reading: "repeat the measurement"
    usual: float | None = None  # the person's own median, for the rules judged against it
    relative: bool = False  # the line is a rise over the person's usual (IDSA fever)
    at_rest: bool = False


def from_ingest(kind: AlertKind, severity: str, evidence: Mapping[str, Any]) -> Reading | None:
    found = as_list(evidence.get("breaches")) or as_list(evidence.get("readings"))
    readings = [r for r in (as_dict(r) for r in found)
                if key(r.get("metric"), METRIC_LABELS) and number(r.get("value")) is not None]
    if not readings:
        return None
    first = readings[0]
    metric = str(first["metric"])
    reading = Reading(metric, float(first["value"]), instant(first.get("ts")))
    if "line" in first:  # a breach names its line
        name, value, op, given = first.get("threshold"), first.get("line"), first.get("comparison"), None
    else:  # older evidence: the thresholds apart, the one of this metric
        thresholds = [as_dict(t) for t in as_list(evidence.get("thresholds"))]
        mine = next((t for t in thresholds if key(t.get("name"), THRESHOLD_BY_NAME)
                     and THRESHOLD_BY_NAME[t["name"]].metric == metric), {})
        name, value, op = mine.get("name"), mine.get("value"), mine.get("comparison")
        given = mine.get("source")
    reading.threshold = key(name, THRESHOLD_BY_NAME)
    reading.line, reading.op = number(value), key(op, OPS)
    reading.source = short_source(reading.threshold, given)
    if kind == AlertKind.HYPERTENSIVE_CRISIS:
        values: dict[str, float] = {str(r["metric"]): float(r["value"]) for r in readings}
        bp = as_dict(evidence.get("bp"))
        sbp = number(bp.get("systolic_bp")) if "systolic_bp" in bp else values.get("systolic_bp")
        dbp = number(bp.get("diastolic_bp")) if "diastolic_bp" in bp else values.get("diastolic_bp")
        if sbp is not None and dbp is not None:
            reading.pair = (sbp, dbp)
    confirmation = as_dict(evidence.get("confirmation"))
    window, past = count(confirmation.get("window_min")), count(confirmation.get("readings_past_line"))
    if window is not None and past is not None and past >= 2:
        reading.confirmed = ("readings_past_line", window, past)
    reading.unconfirmed = kind in CONFIRMED_BY_REPEAT and severity != Severity.CRITICAL
    return reading


def from_analytics(kind: AlertKind, evidence: Mapping[str, Any]) -> Reading | None:
    metric, value = key(evidence.get("metric"), METRIC_LABELS), number(evidence.get("value"))
    if metric is None or value is None:
        return None
    reading = Reading(metric, value)
    values = [as_dict(v) for v in as_list(evidence.get("values"))]
    worst = [v for v in values if number(v.get("value")) == value] or values
    reading.at = instant(worst[-1].get("ts")) if worst else None
    threshold = as_dict(evidence.get("threshold"))
    reading.threshold = key(threshold.get("name"), THRESHOLD_BY_NAME)
    reading.line, reading.op = number(threshold.get("value")), key(threshold.get("op"), OPS)
    reading.source = short_source(reading.threshold, threshold.get("source"))
    reading.relative = reading.threshold == "fever_over_baseline"
    rule, baseline = as_dict(evidence.get("rule")), as_dict(evidence.get("baseline"))
    if baseline.get("source") == "personal" and (reading.relative or rule.get("personal") is True):
        reading.usual = number(baseline.get("median"))
    reading.at_rest = rule.get("at_rest") is True
    needed, window_s = count(rule.get("min_count")), number(rule.get("window_s"))
    window = round(window_s / 60) if window_s is not None and window_s > 0 else None
    if needed is not None and window is not None and needed >= 2:
        sentence = "sustained" if needed >= SUSTAINED_MIN_COUNT else "repeat_confirmed"
        reading.confirmed = (sentence, window, needed)
    reading.unconfirmed = kind == AlertKind.HYPERTENSIVE_CRISIS and needed == 1
    return reading


def vital(ctx: Ctx, kind: AlertKind, severity: str, evidence: Mapping[str, Any]) -> str | None:
    """"혈압 186/95 mmHg, 08:00 KST 측정 (기준 ≥ 180, AHA/ACC 2017): 다시 측정해 확인하세요"."""
    ingest = "breaches" in evidence or "readings" in evidence
    reading = from_ingest(kind, severity, evidence) if ingest else from_analytics(kind, evidence)
    if reading is None:
        return None
    unit, decimals = ctx.unit(reading.metric), DECIMALS.get(reading.metric, 0)
    if reading.pair is not None:
        label, shown = ctx.pick(BP_LABEL), f"{fmt(reading.pair[0])}/{fmt(reading.pair[1])} {unit}"
    else:
        label, shown = ctx.pick(METRIC_LABELS[reading.metric]), ctx.value(reading.metric, reading.value)
    if reading.at_rest:
        label = ctx.pick(AT_REST).format(metric=label)
    text = ctx.say("reading_at", metric=label, value=shown, time=ctx.when(reading.at)) \
        if reading.at is not None else ctx.say("reading", metric=label, value=shown)
    details: list[str | None] = []
    if reading.usual is not None:
        usual = ctx.value(reading.metric, reading.usual)
        rise = f"{fmt(reading.value - reading.usual, 1)} {unit}"
        details.append(ctx.say("rise_over_usual", usual=usual, rise=rise) if reading.relative
                       else ctx.say("usual", usual=usual))
    if reading.line is not None and reading.relative:
        details.append(sourced(ctx.say("rise_line", line=f"{fmt(reading.line, 1)} {unit}"), reading.source))
    elif reading.line is not None and reading.op is not None:
        details.append(sourced(ctx.say("line", op=OPS[reading.op], line=fmt(reading.line, decimals)),
                               reading.source))
    if reading.confirmed is not None:
        sentence, window, readings = reading.confirmed
        details.append(ctx.say(sentence, window=window, n=readings))
    if reading.unconfirmed:
        action = ctx.action("repeat")
    elif kind == AlertKind.HYPOGLYCEMIA and severity != Severity.CRITICAL:
        action = ctx.action("level1_hypoglycemia")
    else:
        action = ctx.action(kind)
    return line(text, details, action)
