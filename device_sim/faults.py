"""Bad input mode: faults mixed into a message stream at a chosen rate.

Each bad message says which quarantine reason it is meant to get (``expect_reason``), so a
test can check that the validator refuses it for exactly that reason. Duplicates and
out-of-order delivery are *not* errors: they must be accepted (and stored once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import orjson

from device_sim.model import SimMessage
from dolbom import wire
from dolbom.wire import QuarantineReason as Q

Fault = Callable[[str, datetime, np.random.Generator], tuple[str, bytes, Q]]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _reading(device: str, body: Any) -> tuple[str, bytes]:
    return wire.reading_topic(device), orjson.dumps(body)


def _malformed(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    topic, body = _reading(device, {"ts": _ms(at), "values": {"heart_rate": 72}})
    return topic, body[: int(r.integers(5, len(body) - 1))], Q.NOT_JSON


def _not_utf8(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    return wire.reading_topic(device), b'{"ts": "\xff\xfe\xfa", "values": {}}', Q.NOT_UTF8


def _wrong_type(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    return (*_reading(device, {"ts": _ms(at), "values": {"heart_rate": "seventy-two"}}),
            Q.BAD_VALUE)


def _wrong_shape(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    return (*_reading(device, {"ts": _ms(at), "values": [72, 97]}), Q.BAD_SHAPE)


def _unknown_metric(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    return (*_reading(device, {"ts": _ms(at), "values": {"blood_alcohol": 0.01}}),
            Q.UNKNOWN_METRIC)


def _out_of_range(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    metric = str(r.choice(["heart_rate", "spo2", "body_temp", "weight"]))
    value = {"heart_rate": 400, "spo2": 140, "body_temp": 52.5, "weight": 999}[metric]
    return (*_reading(device, {"ts": _ms(at), "values": {metric: value}}), Q.OUT_OF_RANGE)


def _future(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    skew = timedelta(hours=float(r.uniform(1, 12)))  # a device clock set wrongly
    return (*_reading(device, {"ts": _ms(at + skew), "values": {"heart_rate": 70}}),
            Q.FUTURE_TIMESTAMP)


def _stale(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    old = at - timedelta(days=float(r.uniform(31, 400)))  # a clock reset to an old date
    return (*_reading(device, {"ts": _ms(old), "values": {"heart_rate": 70}}),
            Q.STALE_TIMESTAMP)


def _bad_ts(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    return (*_reading(device, {"ts": at.strftime("%d/%m/%Y %H:%M"), "values": {"steps": 12}}),
            Q.BAD_TIMESTAMP)


def _oversized(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    pad = "x" * (wire.DEFAULT_MAX_PAYLOAD_BYTES + 1024)
    return (*_reading(device, {"ts": _ms(at), "values": {"heart_rate": 70}, "note": pad}),
            Q.TOO_LARGE)


def _long_batch(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    base = _ms(at) - 2_000_000
    items = [{"ts": base + i * 1000, "values": {"heart_rate": 70}}
             for i in range(wire.MAX_BATCH_ITEMS + 1)]
    return (*_reading(device, items), Q.BATCH_TOO_LONG)


def _unknown_event(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    body = orjson.dumps({"ts": _ms(at), "type": "dance_party"})
    return wire.event_topic(device), body, Q.UNKNOWN_EVENT_TYPE


def _bad_topic(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    body = orjson.dumps({"ts": _ms(at), "values": {"heart_rate": 70}})
    return f"{wire.TOPIC_PREFIX}/{device}!/readings", body, Q.BAD_TOPIC


def _unknown_device(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    ghost = f"ghost-{int(r.integers(0, 10**6)):06d}"  # never provisioned
    return (*_reading(ghost, {"ts": _ms(at), "values": {"heart_rate": 70}}), Q.UNKNOWN_DEVICE)


def _wrong_device(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    return (*_reading(device, {"ts": _ms(at), "device_id": "someone-else",
                               "values": {"heart_rate": 70}}), Q.WRONG_DEVICE)


def _deep_data(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    data: dict[str, Any] = {"phrase": "help me"}
    for _ in range(wire.MAX_EVENT_DATA_DEPTH):  # one level past the limit (CONTRACT §5.9)
        data = {"context": data}
    return wire.event_topic(device), orjson.dumps({"ts": _ms(at), "type": "sos",
                                                   "data": data}), Q.BAD_SHAPE


def _large_data(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    data = {"transcript": "x" * (wire.MAX_EVENT_DATA_BYTES + 1)}
    return wire.event_topic(device), orjson.dumps({"ts": _ms(at), "type": "checkin",
                                                   "data": data}), Q.TOO_LARGE


def _duplicate_key(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    body = b'{"ts":%d,"type":"sos","type":"motion"}' % _ms(at)  # neither may be taken
    return wire.event_topic(device), body, Q.BAD_SHAPE


def _wrong_sub_topic(device: str, at: datetime, r: np.random.Generator) -> tuple[str, bytes, Q]:
    body = orjson.dumps({"ts": _ms(at), "values": {"heart_rate": 70}})
    return f"{wire.TOPIC_PREFIX}/{device}/readings", body, Q.BAD_TOPIC


FAULTS: dict[str, Fault] = {
    "malformed_json": _malformed,
    "not_utf8": _not_utf8,
    "wrong_type": _wrong_type,
    "wrong_shape": _wrong_shape,
    "unknown_metric": _unknown_metric,
    "out_of_range": _out_of_range,
    "clock_skew_future": _future,
    "clock_skew_stale": _stale,
    "bad_timestamp": _bad_ts,
    "oversized": _oversized,
    "batch_too_long": _long_batch,
    "unknown_event_type": _unknown_event,
    "bad_topic": _bad_topic,
    "unknown_device": _unknown_device,
    "wrong_device": _wrong_device,
    "deep_event_data": _deep_data,
    "large_event_data": _large_data,
    "duplicate_key": _duplicate_key,
    "wrong_sub_topic": _wrong_sub_topic,
}
ACCEPTED_FAULTS = ("duplicate", "out_of_order")


def _device_of(topic: str) -> str | None:
    parts = topic.split("/")
    if topic.startswith(wire.TOPIC_PREFIX + "/") and len(parts) == 4:
        return parts[2]
    if parts[0] == wire.Z2M_PREFIX and len(parts) >= 2:
        return parts[1]
    return None


def bad_message(name: str, device: str, at: datetime, r: np.random.Generator) -> SimMessage:
    topic, payload, reason = FAULTS[name](device, at, r)
    return SimMessage(topic, payload, at, 1, False, expect_reason=reason, fault=name)


def with_faults(
    messages: Iterable[SimMessage], rate: float, seed: int, kinds: Iterable[str] | None = None
) -> Iterator[SimMessage]:
    """The same messages, plus a bad one after a fraction ``rate`` of them.

    Bad messages are added, never substituted, so the good data stays complete. A share of
    the faults are duplicates and out-of-order deliveries of real messages (accepted).
    """
    if not 0 <= rate <= 1:
        raise ValueError("rate must be between 0 and 1")
    r = np.random.default_rng([seed, 4242])
    names = list(kinds) if kinds is not None else [*FAULTS, *ACCEPTED_FAULTS]
    held: SimMessage | None = None
    for message in messages:
        if held is not None:
            yield message
            yield replace(held, sent_at=message.sent_at, fault="out_of_order")
            held = None
            continue
        if rate == 0 or r.random() >= rate:
            yield message
            continue
        name = names[int(r.integers(0, len(names)))]
        device = _device_of(message.topic)
        if name == "duplicate":
            yield message
            yield replace(message, fault="duplicate")
        elif name == "out_of_order" and message.topic.startswith(wire.TOPIC_PREFIX):
            held = message  # delivered after the next message
        elif device is None or name not in FAULTS:
            yield message
        else:
            yield message
            yield bad_message(name, device, message.sent_at, r)
    if held is not None:
        yield held
