"""The minute cycle's new data, read by time instead of device by device.

Readings are keyed by device, so reading "each enrollee's readings in (start, end]" joins
every device of every enrollee with new data (12 in the standard kit, most of which send only
events) and probes the readings index once per device: at 100,000 enrollees that is hundreds
of thousands of index probes a minute, each scanning the device's whole partition (the index
is (device, metric, ts)). Instead, one cycle reads the readings and events of the recent data
time once, by time (the BRIN indexes on ``ts``), as flat arrays (analytics/queries/fetch.py), and each
group of shards picks its enrollees' windows out of them in numpy. Only what is missing is
read: the range grows when a group's windows start earlier than what the cycle holds.

Readings name a device; ``DeviceMap`` resolves it to its enrollee (and whether it sits in the
bathroom, for events, and is a wearable, for ``analytics_device_seen``). The map stays in the
process across cycles and is reloaded when the devices' assignment changes
(``analytics_devices_version``, bumped by a trigger of migration 0022); a device it does not
know yet (provisioned since) is looked up.

Windows older than ``HORIZON_S`` (a backlog, an old upload) are read device by device as
before (``queries.readings.readings_in_windows``): reading them by time would scan everybody's data.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Final

import numpy as np
import psycopg

from analytics.queries import fetch

HORIZON_S: Final = 30 * 60.0  # windows starting within this of ``now`` are read by time
EXTEND_S: Final = 60.0  # read at least this much more data time when a window needs more

_READINGS: Final = (
    ("device", "int4"),
    ("metric", "int4"),
    ("ts", "float8"),
    ("value", "float8"),
)
_EVENTS: Final = (
    ("enrollee_id", "int4"),
    ("device", "int4"),
    ("type", "int4"),
    ("ts", "float8"),
    ("answered", "float8"),
    ("mood", "float8"),
)


_MAP: Final = (("id", "int4"), ("enrollee_id", "int4"), ("bathroom", "bool"), ("wearable", "bool"))
_MAP_SQL: Final = "SELECT id, enrollee_id, coalesce(room = 'bathroom', false), kind = 'wearable' FROM devices"


class DeviceMap:
    """Device id -> enrollee id, bathroom? and wearable?, for every device (removed ones too)."""

    def __init__(self) -> None:
        self.version: tuple[int, int, str] | None = None
        self._lock = threading.Lock()
        self._arrays = self._empty(0)

    @staticmethod
    def _empty(size: int) -> dict[str, np.ndarray]:
        return {
            "enrollee_id": np.full(size, -1, dtype=np.int64),  # -1: no such device
            "bathroom": np.zeros(size, dtype=bool),
            "wearable": np.zeros(size, dtype=bool),
        }

    def _put(self, found: dict[str, np.ndarray], base: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        size = max(base["enrollee_id"].size, int(found["id"].max()) + 1 if found["id"].size else 0)
        out = self._empty(size)
        for key, value in base.items():
            out[key][: value.size] = value
            out[key][found["id"]] = found[key]
        return out

    def refresh(self, conn: psycopg.Connection) -> None:
        """Reload when the devices' assignment changed since the last load (a change while
        loading is seen by the next refresh)."""
        # the database too: a process may work on several (tests, replays into scratch
        # databases), whose version counters start alike
        row = conn.execute(
            "SELECT v.version, d.oid, pg_postmaster_start_time() FROM analytics_devices_version v "
            "JOIN pg_database d ON d.datname = current_database()"
        ).fetchone()
        version = None if row is None else (int(row[0]), int(row[1]), row[2].isoformat())
        if version is not None and version == self.version:
            return
        loaded = self._put(fetch.arrays(conn, _MAP_SQL, None, _MAP), self._empty(0))
        with self._lock:
            self._arrays, self.version = loaded, version

    def resolve(self, conn: psycopg.Connection, devices: np.ndarray) -> dict[str, np.ndarray]:
        """enrollee_id (-1 for an id that does not exist), bathroom and wearable per device,
        as of this database now (``refresh``); a device provisioned since is looked up."""
        self.refresh(conn)
        devices = np.asarray(devices, dtype=np.int64)
        with self._lock:
            arrays = self._arrays
        inside = devices < arrays["enrollee_id"].size
        unknown = ~inside
        unknown[inside] = arrays["enrollee_id"][devices[inside]] < 0
        if unknown.any():
            found = fetch.arrays(
                conn,
                _MAP_SQL + " WHERE id = ANY(%s::int[])",
                (fetch.int_array(np.unique(devices[unknown])),),
                _MAP,
            )
            with self._lock:
                self._arrays = arrays = self._put(found, self._arrays)
            inside = devices < arrays["enrollee_id"].size
        out = self._empty(devices.size)
        for key, value in arrays.items():
            out[key][inside] = value[devices[inside]]
        return out


DEVICES = DeviceMap()  # one per process: workers are processes


def _concat(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


class RecentData:
    """Readings and events with ts in (lo, hi] of one cycle (``hi`` its data time ``now``),
    read once and shared by the cycle's groups of shards."""

    def __init__(self, now: float, devices: DeviceMap = DEVICES) -> None:
        self.hi = now
        self.lo = now  # nothing held yet
        self.devices = devices
        self.readings = {key: np.zeros(0, dtype=fetch.native(kind)) for key, kind in _READINGS}
        self.events = {key: np.zeros(0, dtype=fetch.native(kind)) for key, kind in _EVENTS}

    def covers(self, starts: np.ndarray) -> np.ndarray:
        """Which windows starting at ``starts`` (and ending by ``hi``) are read by time."""
        return np.asarray(starts, dtype=float) >= self.hi - HORIZON_S

    def _extend(self, conn: psycopg.Connection, start: float) -> None:
        """Hold everything from ``start`` (exclusive) on."""
        if start >= self.lo:
            return
        # a minute's margin, so the next groups' windows (starting a little earlier) are held
        # already: one read per cycle, not one per group
        lo, hi = max(min(start, self.lo - EXTEND_S), self.hi - HORIZON_S), self.lo
        lo = min(lo, start)
        readings = fetch.arrays(
            conn,
            "SELECT device, metric::int4, extract(epoch FROM ts)::float8, value::text::float8 FROM readings "
            "WHERE ts > to_timestamp(%s) AND ts <= to_timestamp(%s)",
            (lo, hi),
            _READINGS,
        )
        events = fetch.arrays(
            conn,
            "SELECT enrollee_id, device, type::int4, extract(epoch FROM ts)::float8, "
            "coalesce(CASE WHEN data ? 'answered' THEN (data->>'answered')::boolean::int END::float8, "
            "'NaN'), "
            "coalesce(CASE WHEN jsonb_typeof(data->'mood') = 'number' THEN (data->>'mood')::float8 END, "
            "'NaN') FROM events WHERE ts > to_timestamp(%s) AND ts <= to_timestamp(%s)",
            (lo, hi),
            _EVENTS,
        )
        self.readings = _concat([self.readings, readings])
        self.events = _concat([self.events, events])
        self.lo = lo

    def windows(
        self, conn: psycopg.Connection, ids: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The readings and events of each enrollee's window (start, end], for windows that
        ``covers``; as ``queries.readings.readings_in_windows`` / ``events_in_windows`` return them
        (events in time order)."""
        if ids.size:
            self._extend(conn, float(starts.min()))
        size = int(ids.max()) + 1 if ids.size else 0
        lo = np.full(size, np.inf)
        hi = np.full(size, -np.inf)
        lo[ids], hi[ids] = starts, ends

        def pick(enrollee: np.ndarray, ts: np.ndarray) -> np.ndarray:
            inside = (enrollee >= 0) & (enrollee < size)
            e = np.where(inside, enrollee, 0)
            return np.flatnonzero(inside & (ts > lo[e]) & (ts <= hi[e]))

        owner = self.devices.resolve(conn, self.readings["device"])["enrollee_id"]
        rows = pick(owner, self.readings["ts"])
        readings = {key: self.readings[key][rows] for key, _ in _READINGS}
        readings["enrollee_id"] = owner[rows]
        for key in ("device", "metric"):
            readings[key] = readings[key].astype(np.int64)
        rows = pick(self.events["enrollee_id"].astype(np.int64), self.events["ts"])
        rows = rows[np.argsort(self.events["ts"][rows], kind="stable")]
        events = {key: self.events[key][rows] for key, _ in _EVENTS}
        for key in ("enrollee_id", "device", "type"):
            events[key] = events[key].astype(np.int64)
        events["bathroom"] = self.devices.resolve(conn, events["device"])["bathroom"]
        return readings, events
