"""The decoder is pure: every rule of CONTRACT §1 "Bad input", and it never raises."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dolbom.wire import METRICS, QuarantineReason, TopicKind
from ingest import decode as decoder
from ingest.decode import decode

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
TOPIC = "dolbom/v1/band-1/reading"
Q = QuarantineReason


def one(topic: str, body: object) -> decoder.Decoded:
    payload = body if isinstance(body, bytes) else orjson.dumps(body)
    return decode(topic, payload, NOW, NOW)


def codes(result: decoder.Decoded) -> list[str]:
    return [r.reason_code for r in result.rejects]


def test_epoch_ms_and_iso_are_the_same_instant() -> None:
    a = one(TOPIC, {"ts": NOW_MS - 60_000, "values": {"heart_rate": 71}})
    b = one(TOPIC, {"ts": "2026-11-24T20:59:00+09:00", "values": {"heart_rate": 71}})
    assert a.readings == b.readings
    assert a.readings[0].ts == NOW - timedelta(minutes=1)
    assert a.kind is TopicKind.READING and a.device_id == "band-1" and not a.rejects


def test_batch_keeps_the_valid_part() -> None:
    items = [{"ts": NOW_MS - i, "values": {"spo2": 97, "heart_rate": 65}} for i in range(5)]
    items[2]["values"]["spo2"] = 130
    items.append({"ts": NOW_MS, "values": {"humour": 3}})
    result = one(TOPIC, items)
    assert len(result.readings) == 9
    assert codes(result) == [Q.OUT_OF_RANGE, Q.UNKNOWN_METRIC]
    assert result.rejects[0].reason.startswith("item 3 of 6: spo2 130")
    assert orjson.loads(result.rejects[0].payload) == {"ts": NOW_MS - 2, "values": {"spo2": 130}}


@pytest.mark.parametrize(("topic", "payload", "code"), [
    ("dolbom/v1/band-1/reading", b"\xff\xfe{", Q.NOT_UTF8),
    ("dolbom/v1/band-1/reading", b"{not json", Q.NOT_JSON),
    ("dolbom/v1/band-1/reading", b"[]", Q.BAD_SHAPE),
    ("dolbom/v1/band-1/reading", b'"hello"', Q.BAD_SHAPE),
    ("dolbom/v1/band-1/reading", b'{"values": {"spo2": 97}}', Q.BAD_SHAPE),
    ("dolbom/v1/band-1/reading", b'{"ts": 1, "values": []}', Q.BAD_SHAPE),
    ("dolbom/v1/band-1/reading", b'{"ts": "yesterday", "values": {"spo2": 97}}',
     Q.BAD_TIMESTAMP),
    ("dolbom/v1/band-1/reading", b'{"ts": "2026-11-24T08:00:00", "values": {"spo2": 97}}',
     Q.BAD_TIMESTAMP),
    ("dolbom/v1/band-1/reading", b'{"ts": true, "values": {"spo2": 97}}', Q.BAD_TIMESTAMP),
    ("dolbom/v1/band-1/reading",
     orjson.dumps({"ts": NOW_MS + 301_000, "values": {"spo2": 97}}), Q.FUTURE_TIMESTAMP),
    ("dolbom/v1/band-1/reading",
     orjson.dumps({"ts": NOW_MS - 31 * 86_400_000, "values": {"spo2": 97}}), Q.STALE_TIMESTAMP),
    ("dolbom/v1/band-1/reading", orjson.dumps({"ts": NOW_MS, "values": {"mood": 3}}),
     Q.UNKNOWN_METRIC),
    ("dolbom/v1/band-1/reading", orjson.dumps({"ts": NOW_MS, "values": {"spo2": "97"}}),
     Q.BAD_VALUE),
    ("dolbom/v1/band-1/reading", orjson.dumps({"ts": NOW_MS, "values": {"steps": 10.5}}),
     Q.BAD_VALUE),
    ("dolbom/v1/band-1/reading", orjson.dumps({"ts": NOW_MS, "values": {"heart_rate": 400}}),
     Q.OUT_OF_RANGE),
    ("dolbom/v1/band-1/reading",
     orjson.dumps([{"ts": NOW_MS - i, "values": {"spo2": 97}} for i in range(1001)]),
     Q.BATCH_TOO_LONG),
    ("dolbom/v1/band-1/reading",
     orjson.dumps({"ts": NOW_MS, "values": {"spo2": 97}, "device_id": "band-2"}), Q.WRONG_DEVICE),
    ("dolbom/v1/band-1/event", orjson.dumps({"ts": NOW_MS, "type": "party"}),
     Q.UNKNOWN_EVENT_TYPE),
    ("dolbom/v1/band-1/event", orjson.dumps({"ts": NOW_MS, "type": "checkin",
                                              "data": {"mood": 9}}), Q.BAD_VALUE),
    ("dolbom/v1/band-1/event", orjson.dumps({"ts": NOW_MS, "type": "sos",
                                              "data": {"note": "a\x00b"}}), Q.BAD_VALUE),
    ("dolbom/v1/band-1/status", b"{}", Q.BAD_SHAPE),
    ("dolbom/v1/band-1/status", b'{"battery": 140}', Q.OUT_OF_RANGE),
    ("dolbom/v1/band-1/status", b'{"online": "yes"}', Q.BAD_VALUE),
    ("dolbom/v1/band.1/reading", b"{}", Q.BAD_TOPIC),
    ("dolbom/v1/band-1/telemetry", b"{}", Q.BAD_TOPIC),
    ("zigbee2mqtt/pir-1/availability", b"maybe", Q.NOT_JSON),
    ("zigbee2mqtt/pir-1/availability", b'{"state": "maybe"}', Q.BAD_SHAPE),
    ("zigbee2mqtt/pir-1", b"[1]", Q.BAD_SHAPE),
    ("zigbee2mqtt/pir-1", b'{"temperature": 99}', Q.OUT_OF_RANGE),
])
def test_each_bad_input_has_its_reason(topic: str, payload: bytes, code: str) -> None:
    result = decode(topic, payload, NOW, NOW)
    assert codes(result) == [code]
    assert result.rejects[0].reason and "\x00" not in result.rejects[0].reason
    assert not result.readings and not result.events


def test_too_large_payload_is_refused_before_parsing() -> None:
    payload = b'{"ts": 1, "values": {"spo2": 97}, "pad": "' + b"x" * 300_000 + b'"}'
    result = decode(TOPIC, payload, NOW, NOW)
    assert codes(result) == [Q.TOO_LARGE]
    assert result.rejects[0].payload is payload


def test_zigbee2mqtt_mapping() -> None:
    z = one("zigbee2mqtt/pir-1", {"occupancy": True, "battery": 97, "linkquality": 120})
    assert [e.type for e in z.events] == ["motion"] and z.status is not None
    assert z.status.battery == 97 and z.events[0].ts == NOW
    assert [e.type for e in one("zigbee2mqtt/door-1", {"contact": False}).events] == ["door_open"]
    assert [e.type for e in one("zigbee2mqtt/door-1", {"contact": True}).events] == ["door_close"]
    assert [e.type for e in one("zigbee2mqtt/r-1", {"fall_status": "fall_alarm"}).events] \
        == ["fall"]
    assert [e.type for e in one("zigbee2mqtt/r-2", {"status": "falling"}).events] == ["fall"]
    climate = one("zigbee2mqtt/th-1", {"temperature": 22.5, "humidity": 45.1})
    assert {(r.metric, r.value) for r in climate.readings} == {("room_temp", 22.5),
                                                               ("humidity", 45.1)}
    quiet = one("zigbee2mqtt/pir-1", {"occupancy": False, "linkquality": 90})
    assert quiet.accepted == 0 and not quiet.rejects
    for payload in (b"online", b'{"state":"online"}'):
        status = decode("zigbee2mqtt/pir-1/availability", payload, NOW, NOW).status
        assert status is not None and status.online is True
    off = decode("zigbee2mqtt/pir-1/availability", b"offline", NOW, NOW).status
    assert off is not None and off.online is False


def test_status_as_last_will() -> None:
    result = one("dolbom/v1/band-1/status", {"online": False})
    assert result.status == decoder.Status("band-1", NOW, None, False)


def test_every_metric_accepts_its_range_ends() -> None:
    for metric in METRICS:
        for value in (metric.low, metric.high):
            result = one(TOPIC, {"ts": NOW_MS, "values": {metric.name: value}})
            assert not result.rejects, (metric.name, value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
plausible = st.fixed_dictionaries(
    {"ts": st.one_of(st.integers(NOW_MS - 40 * 86_400_000, NOW_MS + 86_400_000),
                     st.text(max_size=30), json_values),
     "values": st.dictionaries(st.sampled_from([m.name for m in METRICS] + ["x"]),
                               json_values | st.floats(-1e6, 1e6), max_size=4)},
    optional={"type": st.sampled_from(["sos", "fall", "checkin", "motion", "nope"]),
              "data": json_values, "seq": json_values, "device_id": json_values,
              "battery": json_values, "online": json_values, "occupancy": json_values,
              "contact": json_values, "temperature": json_values},
)
topics = st.sampled_from([
    "dolbom/v1/d-1/reading", "dolbom/v1/d-1/event", "dolbom/v1/d-1/status",
    "zigbee2mqtt/d-1", "zigbee2mqtt/d-1/availability", "dolbom/v1/+/reading", "a/b",
]) | st.text(max_size=40)


def _check_total(result: decoder.Decoded) -> None:
    for reject in result.rejects:
        assert isinstance(reject.reason_code, QuarantineReason)
        assert reject.reason.strip() and "\x00" not in reject.reason
    for r in result.readings:
        assert r.ts.tzinfo is not None
        assert NOW - timedelta(days=30) <= r.ts <= NOW + timedelta(minutes=5)
    if result.accepted == 0:
        # nothing accepted: either something is quarantined or the message held nothing
        # to store (a zigbee2mqtt state with no mapped key)
        assert result.rejects or result.kind is TopicKind.Z2M_STATE


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(topic=topics, payload=st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(topic: str, payload: bytes) -> None:
    _check_total(decoder._decode(topic, payload, NOW, NOW, 256 * 1024))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(topic=topics, body=json_values | plausible | st.lists(plausible, max_size=5))
def test_arbitrary_json_never_raises(topic: str, body: object) -> None:
    payload = json.dumps(body).encode()  # stdlib: also integers past 64 bits
    _check_total(decoder._decode(topic, payload, NOW, NOW, 256 * 1024))


# -- CONTRACT §5.9: limits on device data ------------------------------------------------------

EVENT = "dolbom/v1/spk-1/event"


def _nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"x": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_event_data_at_the_depth_limit_is_kept_and_one_deeper_is_bad_shape() -> None:
    kept = one(EVENT, {"ts": NOW_MS, "type": "sos", "data": _nested(8)})
    assert len(kept.events) == 1 and not kept.rejects
    batch = one(EVENT, [{"ts": NOW_MS, "type": "sos", "data": _nested(9)},
                        {"ts": NOW_MS - 1, "type": "motion"}])
    assert [e.type for e in batch.events] == ["motion"]  # the valid part of the batch is kept
    assert codes(batch) == [Q.BAD_SHAPE]
    assert batch.rejects[0].reason == "item 1 of 2: event data nested more than 8 levels deep"


def test_a_message_nested_past_any_valid_shape_is_refused_whole_without_recursion() -> None:
    deep = b'{"ts":%d,"type":"sos","data":' % NOW_MS + b'{"a":' * 300 + b"1" + b"}" * 301
    result = decode(EVENT, deep, NOW, NOW)
    assert codes(result) == [Q.BAD_SHAPE] and not result.events
    assert "nested more than 16 levels" in result.rejects[0].reason
    assert result.rejects[0].payload == deep


def test_event_data_over_4_kb_is_too_large() -> None:
    result = one(EVENT, {"ts": NOW_MS, "type": "checkin", "data": {"note": "x" * 4100}})
    assert codes(result) == [Q.TOO_LARGE] and "exceeds 4096 bytes" in result.rejects[0].reason
    assert len(one(EVENT, {"ts": NOW_MS, "type": "checkin",
                           "data": {"note": "x" * 4000}}).events) == 1


@pytest.mark.parametrize("payload", [
    b'{"ts":%d,"type":"sos","type":"motion"}' % NOW_MS,
    b'{"ts":%d, "type" : "sos", "type":"motion"}' % NOW_MS,
    b'[{"ts":%d,"type":"sos","data":{"a":1,"b":{"c":1,"c":2}}}]' % NOW_MS,
    b'{"ts":%d,"type":"sos","data":{"k":"x\\":","k":1}}' % NOW_MS,  # a '":' inside a string
])
def test_a_duplicate_key_anywhere_refuses_the_message(payload: bytes) -> None:
    result = decode(EVENT, payload, NOW, NOW)
    assert codes(result) == [Q.BAD_SHAPE] and not result.events
    assert "duplicate key" in result.rejects[0].reason


@settings(max_examples=300, suppress_health_check=list(HealthCheck), deadline=None)
@given(st.recursive(
    st.none() | st.integers(-5, 5) | st.sampled_from(['a":', 'b', '":', '\\"']),
    lambda children: st.lists(children, max_size=3) | st.lists(
        st.tuples(st.sampled_from(["a", "b", 'a":', "c"]), children), max_size=4),
    max_leaves=12), st.booleans())
def test_duplicate_keys_are_found_exactly(tree: object, spaced: bool) -> None:
    """The key-count shortcut agrees with an exact parser on texts built with and without
    duplicates, with '":' inside strings and with spaced separators."""
    def text(node: object) -> str:
        if isinstance(node, list) and node and isinstance(node[0], tuple):
            sep = " : " if spaced else ":"
            return "{" + ",".join(json.dumps(k) + sep + text(v) for k, v in node) + "}"
        if isinstance(node, list):
            return "[" + ",".join(text(v) for v in node) + "]"
        return json.dumps(node)

    body = text(tree)
    pairs_seen: list[bool] = []

    def hook(pairs: list[tuple[str, object]]) -> dict[str, object]:
        pairs_seen.append(len({k for k, _ in pairs}) != len(pairs))
        return dict(pairs)

    json.loads(body, object_pairs_hook=hook)
    has_duplicate = any(pairs_seen)
    payload = b'{"ts":%d,"type":"checkin","data":{"x":%s}}' % (NOW_MS, body.encode())
    result = decode(EVENT, payload, NOW, NOW)
    duplicate_refused = any("duplicate key" in r.reason for r in result.rejects)
    assert duplicate_refused == has_duplicate


def test_command_topic_is_acknowledged_without_a_trace_and_wrong_sub_topics_are_bad_topic(
) -> None:
    command = one("dolbom/v1/spk-1/command", {"id": "c1", "type": "say", "text": "hi"})
    assert command.kind is TopicKind.COMMAND and command.device_id is None
    assert not command.rejects and command.accepted == 0
    for topic in ("dolbom/v1/band-1/readings", "dolbom/v1/band-1/reading/x"):
        assert codes(one(topic, {"ts": NOW_MS, "values": {"heart_rate": 70}})) == [Q.BAD_TOPIC]
