"""What a device produces in a day, before it is framed as MQTT messages.

The day model (``device_sim.day``) fills a ``DayRecords``; ``device_sim.encode`` turns it
into topics and payloads. Times are epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# A wearable sample: (ts_ms, {metric: value}).
Sample = tuple[int, dict[str, float]]
# A measurement sent at once: (device key, ts_ms, {metric: value}).
Reading = tuple[str, int, dict[str, float]]
# A zigbee2mqtt state or a device status: (device key, ts_ms, state).
DeviceState = tuple[str, int, dict[str, Any]]


@dataclass(slots=True)
class DayRecords:
    # wearable samples uploaded in batches
    stream: list[Sample] = field(default_factory=list)
    # immediate readings
    readings: list[Reading] = field(default_factory=list)
    # immediate events: (device key, ts_ms, type, data or None)
    events: list[tuple[str, int, str, dict[str, Any] | None]] = field(default_factory=list)
    # zigbee2mqtt states as the sensor publishes them
    z2m: list[DeviceState] = field(default_factory=list)
    # zigbee2mqtt availability: (device key, ts_ms, "online" | "offline")
    availability: list[tuple[str, int, str]] = field(default_factory=list)
    # device status: (device key, ts_ms, {"battery": .., "online": ..})
    status: list[DeviceState] = field(default_factory=list)
    # windows in which a device (or "*" for all) sends nothing: (device key, from_ms, to_ms)
    silent: list[tuple[str, int, int]] = field(default_factory=list)
