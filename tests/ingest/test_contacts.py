from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from ingest.contacts import ContactTracker
from ingest.decode import decode

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _door_events(tracker: ContactTracker, states: list[dict[str, object]]) -> list[str]:
    out: list[str] = []
    for i, state in enumerate(states):
        at = T0 + timedelta(minutes=i)
        item = tracker.filter(decode("zigbee2mqtt/door-1", orjson.dumps(state), at, at))
        out += [str(e.type) for e in item.events]
    return out


def test_only_contact_changes_are_door_events() -> None:
    states: list[dict[str, object]] = [
        {"contact": True, "battery": 97, "linkquality": 120},  # first state seen: kept
        {"contact": True, "battery": 96, "linkquality": 118},  # battery report: no event
        {"contact": False, "battery": 96},                      # opened
        {"contact": False, "battery": 95},                      # still open: no event
        {"contact": True},                                      # closed
    ]
    assert _door_events(ContactTracker(), states) == ["door_close", "door_open", "door_close"]


def test_devices_are_tracked_apart_and_motion_is_untouched() -> None:
    tracker = ContactTracker()
    first = tracker.filter(decode("zigbee2mqtt/door-a", b'{"contact":false}', T0, T0))
    other = tracker.filter(decode("zigbee2mqtt/door-b", b'{"contact":false}', T0, T0))
    motion = [tracker.filter(decode("zigbee2mqtt/pir-1", b'{"occupancy":true}', T0, T0))
              for _ in range(2)]
    assert [e.type for e in first.events] == ["door_open"]
    assert [e.type for e in other.events] == ["door_open"]
    assert [len(m.events) for m in motion] == [1, 1]
