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
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from dolbom.wire import (
    DEFAULT_MAX_PAYLOAD_BYTES,
    EVENT_CODES,
    MAX_BATCH_ITEMS,
    MAX_FUTURE_SKEW,
    MAX_PAST_AGE,
    METRIC_BY_NAME,
    Z2M_FALL_VALUES,
    Z2M_READING_KEYS,
    EventType,
    QuarantineReason,
    TopicKind,
)
from ingest.checks import (
    FAST_MS_LIMIT,
    PLAIN_NUMBER,
    IdentityPolicy,
    Lookup,
    Q,
    Refused,
    check_claim,
    check_event_data,
    check_publisher,
    check_structure,
    check_value,
    epoch_ms,
    from_epoch_ms,
    kind_of,
    parse_battery,
    parse_json,
    parse_topic,
    parse_ts,
    show,
)

log = logging.getLogger(__name__)


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
    # delivered by the broker from its retained store (a state replayed on subscription, not
    # a new message): the writer compares it with the last state stored (docs/protocol.md)
    retained: bool = False

    @property
    def accepted(self) -> int:
        """How many readings, events and status updates were accepted."""
        return len(self.readings) + len(self.events) + (self.status is not None)


def _items(body: object, what: str) -> tuple[list[Any], bool]:
    """The items of a reading/event payload and whether it was an array."""
    if isinstance(body, list):
        if not body:
            raise Refused(Q.BAD_SHAPE, f"empty array: expected 1 to {MAX_BATCH_ITEMS} {what}s")
        if len(body) > MAX_BATCH_ITEMS:
            raise Refused(
                Q.BATCH_TOO_LONG,
                f"array of {len(body)} {what}s; at most {MAX_BATCH_ITEMS} per message",
            )
        return body, True
    if isinstance(body, dict):
        return [body], False
    raise Refused(Q.BAD_SHAPE, f"expected a {what} object or an array of them, got {kind_of(body)}")


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
        self, error: Refused, item: object, index: int, is_array: bool, total: int
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
    lo_ms = epoch_ms(now - MAX_PAST_AGE)
    hi_ms = min(epoch_ms(now + MAX_FUTURE_SKEW), FAST_MS_LIMIT)
    from_ms = from_epoch_ms
    readings = b.readings
    for index, item in enumerate(items):
        try:
            if type(item) is not dict:
                raise Refused(Q.BAD_SHAPE, f"a measurement must be an object, got {kind_of(item)}")
            if "device_id" in item:
                check_claim(item, device_id)
            raw_ts = item.get("ts")
            if raw_ts is None:
                raise Refused(Q.BAD_SHAPE, "measurement has no ts")
            values = item.get("values")
            if type(values) is not dict or not values:
                raise Refused(
                    Q.BAD_SHAPE, 'measurement needs "values": an object of metric: number'
                )
            seq = item.get("seq")
            if seq is not None and type(seq) is not int:
                raise Refused(Q.BAD_SHAPE, f"seq {show(seq)} must be an integer")
            if type(raw_ts) is int and lo_ms <= raw_ts <= hi_ms:
                ts = from_ms(raw_ts, UTC)  # exact to the ms before year 2100 (checked)
            else:
                ts = parse_ts(raw_ts, now)
        except Refused as error:
            b.reject_item(error, item, index, is_array, total)
            continue
        for name, raw in values.items():
            metric = METRIC_BY_NAME.get(name)
            if (metric is not None and type(raw) in PLAIN_NUMBER and not metric.integer
                    and metric.low <= raw <= metric.high):
                readings.append(Reading(device_id, name, ts, float(raw)))
                continue
            try:
                readings.append(Reading(device_id, name, ts, check_value(name, raw)))
            except Refused as error:
                where = f"item {index + 1} of {total}: " if is_array else ""
                b.reject(error.code, where + error.reason,
                         _encode({"ts": item["ts"], "values": {name: raw}}))


def _decode_events(b: _Builder, body: object, now: datetime) -> None:
    device_id = b.device_id or ""
    items, is_array = _items(body, "event")
    total = len(items)
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise Refused(Q.BAD_SHAPE, f"an event must be an object, got {kind_of(item)}")
            check_claim(item, device_id)
            if "ts" not in item:
                raise Refused(Q.BAD_SHAPE, "event has no ts")
            type_ = item.get("type")
            if not isinstance(type_, str):
                raise Refused(Q.BAD_SHAPE, f'event needs "type" (a string), got {show(type_)}')
            if type_ not in EVENT_CODES:
                raise Refused(Q.UNKNOWN_EVENT_TYPE, f"unknown event type {show(type_)}")
            ts = parse_ts(item["ts"], now)
            data = check_event_data(type_, item.get("data"))
        except Refused as error:
            b.reject_item(error, item, index, is_array, total)
            continue
        b.events.append(Event(device_id, type_, ts, data))


def _decode_status(b: _Builder, body: object, now: datetime, received_at: datetime) -> Status:
    device_id = b.device_id or ""
    if not isinstance(body, dict):
        raise Refused(Q.BAD_SHAPE, f"status must be an object, got {kind_of(body)}")
    check_claim(body, device_id)
    if not any(key in body for key in ("ts", "battery", "online")):
        raise Refused(Q.BAD_SHAPE, 'status needs at least one of "ts", "battery", "online"')
    ts = parse_ts(body["ts"], now) if "ts" in body else received_at
    battery = parse_battery(body["battery"]) if body.get("battery") is not None else None
    online = body.get("online")
    if online is not None and not isinstance(online, bool):
        raise Refused(Q.BAD_VALUE, f"online {show(online)} must be true or false")
    return Status(device_id, ts, battery, online)


def _decode_z2m_state(b: _Builder, body: object, received_at: datetime) -> Status | None:
    """A zigbee2mqtt device state, mapped per CONTRACT §1; receipt time is its ts."""
    device_id = b.device_id or ""
    if not isinstance(body, dict):
        raise Refused(Q.BAD_SHAPE, f"zigbee2mqtt state must be an object, got {kind_of(body)}")
    check_claim(body, device_id)
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
                b.readings.append(Reading(device_id, metric, ts, check_value(metric, body[key])))
            except Refused as error:
                b.reject(error.code, f"{key}: {error.reason}")
    battery: int | None = None
    if body.get("battery") is not None:
        try:
            battery = parse_battery(body["battery"])
        except Refused as error:
            b.reject(error.code, error.reason)
    return Status(device_id, ts, battery, None) if battery is not None else None


def _decode_availability(payload: bytes, body: object, device_id: str,
                         received_at: datetime) -> Status:
    state = body.get("state") if isinstance(body, dict) else body
    if state is None:
        state = payload.strip().decode("ascii", "replace")
    if state not in ("online", "offline"):
        raise Refused(
            Q.BAD_SHAPE, f'availability must be "online" or "offline", got {show(state)}'
        )
    return Status(device_id, received_at, None, state == "online")


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
    if kind is TopicKind.COMMAND:
        # Dolbom's own message to a device: nothing to store, no device seen, nothing refused.
        return Decoded(topic, kind, None, received_at, payload)
    b = _Builder(topic, device_id, payload)
    status: Status | None = None
    try:
        if len(payload) > max_payload_bytes:
            raise Refused(
                Q.TOO_LARGE, f"payload of {len(payload)} bytes exceeds {max_payload_bytes} bytes"
            )
        if kind is TopicKind.Z2M_AVAILABILITY and payload.strip() in (b"online", b"offline"):
            body: object = None
        else:
            body = parse_json(payload)
            check_structure(payload, body)
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
    except Refused as error:
        b.readings.clear()
        b.events.clear()
        b.rejects = [Reject(topic, device_id, error.code, error.reason, payload)]
        status = None
    return Decoded(
        topic, kind, device_id, received_at, payload,
        tuple(b.readings), tuple(b.events), status, tuple(b.rejects),
    )


def _is_last_will(item: Decoded) -> bool:
    """A status that only says the device went offline: the shape of a device's MQTT last
    will (CONTRACT §1), which Mosquitto 2.0 publishes without running the identity plugin."""
    status = item.status
    return (item.kind is TopicKind.STATUS and status is not None and status.online is False
            and status.battery is None and not item.rejects)


def screen_publisher(item: Decoded, publishers: tuple[str, ...], policy: IdentityPolicy,
                     lookup: Lookup) -> Decoded:
    """``item`` unchanged when its publisher may publish on its topic, else the whole message
    quarantined (``check_publisher``). Pure; a badly formed topic is left to its BAD_TOPIC.

    The quarantined message carries no ``device_id``: it was not that device's, so the writer
    neither calls it an unknown device nor counts it as the device being seen."""
    if item.kind is None or item.device_id is None or (not publishers and not policy.require):
        return item
    try:
        check_publisher(item.kind, item.device_id, publishers, policy, lookup,
                        unstamped_ok=not publishers and _is_last_will(item))
    except Refused as error:
        refusal = error
    except Exception:  # a bug must not stop ingestion nor let the message through unchecked
        log.exception("publisher check failed on a message on %s", item.topic)
        refusal = Refused(Q.UNAUTHENTICATED, "the publisher could not be checked (ingest error)")
    else:
        return item
    return Decoded(item.topic, item.kind, None, item.received_at, item.payload, rejects=(
        Reject(item.topic, item.device_id, refusal.code, refusal.reason, item.payload),))
