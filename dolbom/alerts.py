"""Alert kinds, severities and statuses of CONTRACT §2, defined once."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY_RANK: Final = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertKind(StrEnum):
    SOS = "sos"
    FALL = "fall"
    HYPERTENSIVE_CRISIS = "hypertensive_crisis"
    HYPOGLYCEMIA = "hypoglycemia"
    HYPERGLYCEMIA = "hyperglycemia"
    LOW_SPO2 = "low_spo2"
    BRADYCARDIA = "bradycardia"
    TACHYCARDIA = "tachycardia"
    FEVER = "fever"
    RAPID_WEIGHT_GAIN = "rapid_weight_gain"
    INACTIVITY = "inactivity"
    NIGHT_WANDERING = "night_wandering"
    ROUTINE_CHANGE = "routine_change"
    DECLINING_ACTIVITY = "declining_activity"
    MISSED_CHECKINS = "missed_checkins"
    DEVICE_OFFLINE = "device_offline"
    LOW_BATTERY = "low_battery"
    NO_DATA = "no_data"
    RISING_BLOOD_PRESSURE = "rising_blood_pressure"


# Kinds raised on arrival by ingest (DESIGN: "stream where lives depend on it").
ON_ARRIVAL_KINDS: Final = frozenset({AlertKind.SOS, AlertKind.FALL})

# The severity a kind opens with unless its rule says otherwise.
DEFAULT_SEVERITY: Final[dict[AlertKind, Severity]] = {
    AlertKind.SOS: Severity.CRITICAL,
    AlertKind.FALL: Severity.CRITICAL,
    AlertKind.HYPERTENSIVE_CRISIS: Severity.CRITICAL,
    AlertKind.HYPOGLYCEMIA: Severity.HIGH,
    AlertKind.HYPERGLYCEMIA: Severity.HIGH,
    AlertKind.LOW_SPO2: Severity.HIGH,
    AlertKind.BRADYCARDIA: Severity.HIGH,
    AlertKind.TACHYCARDIA: Severity.HIGH,
    AlertKind.FEVER: Severity.MEDIUM,
    AlertKind.RAPID_WEIGHT_GAIN: Severity.MEDIUM,
    AlertKind.INACTIVITY: Severity.HIGH,
    AlertKind.NIGHT_WANDERING: Severity.MEDIUM,
    AlertKind.ROUTINE_CHANGE: Severity.LOW,
    AlertKind.DECLINING_ACTIVITY: Severity.LOW,
    AlertKind.MISSED_CHECKINS: Severity.MEDIUM,
    AlertKind.DEVICE_OFFLINE: Severity.LOW,
    AlertKind.LOW_BATTERY: Severity.LOW,
    AlertKind.NO_DATA: Severity.MEDIUM,
    AlertKind.RISING_BLOOD_PRESSURE: Severity.MEDIUM,
}

# What a care worker reads for each kind, (Korean, English): the one catalogue that the web
# app, the reports and the API's labels take. A kind without both is a test failure.
KIND_LABELS: Final[dict[AlertKind, tuple[str, str]]] = {
    AlertKind.SOS: ("응급 호출", "SOS"),
    AlertKind.FALL: ("낙상", "Fall"),
    AlertKind.HYPERTENSIVE_CRISIS: ("고혈압 위기", "Hypertensive crisis"),
    AlertKind.HYPOGLYCEMIA: ("저혈당", "Hypoglycemia"),
    AlertKind.HYPERGLYCEMIA: ("고혈당", "Hyperglycemia"),
    AlertKind.LOW_SPO2: ("산소포화도 저하", "Low SpO2"),
    AlertKind.BRADYCARDIA: ("서맥", "Bradycardia"),
    AlertKind.TACHYCARDIA: ("빈맥", "Tachycardia"),
    AlertKind.FEVER: ("발열", "Fever"),
    AlertKind.RAPID_WEIGHT_GAIN: ("급격한 체중 증가", "Rapid weight gain"),
    AlertKind.INACTIVITY: ("활동 없음", "Inactivity"),
    AlertKind.NIGHT_WANDERING: ("야간 배회", "Night wandering"),
    AlertKind.ROUTINE_CHANGE: ("생활 패턴 변화", "Routine change"),
    AlertKind.DECLINING_ACTIVITY: ("활동 감소", "Declining activity"),
    AlertKind.MISSED_CHECKINS: ("안부 확인 누락", "Missed check-ins"),
    AlertKind.DEVICE_OFFLINE: ("기기 연결 끊김", "Device offline"),
    AlertKind.LOW_BATTERY: ("배터리 부족", "Low battery"),
    AlertKind.NO_DATA: ("자료 없음", "No data"),
    AlertKind.RISING_BLOOD_PRESSURE: ("혈압 상승 추세", "Rising blood pressure"),
}

def kind_label(kind: str, lang: str = "ko") -> str:
    """A kind's label in ``lang`` ("ko" or "en"); an unknown kind is shown as it is."""
    try:
        pair = KIND_LABELS[AlertKind(kind)]
    except ValueError:
        return kind
    return pair[1] if lang == "en" else pair[0]
