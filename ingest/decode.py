"""Decoding and validation of device messages (CONTRACT §1): pure functions over bytes.

``decode(topic, payload, received_at, now)`` turns one MQTT message into frozen dataclasses:
the readings, events and device status it carries, and a ``Reject`` (with a
``QuarantineReason`` code and a sentence a person can read) for every part that is refused.
It does no I/O, reads no clock and never raises: a valid part of a batch is kept even when
another part is rejected. Whether the device is provisioned is the writer's question
(``ingest/writer.py``), not the decoder's.

The device simulator imports this module in its tests, so the reason codes are exactly those
of ``dolbom.wire.QuarantineReason`` and the rules are those listed in docs/protocol.md.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

import orjson

from dolbom.wire import (
    DEFAULT_MAX_PAYLOAD_BYTES,
    DEVICE_ID_RE,
    EVENT_CODES,
    MAX_BATCH_ITEMS,
    MAX_FUTURE_SKEW,
    MAX_PAST_AGE,
    METRIC_BY_NAME,
    TOPIC_PREFIX,
    Z2M_FALL_VALUES,
    Z2M_PREFIX,
    Z2M_READING_KEYS,
    EventType,
    QuarantineReason,
    TopicKind,
)

log = logging.getLogger(__name__)

Q = QuarantineReason
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
# Epoch milliseconds accepted as a timestamp at all (years 1970-9999); the 30-day/5-minute
# window is checked separately so its reason can be precise.
_MAX_EPOCH_MS: Final = 253402300799999
_SHOW_CHARS: Final = 40
_DOLBOM_KINDS: Final = {
    "reading": TopicKind.READING,
    "event": TopicKind.EVENT,
    "status": TopicKind.STATUS,
}


@dataclass(frozen=True, slots=True)
class Reading:
    device_id: str
    metric: str  # a name of dolbom.wire.METRICS
    ts: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Event:
    device_id: str
    type: str  # a dolbom.wire.EventType value
    ts: datetime
    data: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Status:
    """Device state: ``ts`` is the device's time (or receipt time when it sent none)."""

    device_id: str
    ts: datetime
    battery: int | None = None
    online: bool | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    topic: str
    device_id: str | None
    reason_code: QuarantineReason
    reason: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Decoded:
    """Everything one message carried, and everything refused in it."""

    topic: str
    kind: TopicKind | None
    device_id: str | None  # from the topic, when the topic is well formed
    received_at: datetime
    payload: bytes
    readings: tuple[Reading, ...] = ()
    events: tuple[Event, ...] = ()
    status: Status | None = None
    rejects: tuple[Reject, ...] = ()

    @property
    def accepted(self) -> int:
        """How many readings, events and status updates were accepted."""
        return len(self.readings) + len(self.events) + (self.status is not None)


class _Refused(Exception):
    """Internal: one item (or the whole message) is refused for ``code``."""

    def __init__(self, code: QuarantineReason, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def show(value: object) -> str:
    """A short, printable rendering of untrusted input for a reason text (no NUL, no newline)."""
    text = repr(value)
    return text if len(text) <= _SHOW_CHARS else text[: _SHOW_CHARS - 3] + "..."


@lru_cache(maxsize=65536)
def parse_topic(topic: str) -> tuple[TopicKind, str] | None:
    """(kind, device_id) for a topic of CONTRACT §1, or None."""
    parts = topic.split("/")
    if len(parts) == 4 and f"{parts[0]}/{parts[1]}" == TOPIC_PREFIX:
        kind = _DOLBOM_KINDS.get(parts[3])
        if kind is not None and DEVICE_ID_RE.match(parts[2]):
            return kind, parts[2]
        return None
    if parts[0] == Z2M_PREFIX and DEVICE_ID_RE.match(parts[1] if len(parts) > 1 else ""):
        if len(parts) == 2:
            return TopicKind.Z2M_STATE, parts[1]
        if len(parts) == 3 and parts[2] == "availability":
            return TopicKind.Z2M_AVAILABILITY, parts[1]
    return None


def parse_ts(raw: object, now: datetime) -> datetime:
    """A timestamp of CONTRACT §1 (ISO 8601 with offset, or integer epoch ms), in the window
    [now - 30 days, now + 5 minutes]; raises ``_Refused`` otherwise."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if not 0 <= raw <= _MAX_EPOCH_MS:
            raise _Refused(Q.BAD_TIMESTAMP, f"ts {show(raw)} is not a plausible epoch in ms")
        ts = EPOCH + timedelta(milliseconds=raw)
    elif isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            raise _Refused(
                Q.BAD_TIMESTAMP, f"ts {show(raw)} is not ISO 8601 (e.g. 2026-11-24T08:15:00+09:00)"
            ) from None
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise _Refused(Q.BAD_TIMESTAMP, f"ts {show(raw)} has no UTC offset (e.g. +09:00)")
    else:
        raise _Refused(
            Q.BAD_TIMESTAMP,
            f"ts {show(raw)} must be ISO 8601 with an offset or integer epoch milliseconds",
        )
    try:
        if ts > now + MAX_FUTURE_SKEW:
            raise _Refused(
                Q.FUTURE_TIMESTAMP,
                f"ts {ts.isoformat()} is more than 5 minutes after receipt ({now.isoformat()})",
            )
        if ts < now - MAX_PAST_AGE:
            raise _Refused(
                Q.STALE_TIMESTAMP,
                f"ts {ts.isoformat()} is more than 30 days before receipt ({now.isoformat()})",
            )
    except OverflowError:
        raise _Refused(Q.BAD_TIMESTAMP, f"ts {show(raw)} is out of range") from None
    return ts


def _number(raw: object) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def _check_claim(item: dict[str, Any], device_id: str) -> None:
    claimed = item.get("device_id")
    if claimed is not None and claimed != device_id:
        raise _Refused(
            Q.WRONG_DEVICE,
            f"payload claims device_id {show(claimed)} on the topic of device {device_id!r}",
        )


def _items(body: object, what: str) -> tuple[list[Any], bool]:
    """The items of a reading/event payload and whether it was an array."""
    if isinstance(body, list):
        if not body:
            raise _Refused(Q.BAD_SHAPE, f"empty array: expected 1 to {MAX_BATCH_ITEMS} {what}s")
        if len(body) > MAX_BATCH_ITEMS:
            raise _Refused(
                Q.BATCH_TOO_LONG,
                f"array of {len(body)} {what}s; at most {MAX_BATCH_ITEMS} per message",
            )
        return body, True
    if isinstance(body, dict):
        return [body], False
    raise _Refused(Q.BAD_SHAPE, f"expected a {what} object or an array of them, got {_kind(body)}")


def _kind(body: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(body), "a number" if isinstance(body, int | float) else "null"
    )


class _Builder:
    """Accumulates the outcome of one message."""

    __slots__ = ("device_id", "events", "payload", "readings", "rejects", "topic")

    def __init__(self, topic: str, device_id: str | None, payload: bytes) -> None:
        self.topic = topic
        self.device_id = device_id
        self.payload = payload
        self.readings: list[Reading] = []
        self.events: list[Event] = []
        self.rejects: list[Reject] = []

    def reject(self, code: QuarantineReason, reason: str, payload: bytes | None = None) -> None:
        self.rejects.append(
            Reject(self.topic, self.device_id, code, reason,
                   self.payload if payload is None else payload)
        )

    def reject_item(
        self, error: _Refused, item: object, index: int, is_array: bool, total: int
    ) -> None:
        if is_array:
            self.reject(error.code, f"item {index + 1} of {total}: {error.reason}",
                        _encode(item))
        else:
            self.reject(error.code, error.reason)


def _encode(item: object) -> bytes:
    try:
        return orjson.dumps(item)
    except (TypeError, orjson.JSONEncodeError):
        return repr(item).encode("utf-8", "backslashreplace")


def _decode_readings(b: _Builder, body: object, now: datetime) -> None:
    device_id = b.device_id or ""
    items, is_array = _items(body, "measurement")
    total = len(items)
    # Fast path for the common case (epoch ms inside the window, known metric, number in
    # range); anything else takes the full checks below for its precise reason.
    lo_ms = _epoch_ms(now - MAX_PAST_AGE)
    hi_ms = min(_epoch_ms(now + MAX_FUTURE_SKEW), _FAST_MS_LIMIT)
    from_ms = _from_epoch_ms
    readings = b.readings
    for index, item in enumerate(items):
        try:
            if type(item) is not dict:
                raise _Refused(Q.BAD_SHAPE, f"a measurement must be an object, got {_kind(item)}")
            if "device_id" in item:
                _check_claim(item, device_id)
            raw_ts = item.get("ts")
            if raw_ts is None:
                raise _Refused(Q.BAD_SHAPE, "measurement has no ts")
            values = item.get("values")
            if type(values) is not dict or not values:
                raise _Refused(
                    Q.BAD_SHAPE, 'measurement needs "values": an object of metric: number'
                )
            seq = item.get("seq")
            if seq is not None and type(seq) is not int:
                raise _Refused(Q.BAD_SHAPE, f"seq {show(seq)} must be an integer")
            if type(raw_ts) is int and lo_ms <= raw_ts <= hi_ms:
                ts = from_ms(raw_ts, UTC)  # exact to the ms before year 2100 (checked)
            else:
                ts = parse_ts(raw_ts, now)
        except _Refused as error:
            b.reject_item(error, item, index, is_array, total)
            continue
        for name, raw in values.items():
            metric = METRIC_BY_NAME.get(name)
            if (metric is not None and type(raw) in _PLAIN_NUMBER and not metric.integer
                    and metric.low <= raw <= metric.high):
                readings.append(Reading(device_id, name, ts, float(raw)))
                continue
            try:
                readings.append(Reading(device_id, name, ts, _check_value(name, raw)))
            except _Refused as error:
                where = f"item {index + 1} of {total}: " if is_array else ""
                b.reject(error.code, where + error.reason,
                         _encode({"ts": item["ts"], "values": {name: raw}}))


_PLAIN_NUMBER: Final = (int, float)


# datetime.fromtimestamp(ms / 1000) is 2.5x faster than EPOCH + timedelta(ms) and equal to it
# for every ms up to 2100-01-01 (the float error stays under half a microsecond).
_FAST_MS_LIMIT: Final = 4_102_444_800_000


def _from_epoch_ms(ms: int, tz: Any) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz)


def _epoch_ms(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(milliseconds=1)


def _check_value(name: str, raw: object) -> float:
    metric = METRIC_BY_NAME.get(name)
    if metric is None:
        raise _Refused(Q.UNKNOWN_METRIC, f"unknown metric {show(name)}")
    value = _number(raw)
    if value is None:
        raise _Refused(Q.BAD_VALUE, f"{name} value {show(raw)} is not a number")
    if metric.integer and not value.is_integer():
        raise _Refused(Q.BAD_VALUE, f"{name} value {show(raw)} must be a whole number")
    if not metric.low <= value <= metric.high:
        raise _Refused(
            Q.OUT_OF_RANGE,
            f"{name} {value:g} {metric.unit} is outside the plausible range "
            f"{metric.low:g}-{metric.high:g}",
        )
    return value


def _check_event_data(type_: str, data: object) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise _Refused(Q.BAD_SHAPE, f"event data must be an object, got {_kind(data)}")
    if type_ == EventType.CHECKIN:
        mood = data.get("mood")
        if mood is not None and (
            isinstance(mood, bool) or not isinstance(mood, int) or not 1 <= mood <= 5
        ):
            raise _Refused(Q.BAD_VALUE, f"checkin mood {show(mood)} must be an integer 1-5")
        answered = data.get("answered")
        if answered is not None and not isinstance(answered, bool):
            raise _Refused(Q.BAD_VALUE, f"checkin answered {show(answered)} must be true/false")
    if b"\\u0000" in orjson.dumps(data):
        # PostgreSQL jsonb cannot store U+0000.
        raise _Refused(Q.BAD_VALUE, "event data contains a NUL character (\\u0000)")
    return data


def _decode_events(b: _Builder, body: object, now: datetime) -> None:
    device_id = b.device_id or ""
    items, is_array = _items(body, "event")
    total = len(items)
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise _Refused(Q.BAD_SHAPE, f"an event must be an object, got {_kind(item)}")
            _check_claim(item, device_id)
            if "ts" not in item:
                raise _Refused(Q.BAD_SHAPE, "event has no ts")
            type_ = item.get("type")
            if not isinstance(type_, str):
                raise _Refused(Q.BAD_SHAPE, f'event needs "type" (a string), got {show(type_)}')
            if type_ not in EVENT_CODES:
                raise _Refused(Q.UNKNOWN_EVENT_TYPE, f"unknown event type {show(type_)}")
            ts = parse_ts(item["ts"], now)
            data = _check_event_data(type_, item.get("data"))
        except _Refused as error:
            b.reject_item(error, item, index, is_array, total)
            continue
        b.events.append(Event(device_id, type_, ts, data))


def _battery(raw: object) -> int:
    value = _number(raw)
    if value is None:
        raise _Refused(Q.BAD_VALUE, f"battery {show(raw)} is not a number")
    if not 0 <= value <= 100:
        raise _Refused(Q.OUT_OF_RANGE, f"battery {value:g} is outside 0-100 %")
    return round(value)


def _decode_status(b: _Builder, body: object, now: datetime, received_at: datetime) -> Status:
    device_id = b.device_id or ""
    if not isinstance(body, dict):
        raise _Refused(Q.BAD_SHAPE, f"status must be an object, got {_kind(body)}")
    _check_claim(body, device_id)
    if not any(key in body for key in ("ts", "battery", "online")):
        raise _Refused(Q.BAD_SHAPE, 'status needs at least one of "ts", "battery", "online"')
    ts = parse_ts(body["ts"], now) if "ts" in body else received_at
    battery = _battery(body["battery"]) if body.get("battery") is not None else None
    online = body.get("online")
    if online is not None and not isinstance(online, bool):
        raise _Refused(Q.BAD_VALUE, f"online {show(online)} must be true or false")
    return Status(device_id, ts, battery, online)


def _decode_z2m_state(b: _Builder, body: object, received_at: datetime) -> Status | None:
    """A zigbee2mqtt device state, mapped per CONTRACT §1; receipt time is its ts."""
    device_id = b.device_id or ""
    if not isinstance(body, dict):
        raise _Refused(Q.BAD_SHAPE, f"zigbee2mqtt state must be an object, got {_kind(body)}")
    _check_claim(body, device_id)
    ts = received_at
    if body.get("occupancy") is True:
        b.events.append(Event(device_id, EventType.MOTION, ts, None))
    contact = body.get("contact")
    if contact is False:
        b.events.append(Event(device_id, EventType.DOOR_OPEN, ts, None))
    elif contact is True:
        b.events.append(Event(device_id, EventType.DOOR_CLOSE, ts, None))
    for key, value in Z2M_FALL_VALUES.items():
        if body.get(key) == value:
            b.events.append(Event(device_id, EventType.FALL, ts, {key: value}))
            break
    for key, metric in Z2M_READING_KEYS.items():
        if key in body and body[key] is not None:
            try:
                b.readings.append(Reading(device_id, metric, ts, _check_value(metric, body[key])))
            except _Refused as error:
                b.reject(error.code, f"{key}: {error.reason}")
    battery: int | None = None
    if body.get("battery") is not None:
        try:
            battery = _battery(body["battery"])
        except _Refused as error:
            b.reject(error.code, error.reason)
    return Status(device_id, ts, battery, None) if battery is not None else None


def _decode_availability(payload: bytes, body: object, device_id: str,
                         received_at: datetime) -> Status:
    state = body.get("state") if isinstance(body, dict) else body
    if state is None:
        state = payload.strip().decode("ascii", "replace")
    if state not in ("online", "offline"):
        raise _Refused(
            Q.BAD_SHAPE, f'availability must be "online" or "offline", got {show(state)}'
        )
    return Status(device_id, received_at, None, state == "online")


def _parse_json(payload: bytes) -> object:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise _Refused(
                Q.NOT_UTF8, f"payload is not UTF-8 (byte {bad.start}: {bad.reason})"
            ) from None
        raise _Refused(Q.NOT_JSON, f"payload is not JSON ({error.msg} at char {error.pos})") \
            from None


def decode(
    topic: str,
    payload: bytes,
    received_at: datetime,
    now: datetime,
    *,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
) -> Decoded:
    """Decode one message; never raises (see the module docstring)."""
    try:
        return _decode(topic, payload, received_at, now, max_payload_bytes)
    except Exception:  # a bug must not stop ingestion: quarantine the message instead
        log.exception("decoder failed on a message on %s (first bytes %r)", topic, payload[:64])
        return Decoded(
            topic, None, None, received_at, payload,
            rejects=(Reject(topic, None, Q.BAD_SHAPE, "payload could not be decoded", payload),),
        )


def _decode(
    topic: str, payload: bytes, received_at: datetime, now: datetime, max_payload_bytes: int
) -> Decoded:
    parsed = parse_topic(topic)
    if parsed is None:
        return Decoded(topic, None, None, received_at, payload, rejects=(Reject(
            topic, None, Q.BAD_TOPIC,
            f"topic {show(topic)} is not dolbom/v1/<device_id>/reading|event|status, "
            "zigbee2mqtt/<device_id> or zigbee2mqtt/<device_id>/availability "
            "(device_id: 1-64 of A-Z a-z 0-9 _ -)", payload),))
    kind, device_id = parsed
    b = _Builder(topic, device_id, payload)
    status: Status | None = None
    try:
        if len(payload) > max_payload_bytes:
            raise _Refused(
                Q.TOO_LARGE, f"payload of {len(payload)} bytes exceeds {max_payload_bytes} bytes"
            )
        if kind is TopicKind.Z2M_AVAILABILITY and payload.strip() in (b"online", b"offline"):
            body: object = None
        else:
            body = _parse_json(payload)
        if kind is TopicKind.READING:
            _decode_readings(b, body, now)
        elif kind is TopicKind.EVENT:
            _decode_events(b, body, now)
        elif kind is TopicKind.STATUS:
            status = _decode_status(b, body, now, received_at)
        elif kind is TopicKind.Z2M_STATE:
            status = _decode_z2m_state(b, body, received_at)
        else:
            status = _decode_availability(payload, body, device_id, received_at)
    except _Refused as error:
        b.readings.clear()
        b.events.clear()
        b.rejects = [Reject(topic, device_id, error.code, error.reason, payload)]
        status = None
    return Decoded(
        topic, kind, device_id, received_at, payload,
        tuple(b.readings), tuple(b.events), status, tuple(b.rejects),
    )
