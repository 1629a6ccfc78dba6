"""Conditions that cannot wait for a batch: pure rules, no I/O, no clock.

Readings past ``dolbom.thresholds.CRITICAL_ON_ARRIVAL`` (merged with the enrollee's overrides
by ``thresholds.effective``) and ``sos``/``fall`` events open or update an alert on arrival.
Severity (docs/protocol.md "On-arrival alerts"):

- ``sos`` and ``fall``: critical.
- ``hypoglycemia`` (glucose < 54 mg/dL, ADA 2024 level 2, "requires immediate action"):
  critical on the first reading, a glucometer reading being a deliberate measurement.
- the others (hypertensive crisis, SpO2, heart rate): ``high`` on a single reading and
  ``critical`` when another reading past the line precedes it on the same enrollee within
  the kind's ``dolbom.rules.CONFIRM_WINDOW_S`` (crisis 30 min, SpO2 15, heart rate 10: the
  one definition analytics' vital rules use too). AHA/ACC 2017 asks to confirm a crisis on a
  repeat reading; a wearable's SpO2 and heart rate are noisy and "at rest" cannot be known
  from one point.

Every kind raised here is an ``AlertKind``: the rules' kinds (``RULES``) and the events'
(``EVENT_KINDS``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from dolbom.alerts import AlertKind, Severity
from dolbom.rules import CONFIRM_WINDOW_S, enrollee_zone
from dolbom.thresholds import CRITICAL_ON_ARRIVAL, THRESHOLD_BY_NAME, Threshold, effective
from dolbom.wire import METRIC_BY_NAME, EventType

CRITICAL_ON_FIRST: Final = frozenset({AlertKind.HYPOGLYCEMIA})
# The events that raise an alert on arrival, and the kind each raises.
EVENT_KINDS: Final[dict[str, AlertKind]] = {  # keyed by EventType
    EventType.SOS: AlertKind.SOS,
    EventType.FALL: AlertKind.FALL,
}

COMPARE: Final[dict[str, Callable[[float, float], bool]]] = {
    "ge": operator.ge, "le": operator.le, "lt": operator.lt, "gt": operator.gt,
}
SQL_OP: Final = {"ge": ">=", "le": "<=", "lt": "<", "gt": ">"}
_WORDS: Final = {"ge": "≥", "le": "≤", "lt": "<", "gt": ">"}


@dataclass(frozen=True, slots=True)
class Rule:
    kind: AlertKind
    threshold: Threshold
    comparison: str

    @property
    def metric_code(self) -> int:
        return METRIC_BY_NAME[self.threshold.metric].code

    def lenient_bound(self) -> float:
        """The loosest line any allowed per-enrollee override could set (a pre-filter)."""
        return self.threshold.low if self.comparison in ("ge", "gt") else self.threshold.high


RULES: Final[tuple[Rule, ...]] = tuple(
    Rule(AlertKind(kind), THRESHOLD_BY_NAME[name], comparison)
    for kind, name, comparison in CRITICAL_ON_ARRIVAL
)
RULES_BY_METRIC: Final[dict[str, tuple[Rule, ...]]] = {
    metric: tuple(r for r in RULES if r.threshold.metric == metric)
    for metric in {r.threshold.metric for r in RULES}
}


def _bounds(code: int) -> tuple[float, float]:
    rules = [r for r in RULES if r.metric_code == code]
    high = min((r.lenient_bound() for r in rules if r.comparison in ("ge", "gt")),
               default=math.inf)
    low = max((r.lenient_bound() for r in rules if r.comparison in ("le", "lt")),
              default=-math.inf)
    return high, low


# metric code -> (value >= this, value <= this) could be past a line for some enrollee
_CANDIDATE_BOUNDS: Final[dict[int, tuple[float, float]]] = {
    code: _bounds(code) for code in {r.metric_code for r in RULES}
}


def is_candidate(metric_code: int, value: float) -> bool:
    """Python twin of ``candidate_sql`` (a pre-filter: lenient at the boundary)."""
    bounds = _CANDIDATE_BOUNDS.get(metric_code)
    return bounds is not None and (value >= bounds[0] or value <= bounds[1])


def candidate_sql() -> str:
    """A SQL predicate over (metric, value) true for every reading some override could flag.

    Built only from our own constants (no input), so it is safe to format into a query.
    """
    parts = [
        f"(metric = {r.metric_code} AND value {SQL_OP[r.comparison]} {r.lenient_bound()!r})"
        for r in RULES
    ]
    return "(" + " OR ".join(parts) + ")"


@dataclass(frozen=True, slots=True)
class Breach:
    """One stored reading past one rule's line for its enrollee."""

    kind: AlertKind
    rule: Rule
    line: float  # the effective threshold value
    metric: str
    ts: datetime
    value: float
    device_id: str


def breaches(
    metric: str, ts: datetime, value: float, device_id: str,
    overrides: Mapping[str, float] | None,
) -> list[Breach]:
    """The rules this reading breaks for an enrollee with these threshold overrides."""
    rules = RULES_BY_METRIC.get(metric, ())
    if not rules:
        return []
    lines = effective(overrides)
    return [
        Breach(r.kind, r, lines[r.threshold.name], metric, ts, value, device_id)
        for r in rules
        if COMPARE[r.comparison](value, lines[r.threshold.name])
    ]


def confirm_window(kind: AlertKind) -> timedelta | None:
    """How far back a reading past the line confirms this one; None for a kind critical on
    its first reading (nothing to confirm)."""
    if kind in CRITICAL_ON_FIRST:
        return None
    return timedelta(seconds=CONFIRM_WINDOW_S[kind])


def confirm_lines(kind: AlertKind, overrides: Mapping[str, float] | None
                  ) -> list[tuple[int, str, float]]:
    """(metric code, comparison, effective line) of each of the kind's rules for an enrollee."""
    lines = effective(overrides)
    return [(r.metric_code, r.comparison, float(lines[r.threshold.name]))
            for r in RULES if r.kind == kind]


def severity_for(kind: AlertKind, repeats: int) -> Severity:
    """``repeats``: distinct reading times past the line within the kind's confirmation
    window, this one included (>= 1)."""
    if kind in CRITICAL_ON_FIRST or repeats >= 2:
        return Severity.CRITICAL
    return Severity.HIGH


_METRIC_WORDS: Final = {
    "systolic_bp": "Systolic BP", "diastolic_bp": "Diastolic BP", "glucose": "Glucose",
    "spo2": "SpO2", "heart_rate": "Heart rate",
}
_KIND_WORDS: Final = {
    "hypertensive_crisis": "hypertensive crisis", "hypoglycemia": "severe hypoglycemia",
    "low_spo2": "low oxygen", "bradycardia": "very slow heart rate",
    "tachycardia": "very fast heart rate",
}
_DEVICE_WORDS: Final = {
    "wearable": "wrist band", "bp_monitor": "BP monitor", "glucometer": "glucometer",
    "scale": "scale", "motion_sensor": "motion sensor", "door_sensor": "door sensor",
    "bed_sensor": "bed sensor", "ai_speaker": "AI speaker", "hub": "home hub",
}
_ROOM_WORDS: Final = {"living": "living room", "entrance": "entrance", "other": "home"}


def local_time(ts: datetime, timezone: str, received_at: datetime) -> str:
    """'08:15', or '11-21 08:15' when the data is from an earlier day than its receipt.

    In the enrollee's zone, or ``dolbom.rules.DEFAULT_TIMEZONE`` when theirs is unknown."""
    local = ts.astimezone(enrollee_zone(timezone))
    if received_at - ts > timedelta(hours=12):
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%H:%M")


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def reading_summary(worst: Breach, others: list[Breach], severity: str, when: str,
                    bp_pair: Mapping[str, float] | None = None) -> str:
    """One line a nurse can act on, e.g. 'Hypertensive crisis: BP 192/124 mmHg at 08:15'.

    ``bp_pair``: the systolic and diastolic values measured with a crisis reading.
    """
    unit = worst.rule.threshold.unit
    words = _KIND_WORDS.get(worst.kind, worst.kind.replace("_", " "))
    if worst.kind == AlertKind.HYPERTENSIVE_CRISIS:
        pair = {b.metric: b.value for b in [worst, *others]} | dict(bp_pair or {})
        sbp, dbp = pair.get("systolic_bp"), pair.get("diastolic_bp")
        shown = f"BP {_number(sbp) if sbp is not None else '?'}/" \
                f"{_number(dbp) if dbp is not None else '?'} {unit}"
    else:
        shown = f"{_METRIC_WORDS.get(worst.metric, worst.metric)} {_number(worst.value)} {unit}"
    line = f"{_WORDS[worst.rule.comparison]} {_number(worst.line)}"
    confirm = "" if severity == Severity.CRITICAL else "; repeat the measurement to confirm"
    return f"{words.capitalize()}: {shown} at {when} (line {line}){confirm}"


def reading_evidence(breaches_: list[Breach], repeats: int | None,
                     bp_pair: Mapping[str, float] | None = None) -> dict[str, Any]:
    """What the alert's summary is rendered from in each language (``dolbom.summaries``):
    ``breaches`` (each reading with the line it crossed), ``bp`` with a crisis (both values
    measured together: the breaches' and ``bp_pair``'s) and ``confirmation``; ``readings`` and
    ``thresholds`` as before. ``repeats``: as for ``severity_for``; None for a kind not
    confirmed by a repeat."""
    evidence: dict[str, Any] = {
        "rule": "on-arrival clinical threshold (ingest)",
        "breaches": [
            {"metric": b.metric, "value": round(b.value, 2), "unit": b.rule.threshold.unit,
             "ts": b.ts.isoformat(), "device_id": b.device_id, "threshold": b.rule.threshold.name,
             "line": b.line, "comparison": b.rule.comparison}
            for b in breaches_
        ],
        "readings": [
            {"metric": b.metric, "value": round(b.value, 2), "unit": b.rule.threshold.unit,
             "ts": b.ts.isoformat(), "device_id": b.device_id}
            for b in breaches_
        ],
        "thresholds": [
            {"name": b.rule.threshold.name, "value": b.line,
             "default": b.rule.threshold.value, "comparison": b.rule.comparison,
             "unit": b.rule.threshold.unit, "source": b.rule.threshold.source}
            for b in {b.rule.threshold.name: b for b in breaches_}.values()
        ],
    }
    if breaches_[0].kind == AlertKind.HYPERTENSIVE_CRISIS:
        pair = {b.metric: round(b.value, 2) for b in breaches_} | {
            metric: round(float(value), 2) for metric, value in (bp_pair or {}).items()
            if metric in ("systolic_bp", "diastolic_bp")}
        if pair:
            evidence["bp"] = pair
    window = confirm_window(breaches_[0].kind)
    if repeats is not None and window is not None:
        evidence["confirmation"] = {"window_min": round(window.total_seconds() / 60),
                                    "readings_past_line": repeats}
    return evidence


def event_summary(event_type: str, device_kind: str, room: str | None, when: str) -> str:
    """E.g. 'SOS from AI speaker (living room) at 08:15'."""
    device = _DEVICE_WORDS.get(device_kind, device_kind)
    where = f" ({_ROOM_WORDS.get(room, room)})" if room else ""
    if event_type == EventType.SOS:
        return f"SOS from {device}{where} at {when}: call or visit now"
    return f"Fall detected by {device}{where} at {when}: call or visit now"


def event_evidence(event_type: str, ts: datetime, device_id: str, device_kind: str,
                   room: str | None, data: object) -> dict[str, Any]:
    """The event, and at the top what its summary is rendered from (``dolbom.summaries``):
    ``event_type``, ``event_ts``, ``device_id``, ``device_kind``, ``room``."""
    return {
        "rule": f"{event_type} event raised on arrival (ingest)",
        "event_type": event_type, "event_ts": ts.isoformat(), "device_id": device_id,
        "device_kind": device_kind, "room": room,
        "events": [{"type": event_type, "ts": ts.isoformat(), "device_id": device_id,
                    "device_kind": device_kind, "room": room, "data": data}],
    }
