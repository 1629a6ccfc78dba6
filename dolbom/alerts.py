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
}
