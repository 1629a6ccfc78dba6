"""Checks of CONTRACT §1 shared by the decoders: topics, timestamps, values (pure).

Each check returns the clean value or raises ``Refused`` with a ``QuarantineReason`` code and
a sentence a person can read; ``ingest.decode`` turns those into ``Reject``s.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, Literal

import orjson

from dolbom.jsonsafe import TooDeep, nesting
from dolbom.wire import (
    DEVICE_ID_RE,
    MAX_EVENT_DATA_BYTES,
    MAX_EVENT_DATA_DEPTH,
    MAX_FUTURE_SKEW,
    MAX_PAST_AGE,
    MAX_PAYLOAD_DEPTH,
    METRIC_BY_NAME,
    TOPIC_PREFIX,
    Z2M_PREFIX,
    DeviceKind,
    EventType,
    QuarantineReason,
    TopicKind,
)

if TYPE_CHECKING:
    from ingest.registry import DeviceInfo

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
    "command": TopicKind.COMMAND,
}


class Refused(Exception):
    """One item (or the whole message) is refused for ``code``, with ``reason``."""

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
    [now - 30 days, now + 5 minutes]; raises ``Refused`` otherwise."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if not 0 <= raw <= _MAX_EPOCH_MS:
            raise Refused(Q.BAD_TIMESTAMP, f"ts {show(raw)} is not a plausible epoch in ms")
        ts = EPOCH + timedelta(milliseconds=raw)
    elif isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            raise Refused(
                Q.BAD_TIMESTAMP, f"ts {show(raw)} is not ISO 8601 (e.g. 2026-11-24T08:15:00+09:00)"
            ) from None
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise Refused(Q.BAD_TIMESTAMP, f"ts {show(raw)} has no UTC offset (e.g. +09:00)")
    else:
        raise Refused(
            Q.BAD_TIMESTAMP,
            f"ts {show(raw)} must be ISO 8601 with an offset or integer epoch milliseconds",
        )
    try:
        if ts > now + MAX_FUTURE_SKEW:
            raise Refused(
                Q.FUTURE_TIMESTAMP,
                f"ts {ts.isoformat()} is more than 5 minutes after receipt ({now.isoformat()})",
            )
        if ts < now - MAX_PAST_AGE:
            raise Refused(
                Q.STALE_TIMESTAMP,
                f"ts {ts.isoformat()} is more than 30 days before receipt ({now.isoformat()})",
            )
    except OverflowError:
        raise Refused(Q.BAD_TIMESTAMP, f"ts {show(raw)} is out of range") from None
    return ts


def as_number(raw: object) -> float | None:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    value = float(raw)
    return value if math.isfinite(value) else None


def check_claim(item: dict[str, Any], device_id: str) -> None:
    claimed = item.get("device_id")
    if claimed is not None and claimed != device_id:
        raise Refused(
            Q.WRONG_DEVICE,
            f"payload claims device_id {show(claimed)} on the topic of device {device_id!r}",
        )


def kind_of(body: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(body), "a number" if isinstance(body, int | float) else "null"
    )


PLAIN_NUMBER: Final = (int, float)


# datetime.fromtimestamp(ms / 1000) is 2.5x faster than EPOCH + timedelta(ms) and equal to it
# for every ms up to 2100-01-01 (the float error stays under half a microsecond).
FAST_MS_LIMIT: Final = 4_102_444_800_000


def from_epoch_ms(ms: int, tz: Any) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz)


def epoch_ms(ts: datetime) -> int:
    return (ts - EPOCH) // timedelta(milliseconds=1)


def check_value(name: str, raw: object) -> float:
    metric = METRIC_BY_NAME.get(name)
    if metric is None:
        raise Refused(Q.UNKNOWN_METRIC, f"unknown metric {show(name)}")
    value = as_number(raw)
    if value is None:
        raise Refused(Q.BAD_VALUE, f"{name} value {show(raw)} is not a number")
    if metric.integer and not value.is_integer():
        raise Refused(Q.BAD_VALUE, f"{name} value {show(raw)} must be a whole number")
    if not metric.low <= value <= metric.high:
        raise Refused(
            Q.OUT_OF_RANGE,
            f"{name} {value:g} {metric.unit} is outside the plausible range "
            f"{metric.low:g}-{metric.high:g}",
        )
    return value


def _depth_and_keys(body: object, limit: int) -> tuple[int, int]:
    try:
        return nesting(body, limit)
    except TooDeep:
        raise Refused(Q.BAD_SHAPE, f"JSON nested more than {limit} levels deep "
                                   f"(an event's data may nest at most {MAX_EVENT_DATA_DEPTH})"
                      ) from None


_SPACED_KEY: Final = re.compile(rb'"\s+:')


def _no_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise Refused(Q.BAD_SHAPE, f"duplicate key {show(key)} in a JSON object "
                                       "(which value is meant is ambiguous)")
        seen.add(key)
    return {}


def check_structure(payload: bytes, body: object) -> None:
    """Refuse a message nested deeper than ``MAX_PAYLOAD_DEPTH`` or with a duplicate key in
    any object (CONTRACT §5.9: ``{"type":"sos","type":"motion"}`` must not be taken as either).

    orjson keeps the last of duplicate keys without a word, so the keys are counted: every key
    in the text is a ``"`` directly followed by ``:``; a count of those equal to the keys
    parsed proves there is no duplicate (a ``":`` inside a string only adds to the count).
    Otherwise (rare: a spaced ``" :`` or such a string) the stdlib parser checks exactly."""
    if type(body) is not dict and type(body) is not list:
        return
    _, keys = _depth_and_keys(body, MAX_PAYLOAD_DEPTH)
    if payload.count(b'":') == keys and _SPACED_KEY.search(payload) is None:
        return
    try:
        json.loads(payload, object_pairs_hook=_no_duplicate_pairs)
    except ValueError:  # orjson took it; a stricter parser's doubt is no reason to refuse
        return


def check_event_data(type_: str, data: object) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise Refused(Q.BAD_SHAPE, f"event data must be an object, got {kind_of(data)}")
    try:
        nesting(data, MAX_EVENT_DATA_DEPTH)
    except TooDeep:
        raise Refused(Q.BAD_SHAPE, f"event data nested more than {MAX_EVENT_DATA_DEPTH} "
                                   "levels deep") from None
    if type_ == EventType.CHECKIN:
        mood = data.get("mood")
        if mood is not None and (
            isinstance(mood, bool) or not isinstance(mood, int) or not 1 <= mood <= 5
        ):
            raise Refused(Q.BAD_VALUE, f"checkin mood {show(mood)} must be an integer 1-5")
        answered = data.get("answered")
        if answered is not None and not isinstance(answered, bool):
            raise Refused(Q.BAD_VALUE, f"checkin answered {show(answered)} must be true/false")
    encoded = orjson.dumps(data)
    if len(encoded) > MAX_EVENT_DATA_BYTES:
        raise Refused(Q.TOO_LARGE, f"event data of {len(encoded)} bytes (as compact JSON) "
                                   f"exceeds {MAX_EVENT_DATA_BYTES} bytes")
    if b"\\u0000" in encoded:
        # PostgreSQL jsonb cannot store U+0000.
        raise Refused(Q.BAD_VALUE, "event data contains a NUL character (\\u0000)")
    return data


def parse_battery(raw: object) -> int:
    value = as_number(raw)
    if value is None:
        raise Refused(Q.BAD_VALUE, f"battery {show(raw)} is not a number")
    if not 0 <= value <= 100:
        raise Refused(Q.OUT_OF_RANGE, f"battery {value:g} is outside 0-100 %")
    return round(value)


def parse_json(payload: bytes) -> object:
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise Refused(
                Q.NOT_UTF8, f"payload is not UTF-8 (byte {bad.start}: {bad.reason})"
            ) from None
        raise Refused(Q.NOT_JSON, f"payload is not JSON ({error.msg} at char {error.pos})") \
            from None


# -- Publisher identity (docs/protocol.md, "Publisher identity") ------------------------------
# The broker plugin deploy/mosquitto/plugin stamps each PUBLISH with the publisher's username as
# an MQTT 5 user property; these checks compare the stamp with the device whose topic it is.

Lookup = Callable[[str], "DeviceInfo | None"]
_DOLBOM_TOPIC_KINDS: Final = frozenset({TopicKind.READING, TopicKind.EVENT, TopicKind.STATUS})


@dataclass(frozen=True, slots=True)
class IdentityPolicy:
    """How ingest treats the broker's stamp: ``check`` a stamp when present, or ``require``
    one; ``trusted`` service accounts may publish for any device."""

    mode: Literal["check", "require"]
    property_name: str
    trusted: frozenset[str]

    @property
    def require(self) -> bool:
        return self.mode == "require"


def identity_policy(mode: str, property_name: str,
                    trusted: Iterable[str]) -> IdentityPolicy | None:
    """The policy for ``Settings.ingest_device_identity`` & co.; None when it is "off"."""
    if mode == "off":
        return None
    if mode not in ("check", "require"):
        raise ValueError(f"ingest_device_identity must be off, check or require, not {mode!r}")
    return IdentityPolicy("require" if mode == "require" else "check", property_name,
                          frozenset(trusted))


def publishers_of(user_properties: Sequence[tuple[str, str]] | None,
                  name: str) -> tuple[str, ...]:
    """The stamped usernames among a message's MQTT 5 user properties (usually one)."""
    if not user_properties:
        return ()
    if len(user_properties) == 1:  # the usual case: the broker's stamp alone
        key, value = user_properties[0]
        return (value,) if key == name else ()
    return tuple([value for key, value in user_properties if key == name])


def _who(publisher: str, info: DeviceInfo | None) -> str:
    shown = repr(publisher) if len(publisher) <= 80 else repr(publisher[:77] + "...")
    if info is None:
        return f"client {shown}"
    return f"hub {shown}" if info.kind == DeviceKind.HUB else f"device {shown}"


def _is_hub_of(hub: DeviceInfo | None, sensor: DeviceInfo) -> bool:
    return (hub is not None and hub.kind == DeviceKind.HUB and hub.active
            and hub.enrollee_id == sensor.enrollee_id)


def check_publisher(kind: TopicKind, device_id: str, publishers: tuple[str, ...],
                    policy: IdentityPolicy, lookup: Lookup, *,
                    unstamped_ok: bool = False) -> None:
    """Raise ``Refused`` unless the stamped publishers may publish on this topic.

    On ``dolbom/v1/{D}/…`` every stamp must be D or a trusted service account; on
    ``zigbee2mqtt/{F}[/availability]`` F itself, a trusted account, or an active hub of F's
    enrollee. Without a stamp a message passes in "check" mode and is refused in "require"
    mode (unless ``unstamped_ok``: a device's last will, which Mosquitto 2.0 does not stamp).
    Pure: ``lookup`` is the in-memory device registry (O(1)), asked only for hub stamps.
    """
    if not publishers:
        if policy.require and not unstamped_ok:
            raise Refused(
                Q.UNAUTHENTICATED,
                f"the broker did not say who published this message (no "
                f"{policy.property_name!r} user property): is the dolbom_identity plugin "
                "loaded and did the client log in?")
        return
    trusted = policy.trusted
    for publisher in publishers:
        if publisher == device_id or publisher in trusted:
            continue
        info = lookup(publisher)
        if kind in _DOLBOM_TOPIC_KINDS:
            raise Refused(Q.WRONG_PUBLISHER, f"published by {_who(publisher, info)}, "
                                             f"not by {device_id!r} whose topic this is")
        sensor = lookup(device_id)
        if sensor is None:
            # Fail closed: without the sensor's enrollee the hub cannot be vouched for.
            raise Refused(Q.UNKNOWN_DEVICE,
                          f"device {device_id!r} is not provisioned (POST /v1/devices); "
                          f"published by {_who(publisher, info)}")
        if _is_hub_of(info, sensor):
            continue
        if info is not None and info.kind == DeviceKind.HUB:
            what = (f"hub {publisher!r}, removed at {info.removed_at:%Y-%m-%d %H:%M %Z}"
                    if info.removed_at is not None else f"hub {publisher!r} of another enrollee")
        else:
            what = _who(publisher, info)
        raise Refused(Q.WRONG_PUBLISHER, f"published by {what}, not by {device_id!r} whose "
                                         "topic this is nor by a hub of its enrollee")
