"""Frame a day's records as MQTT messages, as each device really sends them.

Live (the default): the band uploads its 5-minute samples every 15 minutes as a JSON array;
cuffs, meters, scales and the speaker publish each measurement or event at once; zigbee
sensors publish zigbee2mqtt states (no timestamp: the receipt time is the time).
Backlog (data older than ``backlog_until``, used by backfill): a zigbee2mqtt state carries no
time, so the hub uploads its sensors' history hourly as timestamped Dolbom events and readings,
and the band uploads hourly arrays.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from device_sim.model import Person
from device_sim.records import DayRecords
from dolbom import wire

LIVE_UPLOAD_MS = 15 * 60_000
BACKLOG_UPLOAD_MS = 60 * 60_000
IMMEDIATE_DELAY_MS = 1_500  # a measurement reaches the broker a second or two after it is taken

# (sent_at ms, topic, payload, qos, retain)
Frame = tuple[int, str, bytes, int, bool]


def _delay(ts: int, spread_ms: int) -> int:
    """A deterministic upload delay (phones and hubs do not all sync on the second)."""
    return (ts * 2654435761) % spread_ms


def _iso(ts_ms: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz).isoformat(timespec="seconds")


def _silencer(records: DayRecords) -> Any:
    windows = records.silent
    if not windows:
        return lambda key, ts: False

    def silent(key: str, ts: int) -> bool:
        return any((k == "*" or k == key) and a <= ts < b for k, a, b in windows)

    return silent


def _resumer(records: DayRecords) -> Any:
    """When an upload falls while its device is offline, it goes out on reconnection."""
    windows = records.silent

    def resume(key: str, sent: int) -> int:
        for k, a, b in windows:
            if (k == "*" or k == key) and a <= sent < b:
                return b + 5_000
        return sent

    return resume


def encode_day(person: Person, records: DayRecords, backlog_until_ms: int | None) -> list[Frame]:
    tz = person.tz
    ids = {d.key: d.device_id for d in person.devices}
    silent = _silencer(records)
    resume = _resumer(records)
    frames: list[Frame] = []
    dumps = orjson.dumps

    def backlog(ts: int) -> bool:
        return backlog_until_ms is not None and ts < backlog_until_ms

    # The band's samples, uploaded in arrays.
    uploads: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ts, values in records.stream:
        if silent("wear", ts):
            continue
        period = BACKLOG_UPLOAD_MS if backlog(ts) else LIVE_UPLOAD_MS
        uploads[(ts // period + 1) * period].append({"ts": ts, "values": values})
    topic = wire.reading_topic(ids["wear"])
    for due, items in uploads.items():
        for i in range(0, len(items), wire.MAX_BATCH_ITEMS):
            frames.append((resume("wear", due + 5_000 + _delay(due + person.index, 50_000)), topic,
                           dumps(items[i: i + wire.MAX_BATCH_ITEMS]), 1, False))
    # Measurements and events, one message each, sent at once.
    for key, ts, values in records.readings:
        if not silent(key, ts):
            frames.append((ts + IMMEDIATE_DELAY_MS, wire.reading_topic(ids[key]),
                           dumps({"ts": _iso(ts, tz), "values": values}), 1, False))
    for key, ts, etype, data in records.events:
        if silent(key, ts):
            continue
        event: dict[str, Any] = {"ts": _iso(ts, tz) if key == "spk" else ts, "type": etype}
        if data is not None:
            event["data"] = data
        frames.append((ts + IMMEDIATE_DELAY_MS // 3, wire.event_topic(ids[key]), dumps(event),
                       1, False))
    for key, ts, body in records.status:
        if not silent(key, ts) or body.get("online") is False:
            frames.append((ts, wire.status_topic(ids[key]), dumps({"ts": ts, **body}), 1,
                           body.get("online") is False))
    # zigbee sensors: live zigbee2mqtt states, or the hub's timestamped backlog.
    z_events: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    z_readings: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    z_topics = {key: wire.z2m_topic(ids[key]) for key in ids}
    cutoff = backlog_until_ms if backlog_until_ms is not None else -1
    check_silence = bool(records.silent)
    for key, ts, state in records.z2m:
        if check_silence and silent(key, ts):
            continue
        if ts >= cutoff:
            frames.append((ts, z_topics[key], dumps(state), 1, False))
            continue
        due = (ts // BACKLOG_UPLOAD_MS + 1) * BACKLOG_UPLOAD_MS
        if state.get("occupancy") is True:
            z_events[(key, due)].append({"ts": ts, "type": "motion"})
        elif "contact" in state:
            kind = "door_close" if state["contact"] else "door_open"
            z_events[(key, due)].append({"ts": ts, "type": kind})
        elif "battery" in state and "temperature" not in state and "occupancy" not in state:
            frames.append((ts, wire.status_topic(ids[key]),
                           dumps({"ts": ts, "battery": state["battery"]}), 1, False))
        if "temperature" in state:
            z_readings[(key, due)].append({"ts": ts, "values": {
                "room_temp": state["temperature"], "humidity": state["humidity"]}})
    hub_delay = _delay(person.index + 17, 30_000) + 2_000
    for (key, due), items in z_events.items():
        frames.append((resume(key, due + hub_delay), wire.event_topic(ids[key]), dumps(items), 1,
                       False))
    for (key, due), items in z_readings.items():
        frames.append((resume(key, due + hub_delay), wire.reading_topic(ids[key]), dumps(items),
                       1, False))
    for key, ts, state_name in records.availability:
        if backlog(ts):
            frames.append((ts, wire.status_topic(ids[key]),
                           dumps({"ts": ts, "online": state_name == "online"}), 1, False))
        else:
            frames.append((ts, wire.z2m_availability_topic(ids[key]),
                           dumps({"state": state_name}), 1, True))
    return frames
