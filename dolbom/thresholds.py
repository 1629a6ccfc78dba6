"""Clinical thresholds, defined once, as data, each with its source.

A health centre may override any of them per enrollee: ``enrollees.thresholds`` is a JSON
object keyed by the names below (``PATCH /v1/enrollees/{id}``). ``effective()`` merges.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Threshold:
    name: str
    metric: str
    value: float
    unit: str
    source: str
    low: float  # sane bounds for an override
    high: float


THRESHOLDS: Final[tuple[Threshold, ...]] = (
    # AHA/ACC 2017 hypertension guideline: hypertensive crisis SBP > 180 and/or DBP > 120;
    # the critical table uses >= 180 / >= 120.
    Threshold("sbp_crisis", "systolic_bp", 180, "mmHg", "AHA/ACC 2017 hypertensive crisis", 140, 250),
    Threshold("dbp_crisis", "diastolic_bp", 120, "mmHg", "AHA/ACC 2017 hypertensive crisis", 90, 160),
    # AHA/ACC 2017 stage 2 hypertension, for trend reports (>= 140/90).
    Threshold("sbp_stage2", "systolic_bp", 140, "mmHg", "AHA/ACC 2017 stage 2", 120, 180),
    Threshold("dbp_stage2", "diastolic_bp", 90, "mmHg", "AHA/ACC 2017 stage 2", 70, 120),
    # ADA Standards of Care 2024 §6: level 1 hypoglycemia < 70 mg/dL, level 2 < 54 mg/dL.
    Threshold("glucose_low_l1", "glucose", 70, "mg/dL", "ADA 2024 level 1 hypoglycemia", 60, 90),
    Threshold("glucose_low_l2", "glucose", 54, "mg/dL", "ADA 2024 level 2 hypoglycemia", 40, 65),
    # ADA: hyperglycemic crisis work-up above ~250-300 mg/dL; we alert above 300.
    Threshold("glucose_high", "glucose", 300, "mg/dL", "ADA 2024 hyperglycemia (DKA/HHS risk)", 200, 600),
    # NEWS2 (RCP 2017): SpO2 scale 1 scores 3 at <= 91 %; <= 88 % is the critical line
    # (also the lower bound of NEWS2 scale 2 target range 88-92 %).
    Threshold("spo2_low", "spo2", 91, "%", "NEWS2 SpO2 scale 1 score 3 (<= 91 %)", 80, 96),
    Threshold("spo2_critical", "spo2", 88, "%", "NEWS2 scale 2 floor (88 %)", 75, 92),
    # NEWS2: heart rate <= 40 or >= 131 scores 3; the critical table uses <= 40 / >= 140.
    Threshold("hr_low", "heart_rate", 50, "beats/min", "NEWS2 HR 41-50 scores 1", 35, 60),
    Threshold("hr_critical_low", "heart_rate", 40, "beats/min", "NEWS2 HR <= 40 scores 3", 30, 50),
    Threshold("hr_high", "heart_rate", 111, "beats/min", "NEWS2 HR 111-130 scores 2", 90, 140),
    Threshold("hr_critical_high", "heart_rate", 140, "beats/min", "NEWS2 HR >= 131 scores 3", 120, 180),
    # NEWS2 respiration: <= 8 or >= 25 scores 3.
    Threshold("rr_low", "respiratory_rate", 8, "breaths/min", "NEWS2 RR <= 8 scores 3", 6, 12),
    Threshold("rr_high", "respiratory_rate", 25, "breaths/min", "NEWS2 RR >= 25 scores 3", 20, 35),
    # IDSA 2008 guideline for fever in older adults in long-term care: single oral > 37.8 °C,
    # or an increase > 1.1 °C (2 °F) over baseline.
    Threshold("fever", "body_temp", 37.8, "°C", "IDSA 2008 fever in older adults", 37.2, 39.0),
    Threshold("fever_over_baseline", "body_temp", 1.1, "°C", "IDSA 2008 rise over baseline", 0.5, 2.0),
    # NEWS2 temperature <= 35.0 scores 3.
    Threshold("hypothermia", "body_temp", 35.0, "°C", "NEWS2 temperature <= 35.0 scores 3", 34, 36),
    # ESC 2021 heart-failure guideline: weight gain > 2 kg in 3 days -> contact the team.
    Threshold("weight_gain_3d", "weight", 2.0, "kg", "ESC 2021 heart failure self-care", 1.0, 5.0),
    # Home BP control target used in reports: mean home BP < 135/85 (ESC/ESH 2018, AHA 2017).
    Threshold("home_sbp_control", "systolic_bp", 135, "mmHg", "ESC/ESH 2018 home BP", 120, 150),
    Threshold("home_dbp_control", "diastolic_bp", 85, "mmHg", "ESC/ESH 2018 home BP", 70, 95),
)
THRESHOLD_BY_NAME: Final = {t.name: t for t in THRESHOLDS}


def defaults() -> dict[str, float]:
    return {t.name: t.value for t in THRESHOLDS}


def effective(overrides: Mapping[str, float] | None) -> dict[str, float]:
    """Defaults merged with an enrollee's overrides (unknown names are ignored)."""
    values = defaults()
    if overrides:
        for name, value in overrides.items():
            if name in values:
                values[name] = float(value)
    return values


def validate_overrides(overrides: Mapping[str, object]) -> dict[str, float]:
    """Check an override map; raise ValueError with a readable message."""
    clean: dict[str, float] = {}
    for name, value in overrides.items():
        threshold = THRESHOLD_BY_NAME.get(name)
        if threshold is None:
            raise ValueError(f"unknown threshold {name!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"threshold {name!r} must be a number")
        if not threshold.low <= float(value) <= threshold.high:
            raise ValueError(
                f"threshold {name!r} must be between {threshold.low} and {threshold.high} "
                f"{threshold.unit}"
            )
        clean[name] = float(value)
    return clean


# Readings that open a critical alert on arrival in ingest (issue 3), as (threshold name,
# comparison). A reading is critical when ``value <= threshold`` for "le", ``>=`` for "ge",
# ``<`` for "lt".
CRITICAL_ON_ARRIVAL: Final[tuple[tuple[str, str, str], ...]] = (
    # (alert kind, threshold name, comparison)
    ("hypertensive_crisis", "sbp_crisis", "ge"),
    ("hypertensive_crisis", "dbp_crisis", "ge"),
    ("hypoglycemia", "glucose_low_l2", "lt"),
    ("low_spo2", "spo2_critical", "le"),
    ("bradycardia", "hr_critical_low", "le"),
    ("tachycardia", "hr_critical_high", "ge"),
)
