"""Every clinical rule at and around its threshold (values from dolbom.thresholds)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.detectors.vital_rules import RULES, THRESHOLD_INDEX
from analytics.detectors.vitals import EnrolleeContext, VitalBatch, score_vitals
from dolbom.thresholds import THRESHOLD_BY_NAME
from dolbom.wire import METRIC_BY_NAME

T0 = 1_800_000_000.0


def batch(metric: str, values: list[float], step_s: float = 60.0, enrollee: int = 0) -> VitalBatch:
    n = len(values)
    return VitalBatch(
        np.full(n, enrollee),
        np.full(n, METRIC_BY_NAME[metric].code),
        T0 + step_s * np.arange(n),
        np.array(values, dtype=float),
        np.ones(n, dtype=bool),
    )


def kinds(b: VitalBatch, ctx: EnrolleeContext | None = None) -> dict[str, str]:
    findings, _ = score_vitals(b, ctx or EnrolleeContext.defaults(1))
    return {f.kind: f.severity for f in findings}


# (metric, value at the threshold, step towards danger, kind, severity at threshold or None)
SINGLE_READING_CASES = [
    ("glucose", 54.0, -1, "hypoglycemia", "high"),  # < 54 is level 2; exactly 54 is level 1
    ("glucose", 53.9, -1, "hypoglycemia", "critical"),
    ("glucose", 70.0, -1, None, None),  # ADA level 1 is < 70
    ("glucose", 69.9, -1, "hypoglycemia", "high"),
    ("glucose", 300.0, 1, None, None),  # ADA: > 300
    ("glucose", 300.1, 1, "hyperglycemia", "high"),
    ("body_temp", 37.8, 1, None, None),  # IDSA: > 37.8 °C
    ("body_temp", 37.85, 1, "fever", "medium"),
    ("systolic_bp", 179.0, 1, None, None),
    ("systolic_bp", 180.0, 1, "hypertensive_crisis", "high"),  # single reading: repeat advised
    ("diastolic_bp", 119.0, 1, None, None),
    ("diastolic_bp", 120.0, 1, "hypertensive_crisis", "high"),
]


@pytest.mark.parametrize(("metric", "value", "direction", "kind", "severity"), SINGLE_READING_CASES)
def test_single_reading_thresholds(
    metric: str, value: float, direction: int, kind: str | None, severity: str | None
) -> None:
    found = kinds(batch(metric, [value]))
    if kind is None:
        assert found == {}
    else:
        assert found == {kind: severity}


@pytest.mark.parametrize(
    ("metric", "value", "confirmed"),
    [
        ("systolic_bp", 180, True),
        ("systolic_bp", 179, False),
        ("diastolic_bp", 120, True),
        ("diastolic_bp", 119, False),
    ],
)
def test_aha_crisis_is_critical_only_when_confirmed_on_repeat(
    metric: str, value: float, confirmed: bool
) -> None:
    found = kinds(batch(metric, [value, value], step_s=300))
    assert found == ({"hypertensive_crisis": "critical"} if confirmed else {})


def test_crisis_repeat_outside_30_minutes_is_not_a_confirmation() -> None:
    assert kinds(batch("systolic_bp", [190, 190], step_s=31 * 60)) == {"hypertensive_crisis": "high"}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([88, 88], {"low_spo2": "critical"}),  # NEWS2 scale 2 floor, two readings
        ([89, 89], {"low_spo2": "high"}),  # <= 91 scores 3
        ([91, 91], {"low_spo2": "high"}),
        ([92, 92], {}),
        ([91, 97], {}),  # a single dip is a wrist artefact
    ],
)
def test_spo2_needs_two_readings(values: list[float], expected: dict[str, str]) -> None:
    assert kinds(batch("spo2", values)) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([140] * 3, {"tachycardia": "critical"}),
        ([139] * 3, {}),
        ([40] * 3, {"bradycardia": "critical"}),
        ([41] * 3, {}),
    ],
)
def test_heart_rate_critical_bands(values: list[float], expected: dict[str, str]) -> None:
    # 139 and 41 are inside the high bands but population sigma 9 bpm: personal check decides,
    # so use a context whose baseline makes them ordinary
    ctx = EnrolleeContext.defaults(1)
    code = METRIC_BY_NAME["heart_rate"].code
    ctx.baselines.median[0, code, :] = values[0]
    ctx.baselines.sigma[0, code, :] = 5
    ctx.baselines.days[0, code] = 28
    assert kinds(batch("heart_rate", values), ctx) == expected


def test_sub_critical_tachycardia_needs_personal_deviation_and_rest() -> None:
    hr = [115.0] * 6
    assert kinds(batch("heart_rate", hr)) == {"tachycardia": "high"}  # population baseline 72
    ctx = EnrolleeContext.defaults(1)  # "always a bit high": her own baseline is 112
    code = METRIC_BY_NAME["heart_rate"].code
    ctx.baselines.median[0, code, :] = 112
    ctx.baselines.sigma[0, code, :] = 4
    ctx.baselines.days[0, code] = 28
    assert kinds(batch("heart_rate", hr), ctx) == {}
    walking = batch("heart_rate", hr)
    steps = batch("steps", [120.0] * 6)
    both = VitalBatch(
        *(
            np.concatenate((getattr(walking, f), getattr(steps, f)))
            for f in ("enrollee", "metric", "ts", "value", "new")
        )
    )
    assert kinds(both) == {}


def test_sub_critical_tachycardia_needs_30_sustained_minutes() -> None:
    assert kinds(batch("heart_rate", [115.0] * 5, step_s=300)) == {}
    assert kinds(batch("heart_rate", [115.0] * 6, step_s=300)) == {"tachycardia": "high"}
    assert kinds(batch("heart_rate", [115.0] * 6 + [80.0] * 3, step_s=300)) == {"tachycardia": "high"}
    assert kinds(batch("heart_rate", [115.0, 80.0] * 4, step_s=120)) == {}  # 50 % is not sustained


def test_fever_over_personal_baseline_idsa() -> None:
    ctx = EnrolleeContext.defaults(1)
    code = METRIC_BY_NAME["body_temp"].code
    ctx.baselines.median[0, code, :] = 36.0
    ctx.baselines.sigma[0, code, :] = 0.2
    ctx.baselines.days[0, code] = 20
    assert kinds(batch("body_temp", [37.1]), ctx) == {}  # +1.1 exactly is not > 1.1
    found, _ = score_vitals(batch("body_temp", [37.2]), ctx)
    assert [f.kind for f in found] == ["fever"]
    assert "over usual" in found[0].summary and found[0].evidence["baseline"]["source"] == "personal"
    # on a cold start the rise rule is silent (no personal baseline) and the absolute one decides
    assert kinds(batch("body_temp", [37.2])) == {}


def test_enrollee_override_moves_the_threshold() -> None:
    ctx = EnrolleeContext.defaults(2)
    ctx.thresholds[1, THRESHOLD_INDEX["glucose_low_l1"]] = 80
    b = VitalBatch(
        np.array([0, 1]),
        np.full(2, METRIC_BY_NAME["glucose"].code),
        np.full(2, T0),
        np.array([75.0, 75.0]),
        np.ones(2, dtype=bool),
    )
    findings, _ = score_vitals(b, ctx)
    assert [(f.enrollee_id, f.kind) for f in findings] == [(1, "hypoglycemia")]
    assert findings[0].evidence["threshold"]["value"] == 80


def test_context_readings_do_not_alert_again() -> None:
    b = batch("glucose", [50.0, 100.0])
    old = VitalBatch(b.enrollee, b.metric, b.ts, b.value, np.array([False, True]))
    findings, clearances = score_vitals(old, EnrolleeContext.defaults(1))
    assert findings == []
    assert {c.kind for c in clearances} >= {"hypoglycemia"}


@pytest.mark.parametrize(("value", "cleared"), [(79.0, False), (80.0, True)])
def test_hypoglycemia_hysteresis_band(value: float, cleared: bool) -> None:
    _, clearances = score_vitals(batch("glucose", [value]), EnrolleeContext.defaults(1))
    assert ("hypoglycemia" in {c.kind for c in clearances}) is cleared


def test_every_rule_cites_a_source_and_evidence_is_complete() -> None:
    for rule in RULES:
        assert THRESHOLD_BY_NAME[rule.threshold].source
    findings, _ = score_vitals(batch("glucose", [40.0]), EnrolleeContext.defaults(1))
    evidence = findings[0].evidence
    assert {"summary", "value", "values", "threshold", "baseline", "news2_partial"} <= set(evidence)
    assert evidence["summary"] == findings[0].summary
