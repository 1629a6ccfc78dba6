"""The vital rules as data: which threshold of ``dolbom.thresholds`` becomes which alert, and
how (confirmation on a repeat reading, sustained for minutes, at rest, against the person's own
baseline, a hysteresis band for clearing). ``detectors/vitals.py`` applies them.

Every rule names its fields; the numbers are the thresholds' (with their sources) and the
confirmation windows of ``dolbom.rules`` (shared with ingest's on-arrival rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from dolbom.alerts import AlertKind, Severity
from dolbom.rules import CONFIRM_WINDOW_S
from dolbom.thresholds import THRESHOLDS
from dolbom.wire import METRIC_BY_NAME

THRESHOLD_NAMES: Final = tuple(t.name for t in THRESHOLDS)
THRESHOLD_INDEX: Final = {name: i for i, name in enumerate(THRESHOLD_NAMES)}
CONTEXT_S: Final = 30 * 60  # readings before the window that rules may look back on
REST_WINDOW_S: Final = 15 * 60
REST_MAX_STEPS: Final = 100  # steps per 15 min below which heart rate is "at rest"
PERSONAL_K: Final = 3.0  # sub-critical bands also need |value - own median| > K * own sigma
STEPS: Final = METRIC_BY_NAME["steps"].code


@dataclass(frozen=True, slots=True, kw_only=True)
class VitalRule:
    """How one threshold becomes an alert (named fields only: a rule reads as a sentence)."""

    kind: AlertKind
    metric: str
    threshold: str  # the name of a dolbom.thresholds threshold
    op: str  # "lt", "le", "gt", "ge": breach when value <op> threshold
    severity: Severity
    min_count: int = 1  # breaching readings within window_s (2 = confirmed on a repeat)
    window_s: float = 600.0
    min_fraction: float = 0.0  # of all readings of the metric in the window
    clear_margin: float = 0.0  # hysteresis: cleared only this far on the safe side
    personal: bool = False
    at_rest: bool = False
    relative: bool = False  # threshold is a rise over the personal baseline (IDSA)
    label: str = ""


# Confirmation on a repeat reading (AHA/ACC 2017 for a crisis; a wearable's SpO2 and heart
# rate): the windows of dolbom/rules.py, shared with ingest's on-arrival rule.
CRISIS_CONFIRM_S: Final = CONFIRM_WINDOW_S[AlertKind.HYPERTENSIVE_CRISIS]
SPO2_CONFIRM_S: Final = CONFIRM_WINDOW_S[AlertKind.LOW_SPO2]
BRADYCARDIA_CONFIRM_S: Final = CONFIRM_WINDOW_S[AlertKind.BRADYCARDIA]
TACHYCARDIA_CONFIRM_S: Final = CONFIRM_WINDOW_S[AlertKind.TACHYCARDIA]
# NEWS2's sub-critical heart-rate bands count only when sustained: 80 % of the readings of
# the last 30 minutes past the line.
SUSTAINED_S: Final = 30 * 60.0

RULES: Final[tuple[VitalRule, ...]] = (
    # AHA/ACC 2017: crisis >= 180 and/or >= 120; confirm on a repeat reading (AHA advises a
    # second measurement after a few minutes). A single reading is "high", confirmed "critical".
    VitalRule(
        kind=AlertKind.HYPERTENSIVE_CRISIS,
        metric="systolic_bp",
        threshold="sbp_crisis",
        op="ge",
        severity=Severity.CRITICAL,
        min_count=2,
        window_s=CRISIS_CONFIRM_S,
        clear_margin=20,
        label="systolic blood pressure",
    ),
    VitalRule(
        kind=AlertKind.HYPERTENSIVE_CRISIS,
        metric="systolic_bp",
        threshold="sbp_crisis",
        op="ge",
        severity=Severity.HIGH,
        window_s=CRISIS_CONFIRM_S,
        clear_margin=20,
        label="systolic blood pressure",
    ),
    VitalRule(
        kind=AlertKind.HYPERTENSIVE_CRISIS,
        metric="diastolic_bp",
        threshold="dbp_crisis",
        op="ge",
        severity=Severity.CRITICAL,
        min_count=2,
        window_s=CRISIS_CONFIRM_S,
        clear_margin=15,
        label="diastolic blood pressure",
    ),
    VitalRule(
        kind=AlertKind.HYPERTENSIVE_CRISIS,
        metric="diastolic_bp",
        threshold="dbp_crisis",
        op="ge",
        severity=Severity.HIGH,
        window_s=CRISIS_CONFIRM_S,
        clear_margin=15,
        label="diastolic blood pressure",
    ),
    # ADA 2024: level 2 < 54 mg/dL (critical), level 1 < 70 mg/dL; cleared at >= 80 (treat and
    # re-check until above 70: the 15-15 rule, with a margin).
    VitalRule(
        kind=AlertKind.HYPOGLYCEMIA,
        metric="glucose",
        threshold="glucose_low_l2",
        op="lt",
        severity=Severity.CRITICAL,
        clear_margin=26,
        label="glucose (level 2 hypoglycemia)",
    ),
    VitalRule(
        kind=AlertKind.HYPOGLYCEMIA,
        metric="glucose",
        threshold="glucose_low_l1",
        op="lt",
        severity=Severity.HIGH,
        clear_margin=10,
        label="glucose (level 1 hypoglycemia)",
    ),
    # ADA 2024: > 300 mg/dL warrants a DKA/HHS check.
    VitalRule(
        kind=AlertKind.HYPERGLYCEMIA,
        metric="glucose",
        threshold="glucose_high",
        op="gt",
        severity=Severity.HIGH,
        clear_margin=50,
        label="glucose",
    ),
    # NEWS2: SpO2 <= 91 % scores 3; <= 88 % critical. Both need two readings in the
    # confirmation window (a single wrist dip is an artefact), sub-critical half of them past.
    VitalRule(
        kind=AlertKind.LOW_SPO2,
        metric="spo2",
        threshold="spo2_critical",
        op="le",
        severity=Severity.CRITICAL,
        min_count=2,
        window_s=SPO2_CONFIRM_S,
        clear_margin=6,
        label="SpO2",
    ),
    VitalRule(
        kind=AlertKind.LOW_SPO2,
        metric="spo2",
        threshold="spo2_low",
        op="le",
        severity=Severity.HIGH,
        min_count=2,
        window_s=SPO2_CONFIRM_S,
        min_fraction=0.5,
        clear_margin=3,
        label="SpO2",
    ),
    # NEWS2: pulse <= 40 or >= 131 scores 3 (critical here at <= 40 / >= 140, two readings in
    # the confirmation window); 41-50 and 111-130 score 1-2: sustained (80 % of readings over
    # 30 min), at rest (fewer than 100 steps in the last 15 min) and unusual for this person.
    VitalRule(
        kind=AlertKind.BRADYCARDIA,
        metric="heart_rate",
        threshold="hr_critical_low",
        op="le",
        severity=Severity.CRITICAL,
        min_count=2,
        window_s=BRADYCARDIA_CONFIRM_S,
        min_fraction=0.5,
        clear_margin=15,
        label="heart rate",
    ),
    VitalRule(
        kind=AlertKind.BRADYCARDIA,
        metric="heart_rate",
        threshold="hr_low",
        op="le",
        severity=Severity.HIGH,
        min_count=6,
        window_s=SUSTAINED_S,
        min_fraction=0.8,
        clear_margin=5,
        personal=True,
        label="heart rate",
    ),
    VitalRule(
        kind=AlertKind.TACHYCARDIA,
        metric="heart_rate",
        threshold="hr_critical_high",
        op="ge",
        severity=Severity.CRITICAL,
        min_count=2,
        window_s=TACHYCARDIA_CONFIRM_S,
        min_fraction=0.5,
        clear_margin=30,
        at_rest=True,
        label="heart rate at rest",
    ),
    VitalRule(
        kind=AlertKind.TACHYCARDIA,
        metric="heart_rate",
        threshold="hr_high",
        op="ge",
        severity=Severity.HIGH,
        min_count=6,
        window_s=SUSTAINED_S,
        min_fraction=0.8,
        clear_margin=10,
        personal=True,
        at_rest=True,
        label="heart rate at rest",
    ),
    # IDSA 2008 (fever in older adults in long-term care): single oral > 37.8 °C, or a rise
    # > 1.1 °C over the person's baseline.
    VitalRule(
        kind=AlertKind.FEVER,
        metric="body_temp",
        threshold="fever",
        op="gt",
        severity=Severity.MEDIUM,
        clear_margin=0.3,
        label="body temperature",
    ),
    VitalRule(
        kind=AlertKind.FEVER,
        metric="body_temp",
        threshold="fever_over_baseline",
        op="gt",
        severity=Severity.MEDIUM,
        clear_margin=0.5,
        relative=True,
        label="body temperature rise over usual",
    ),
)
VITAL_KINDS: Final = tuple(dict.fromkeys(r.kind for r in RULES))
KIND_INDEX: Final = {kind: i for i, kind in enumerate(VITAL_KINDS)}
RULES_BY_METRIC: Final[dict[str, tuple[VitalRule, ...]]] = {
    m: tuple(r for r in RULES if r.metric == m) for m in dict.fromkeys(r.metric for r in RULES)
}
# How far back each metric's rules look (confirmation / sustained windows), for loading context.
CONTEXT_BY_METRIC: Final[dict[int, float]] = {
    METRIC_BY_NAME[m].code: max(r.window_s for r in rules) for m, rules in RULES_BY_METRIC.items()
}
# The metrics with a rule relative to the person's baseline (fever over her own temperature):
# whether a reading of them is past the line needs the baseline.
RELATIVE_METRICS: Final = sorted(
    {METRIC_BY_NAME[name].code for name, rules in RULES_BY_METRIC.items() if any(r.relative for r in rules)}
)
