"""The wire schema of CONTRACT §1, defined once.

Imported by ``ingest/`` (to validate) and ``device_sim/`` (to generate). Metric and event
codes are the small integers stored in the database; never renumber them, only append.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final

TOPIC_PREFIX: Final = "dolbom/v1"
Z2M_PREFIX: Final = "zigbee2mqtt"
DEVICE_ID_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

MAX_BATCH_ITEMS: Final = 1000  # CONTRACT §1: "a JSON array of up to 1000"
MAX_FUTURE_SKEW: Final = timedelta(minutes=5)  # CONTRACT §1 bad input
MAX_PAST_AGE: Final = timedelta(days=30)  # CONTRACT §1 bad input
DEFAULT_MAX_PAYLOAD_BYTES: Final = 256 * 1024  # CONTRACT §5.9: a message at most 256 KB
# CONTRACT §5.9: an event's ``data`` is an object of at most 4 KB nested at most 8 levels deep.
MAX_EVENT_DATA_BYTES: Final = 4 * 1024
MAX_EVENT_DATA_DEPTH: Final = 8
# Nesting of a whole message: an array of events whose data is 8 deep is 10 levels. Past 16
# the message is refused whole before an item is looked at (no valid part could be in it);
# between the two, the event whose data is too deep is refused alone, with its reason.
MAX_PAYLOAD_DEPTH: Final = 16
# CONTRACT §5.9: quarantine keeps at most the first 64 KB of a payload, with its size and SHA-256.
QUARANTINE_KEEP_BYTES: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class Metric:
    code: int
    name: str
    unit: str
    low: float
    high: float
    integer: bool = False


# CONTRACT §1 "Metrics and their units": plausible range (outside -> quarantined).
METRICS: Final[tuple[Metric, ...]] = (
    Metric(1, "heart_rate", "beats/min", 20, 250),
    Metric(2, "spo2", "%", 50, 100),
    Metric(3, "respiratory_rate", "breaths/min", 4, 60),
    Metric(4, "systolic_bp", "mmHg", 50, 300),
    Metric(5, "diastolic_bp", "mmHg", 20, 200),
    Metric(6, "glucose", "mg/dL", 10, 1000),
    Metric(7, "weight", "kg", 20, 300),
    Metric(8, "body_temp", "°C", 30, 45),
    Metric(9, "steps", "steps", 0, 20000, integer=True),
    Metric(10, "sleep_minutes", "min", 0, 1440),
    Metric(11, "room_temp", "°C", -30, 60),
    Metric(12, "humidity", "%", 0, 100),
)
METRIC_BY_NAME: Final = {m.name: m for m in METRICS}
METRIC_BY_CODE: Final = {m.code: m for m in METRICS}


class EventType(StrEnum):
    SOS = "sos"
    FALL = "fall"
    MOTION = "motion"
    DOOR_OPEN = "door_open"
    DOOR_CLOSE = "door_close"
    BED_EXIT = "bed_exit"
    BED_ENTRY = "bed_entry"
    CHECKIN = "checkin"
    MEDICATION_TAKEN = "medication_taken"
    MEDICATION_MISSED = "medication_missed"
    TOILET = "toilet"


# Stored codes for event types; append only.
EVENT_CODES: Final[dict[str, int]] = {
    EventType.SOS: 1,
    EventType.FALL: 2,
    EventType.MOTION: 3,
    EventType.DOOR_OPEN: 4,
    EventType.DOOR_CLOSE: 5,
    EventType.BED_EXIT: 6,
    EventType.BED_ENTRY: 7,
    EventType.CHECKIN: 8,
    EventType.MEDICATION_TAKEN: 9,
    EventType.MEDICATION_MISSED: 10,
    EventType.TOILET: 11,
}
EVENT_BY_CODE: Final = {code: name for name, code in EVENT_CODES.items()}


class DeviceKind(StrEnum):
    WEARABLE = "wearable"
    BP_MONITOR = "bp_monitor"
    GLUCOMETER = "glucometer"
    SCALE = "scale"
    MOTION_SENSOR = "motion_sensor"
    DOOR_SENSOR = "door_sensor"
    BED_SENSOR = "bed_sensor"
    AI_SPEAKER = "ai_speaker"
    HUB = "hub"


class Room(StrEnum):
    BEDROOM = "bedroom"
    BATHROOM = "bathroom"
    KITCHEN = "kitchen"
    LIVING = "living"
    ENTRANCE = "entrance"
    OTHER = "other"


class TopicKind(StrEnum):
    READING = "reading"
    EVENT = "event"
    STATUS = "status"
    Z2M_STATE = "z2m_state"
    Z2M_AVAILABILITY = "z2m_availability"
    # Platform → device (CONTRACT §5.5): ingest, subscribed to dolbom/v1/#, sees them too and
    # acknowledges them without storing anything (they are Dolbom's own messages).
    COMMAND = "command"


# zigbee2mqtt state keys mapped to Dolbom (CONTRACT §1).
Z2M_FALL_VALUES: Final = {"fall_status": "fall_alarm", "status": "falling"}
Z2M_READING_KEYS: Final = {"temperature": "room_temp", "humidity": "humidity"}


class QuarantineReason(StrEnum):
    """Machine-readable reason codes for quarantined payloads (label of the metric)."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    BAD_TOPIC = "bad_topic"
    BAD_SHAPE = "bad_shape"
    BATCH_TOO_LONG = "batch_too_long"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    STALE_TIMESTAMP = "stale_timestamp"
    UNKNOWN_METRIC = "unknown_metric"
    BAD_VALUE = "bad_value"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    UNKNOWN_DEVICE = "unknown_device"
    WRONG_DEVICE = "wrong_device"
    WRONG_PUBLISHER = "wrong_publisher"
    UNAUTHENTICATED = "unauthenticated"


def reading_topic(device_id: str) -> str:
    return f"{TOPIC_PREFIX}/{device_id}/reading"


def event_topic(device_id: str) -> str:
    return f"{TOPIC_PREFIX}/{device_id}/event"


def status_topic(device_id: str) -> str:
    return f"{TOPIC_PREFIX}/{device_id}/status"


def z2m_topic(friendly_name: str) -> str:
    return f"{Z2M_PREFIX}/{friendly_name}"


def z2m_availability_topic(friendly_name: str) -> str:
    return f"{Z2M_PREFIX}/{friendly_name}/availability"
