"""Door contact transitions from zigbee2mqtt states.

zigbee2mqtt republishes a device's whole state on every report: a door sensor's periodic
battery or link-quality report carries ``"contact": true`` (or ``false`` if the door stays
open) again. Only a change of contact is a door event; repeating the last known state would
invent door openings (and night-wandering alerts) out of battery reports.

The last state lives in memory per ingest process: after a restart, or when a shared
subscription hands a device's messages to another process, the first state seen is kept as
an event (at most one extra door event, never a lost one).
"""

from __future__ import annotations

import dataclasses

from dolbom.wire import EventType, TopicKind
from ingest.decode import Decoded

DOOR_EVENTS = frozenset({EventType.DOOR_OPEN, EventType.DOOR_CLOSE})


class ContactTracker:
    """Drops zigbee2mqtt door events that repeat the device's last contact state."""

    def __init__(self) -> None:
        self.last_: dict[str, str] = {}

    def filter(self, item: Decoded) -> Decoded:
        if item.kind != TopicKind.Z2M_STATE or not item.events:
            return item
        kept = []
        for event in item.events:
            if event.type in DOOR_EVENTS:
                if self.last_.get(event.device_id) == event.type:
                    continue
                self.last_[event.device_id] = event.type
            kept.append(event)
        if len(kept) == len(item.events):
            return item
        return dataclasses.replace(item, events=tuple(kept))
