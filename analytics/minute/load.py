"""The minute cycle's reads (SQL only, through analytics/queries): what its scoring takes,
as frozen arrays.

New data is read in two steps. ``load_new_data``: the windows' active enrollees and their
new readings and events (by time from the cycle's shared read, analytics/queries/recent.py,
or device by device for an old window), with the baselines the relative rules need to tell
whether a new reading is past a line. Then, once ``score.needs_context`` has said who needs
more, ``load_context``: 30 minutes of context and all baselines for the enrollees with a new
reading past a line, the weights before a new weight, the night-door profile of those who
opened a door, the recent check-ins of those with one, the devices' kinds, and the active
alerts. ``load_clock`` is the clock's one read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

import numpy as np
import psycopg

from analytics.columns import Columns, frozen
from analytics.detectors.vital_rules import CONTEXT_S, RELATIVE_METRICS
from analytics.detectors.weight import WEIGHT
from analytics.lifecycle import ActiveAlert
from analytics.minute.windows import Windows
from analytics.queries import alerts, people, readings
from analytics.queries import clock as clock_queries
from analytics.queries.people import EnrolleeRow
from analytics.queries.recent import DEVICES, RecentData
from dolbom.alerts import AlertKind
from dolbom.timeutil import epoch, utc


@dataclass(frozen=True, slots=True)
class NewData:
    """The windows' enrollees and their new data (step 1 of the minute's scoring)."""

    now: float
    enrollees: tuple[EnrolleeRow, ...]  # active enrollees with a window, by id
    ids: np.ndarray  # their ids
    starts: np.ndarray  # each one's window (start, end]
    ends: np.ndarray
    readings: Columns  # enrollee_id, device, metric, ts, value: the windows' new readings
    events: Columns  # enrollee_id, device, type, ts, bathroom, answered, mood; in time order
    baselines: Columns  # those the relative rules read, as queries/people.py ``baselines``


@dataclass(frozen=True, slots=True)
class ContextRequest:
    """What the second read fetches (decided by ``score.needs_context``)."""

    past_line: np.ndarray  # positions (in NewData.enrollees) with a new reading past a line
    weighed: np.ndarray  # enrollee ids with a new weight; their weights in [from, until)
    weights_from: float
    weights_until: float
    door_opened: np.ndarray  # enrollee ids with a door opening: their night-door profile
    checked_in: np.ndarray  # enrollee ids with a check-in: their check-ins up to checkins_until
    checkins_until: float


@dataclass(frozen=True, slots=True)
class MinuteInput:
    """Everything the scoring of the minute's new data reads (step 3)."""

    new: NewData
    readings: Columns  # new ones, with CONTEXT_S before the window for those past a line; wearable
    events: Columns  # the new events; wearable (of their device)
    baselines: Columns  # the relative rules' and all of those past a line
    weights: Columns  # enrollee_id, ts, value of the weighed, over the request's range
    night_doors: Columns  # enrollee_id, rate, nights of those with a door opening
    checkins: Mapping[int, tuple[bool, ...]]  # recent check-ins (answered?), oldest first
    active: tuple[ActiveAlert, ...]  # the enrollees' open and acknowledged alerts


@dataclass(frozen=True, slots=True)
class ClockInput:
    """What the clock checks of a group of shards read."""

    now: float
    zones: tuple[str, ...]  # the time zones ``enrollees["zone"]`` indexes
    enrollees: Columns  # the clock candidates' state (queries/clock.py ``clock_enrollees``)
    devices: Columns  # enrollee_id, online, status_ts, battery, last_ts of the candidate devices
    device_names: tuple[str, ...]  # their device_id
    device_kinds: tuple[str, ...]
    active: tuple[ActiveAlert, ...]  # the shards' open and acknowledged alerts
    conditions: Mapping[tuple[int, AlertKind], tuple[float | None, float | None]]  # of ``active``


def _new_data(
    conn: psycopg.Connection,
    recent: RecentData | None,
    ids: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Readings and events of each window (start, end]: recent windows from the cycle's
    data read by time, older ones device by device. Events in time order."""
    by_time = recent.covers(starts) if recent is not None else np.zeros(ids.size, dtype=bool)
    parts = []
    if by_time.any():
        assert recent is not None
        parts.append(recent.windows(conn, ids[by_time], starts[by_time], ends[by_time]))
    if not by_time.all() or not ids.size:  # (no window at all: empty arrays of the right kinds)
        old = ~by_time
        parts.append(
            (
                readings.readings_in_windows(conn, ids[old], starts[old], ends[old]),
                readings.events_in_windows(conn, ids[old], starts[old], ends[old]),
            )
        )
    new_readings = {key: np.concatenate([p[0][key] for p in parts]) for key in parts[0][0]}
    events = {key: np.concatenate([p[1][key] for p in parts]) for key in parts[0][1]}
    if len(parts) > 1:
        order = np.argsort(events["ts"], kind="stable")
        events = {key: value[order] for key, value in events.items()}
    return new_readings, events


def load_new_data(
    conn: psycopg.Connection, windows: Windows, now: float, recent: RecentData | None
) -> NewData:
    """The active enrollees of ``windows``, their new readings and events, and the baselines
    whether a new reading is past a line depends on (a rule relative to the person's own: the
    fever over her usual temperature; the other baselines matter once a rule fires)."""
    enrollees = tuple(people.enrollees(conn, sorted(windows)))  # active ones only
    ids = np.array([row[0] for row in enrollees], dtype=np.int64)
    starts = np.array([windows[e][0] for e in ids.tolist()], dtype=float)
    ends = np.array([windows[e][1] for e in ids.tolist()], dtype=float)
    new_readings, events = _new_data(conn, recent, ids, starts, ends)
    relative = np.isin(new_readings["metric"], RELATIVE_METRICS)
    pairs = np.unique(
        np.stack([new_readings["enrollee_id"][relative], new_readings["metric"][relative]]), axis=1
    )
    base = people.baselines(conn, pairs=(pairs[0], pairs[1]))
    return NewData(
        now=now,
        enrollees=enrollees,
        ids=ids,
        starts=starts,
        ends=ends,
        readings=frozen(new_readings),
        events=frozen(events),
        baselines=frozen(base),
    )


def load_context(conn: psycopg.Connection, new: NewData, request: ContextRequest) -> MinuteInput:
    """The second read of the minute's new data: what ``request`` asks for, the kinds of the
    devices that sent something (for ``analytics_wearable_seen``) and the enrollees' active
    alerts (the lifecycle judges against them)."""
    new_readings, base = dict(new.readings), dict(new.baselines)
    needs = request.past_line
    if needs.size:
        ids = new.ids[needs]
        full = readings.readings_in_windows(conn, ids, new.starts[needs] - CONTEXT_S, new.ends[needs])
        keep = ~np.isin(new_readings["enrollee_id"], ids)
        new_readings = {key: np.concatenate([value[keep], full[key]]) for key, value in new_readings.items()}
        more = people.baselines(conn, ids)
        base = {key: np.concatenate([base[key], more[key]]) for key in base}
    weights: dict[str, np.ndarray] = {
        "enrollee_id": np.zeros(0, dtype=np.int64),
        "ts": np.zeros(0),
        "value": np.zeros(0),
    }
    if request.weighed.size:
        series = readings.metric_series(
            conn,
            request.weighed.tolist(),
            WEIGHT,
            utc(request.weights_from),
            utc(request.weights_until),
        )
        rows = np.array(series, dtype=float).reshape(-1, 3)
        weights = {"enrollee_id": rows[:, 0].astype(np.int64), "ts": rows[:, 1], "value": rows[:, 2]}
    rate, nights = np.zeros(0), np.zeros(0)
    if request.door_opened.size:
        rate, nights = people.night_door_profile(conn, request.door_opened.tolist())
    checkins: dict[int, tuple[bool, ...]] = {}
    if request.checked_in.size:
        found = clock_queries.recent_checkins(conn, request.checked_in.tolist(), request.checkins_until)
        checkins = {e: tuple(answers) for e, answers in found.items()}
    n = new_readings["device"].size
    devices = np.concatenate([new_readings["device"], new.events["device"]])
    wearable = DEVICES.resolve(conn, devices)["wearable"]
    events = {**new.events, "wearable": wearable[n:]}
    return MinuteInput(
        new=new,
        readings=frozen({**new_readings, "wearable": wearable[:n]}),
        events=frozen(events),
        baselines=frozen(base),
        weights=frozen(weights),
        night_doors=frozen({"enrollee_id": request.door_opened, "rate": rate, "nights": nights}),
        checkins=MappingProxyType(checkins),
        active=tuple(alerts.active_alerts(conn, new.ids.tolist())),
    )


def load_clock(conn: psycopg.Connection, shards: Sequence[int], now: float) -> ClockInput:
    """The state of the enrollees and devices of ``shards`` the clock checks can act on as of
    ``now`` (queries/clock.py), the shards' active alerts and their conditions."""
    zones, found = clock_queries.clock_enrollees(conn, shards, now)
    rows = clock_queries.clock_devices(conn, shards, now, found["enrollee_id"].tolist())
    active = alerts.active_alerts(conn, shards=shards)
    conditions = alerts.conditions(conn, [(a.enrollee_id, a.kind) for a in active])

    def seconds(values: list[datetime | None]) -> np.ndarray:
        return np.array([epoch(v) for v in values], dtype=float)  # None: NaN

    devices = {
        "enrollee_id": np.array([int(d[0]) for d in rows], dtype=np.int64),
        "online": np.array([np.nan if d[3] is None else float(d[3]) for d in rows]),
        "status_ts": seconds([d[4] for d in rows]),
        "battery": np.array([np.nan if d[5] is None else float(d[5]) for d in rows]),
        "last_ts": seconds([d[6] for d in rows]),
    }
    return ClockInput(
        now=now,
        zones=tuple(zones),
        enrollees=frozen(found),
        devices=frozen(devices),
        device_names=tuple(str(d[1]) for d in rows),
        device_kinds=tuple(str(d[2]) for d in rows),
        active=tuple(active),
        conditions=MappingProxyType(dict(conditions)),
    )
