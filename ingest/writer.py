"""Storing a batch of decoded messages in one transaction of the caller's.

The one path by which anything is stored, used by the MQTT service (a batch every few
thousand rows or 100 ms, and a batch of one for ``sos``/``fall``) and by the offline loader:
registry check → COPY readings and events into staging → INSERT … ON CONFLICT DO NOTHING →
quarantine → on-arrival alerts → scoring queue → device state → counters. Statements that
lock shared rows (devices, counters) come last, in a fixed order, so concurrent writers hold
them only for the moment before COMMIT.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import psycopg

from dolbom.alerts import AlertKind, Severity
from dolbom.wire import (
    EVENT_BY_CODE,
    EVENT_CODES,
    METRIC_BY_CODE,
    METRIC_BY_NAME,
    QUARANTINE_KEEP_BYTES,
    TopicKind,
)
from dolbom.wire import QuarantineReason as Q
from ingest import critical, queries
from ingest.decode import Decoded, Reject
from ingest.registry import DeviceInfo, Registry
from store.alerts import RaisedAlert, raise_alert

log = logging.getLogger(__name__)

URGENT_EVENT_CODES = [EVENT_CODES[event_type] for event_type in critical.EVENT_KINDS]
_staged: weakref.WeakKeyDictionary[psycopg.Connection, bool] = weakref.WeakKeyDictionary()


@dataclass
class BatchResult:
    messages: int = 0
    readings_in: int = 0
    readings_stored: int = 0
    events_in: int = 0
    events_stored: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    alerts: list[tuple[AlertKind, RaisedAlert]] = field(default_factory=list)
    enrollees: int = 0
    retained_unchanged: int = 0  # replayed zigbee2mqtt states equal to the stored one


@dataclass
class _DeviceState:
    last_seen: datetime | None
    battery: int | None = None
    battery_at: datetime | None = None
    online: bool | None = None
    online_at: datetime | None = None


def _ensure_staging(conn: psycopg.Connection) -> None:
    if conn not in _staged:
        conn.execute(queries.CREATE_STAGING)
        _staged[conn] = True


def _unknown_reason(device_id: str, info: DeviceInfo | None) -> str:
    if info is None:
        return f"device {device_id!r} is not provisioned (POST /v1/devices)"
    return f"device {device_id!r} was removed at {info.removed_at:%Y-%m-%d %H:%M %Z}"


def store_batch(
    conn: psycopg.Connection, registry: Registry, batch: Sequence[Decoded]
) -> BatchResult:
    """Store ``batch`` in the caller's transaction; returns what was actually inserted."""
    result = BatchResult(messages=len(batch))
    _ensure_staging(conn)
    registry.resolve_missing(conn, {d.device_id for d in batch if d.device_id})

    reading_rows: list[tuple[int, int, datetime, float]] = []
    event_rows: list[tuple[int, int, int, datetime, str | None]] = []
    rejects: list[tuple[datetime, Reject]] = []
    states: dict[int, _DeviceState] = {}
    z2m_states: dict[int, tuple[bytes, datetime]] = {}
    replayed = _stored_z2m_states(conn, registry, batch)
    metric_code = {name: m.code for name, m in METRIC_BY_NAME.items()}
    for message in batch:
        device_id = message.device_id
        info = registry.get(device_id) if device_id else None
        if device_id and (info is None or not info.active):
            rejects.append((message.received_at, Reject(
                message.topic, device_id, Q.UNKNOWN_DEVICE, _unknown_reason(device_id, info),
                message.payload)))
            continue
        rejects.extend((message.received_at, r) for r in message.rejects)
        if info is None:
            continue
        dev = info.id
        if message.kind is TopicKind.Z2M_STATE and message.accepted:
            digest = hashlib.sha256(message.payload).digest()
            if message.retained and replayed.get(dev) == digest:
                result.retained_unchanged += 1  # the state already stored, replayed
                continue
            if message.retained:
                log.warning("retained zigbee2mqtt state of device %s differs from the last "
                            "one stored: taken as new, at receipt time", device_id)
            z2m_states[dev] = (digest, message.received_at)
        # A replayed (retained) message is a state, not the device seen now.
        seen = None if message.retained else message.received_at
        state = states.get(dev)
        if state is None:
            state = states[dev] = _DeviceState(seen)
        elif seen is not None and (state.last_seen is None or seen > state.last_seen):
            state.last_seen = seen
        for reading in message.readings:
            reading_rows.append((dev, metric_code[reading.metric], reading.ts, reading.value))
        for event in message.events:
            data = None if event.data is None else orjson.dumps(event.data).decode()
            event_rows.append((dev, info.enrollee_id, EVENT_CODES[event.type], event.ts, data))
        status = message.status
        if status is not None:
            if status.battery is not None and (
                state.battery_at is None or status.ts >= state.battery_at
            ):
                state.battery, state.battery_at = status.battery, status.ts
            if status.online is not None and (
                state.online_at is None or status.ts >= state.online_at
            ):
                state.online, state.online_at = status.online, status.ts
    result.readings_in = len(reading_rows)
    result.events_in = len(event_rows)

    windows: dict[int, tuple[datetime, datetime]] = {}
    if reading_rows:
        _store_readings(conn, registry, reading_rows, windows, result)
    if event_rows:
        _store_events(conn, registry, event_rows, windows, result)
    if rejects:
        _quarantine(conn, rejects, result)
    if windows:
        enrollees = sorted(windows)
        conn.execute(queries.INSERT_SCORING_QUEUE, (
            enrollees, [windows[e][0] for e in enrollees], [windows[e][1] for e in enrollees]))
        result.enrollees = len(enrollees)
    if z2m_states:
        devices = sorted(z2m_states)
        conn.execute(queries.UPSERT_Z2M_STATES, (
            devices, [z2m_states[d][0] for d in devices], [z2m_states[d][1] for d in devices]))
    if states:
        _update_devices(conn, states)
    if result.readings_stored:
        conn.execute(queries.ADD_COUNTER, (result.readings_stored, "readings_stored"))
    if result.events_stored:
        conn.execute(queries.ADD_COUNTER, (result.events_stored, "events_stored"))
    return result


def _stored_z2m_states(conn: psycopg.Connection, registry: Registry,
                       batch: Sequence[Decoded]) -> dict[int, bytes]:
    """The stored state digest of each device with a retained zigbee2mqtt state in ``batch``
    (usually none: the broker replays retained states only on a new subscription)."""
    devices = sorted({info.id for m in batch
                      if m.retained and m.kind is TopicKind.Z2M_STATE and m.device_id
                      and (info := registry.get(m.device_id)) is not None})
    if not devices:
        return {}
    return {device: bytes(digest) for device, digest in
            conn.execute(queries.Z2M_STATES, (devices,)).fetchall()}


def _widen(windows: dict[int, tuple[datetime, datetime]], enrollee: int,
           lo: datetime, hi: datetime) -> None:
    old = windows.get(enrollee)
    windows[enrollee] = (lo, hi) if old is None else (min(old[0], lo), max(old[1], hi))


def _store_readings(
    conn: psycopg.Connection, registry: Registry,
    rows: list[tuple[int, int, datetime, float]],
    windows: dict[int, tuple[datetime, datetime]], result: BatchResult,
) -> None:
    inserted = _copy_direct(conn, rows)
    if inserted is None:  # some were stored already: let ON CONFLICT sort them out
        with conn.cursor() as cur:
            with cur.copy(queries.COPY_READINGS) as copy:
                copy.set_types(list(queries.READINGS_TYPES))
                for row in rows:
                    copy.write_row(row)
            inserted = cur.execute(queries.INSERT_READINGS).fetchall()
    candidates: list[tuple[DeviceInfo, str, datetime, float]] = []
    for device, lo, hi, count, metrics, stamps, values in inserted:
        result.readings_stored += count
        info = registry.by_id(device)
        if info is None:  # removed from memory between check and insert: keep the data
            continue
        _widen(windows, info.enrollee_id, lo, hi)
        for code, ts, value in zip(metrics or (), stamps or (), values or (), strict=True):
            candidates.append((info, METRIC_BY_CODE[code].name, ts, float(value)))
    if candidates:
        _raise_reading_alerts(conn, registry, candidates, result)


_Inserted = list[tuple[int, datetime, datetime, int, list[int] | None, list[datetime] | None,
                       list[float] | None]]


def _copy_direct(conn: psycopg.Connection,
                 rows: list[tuple[int, int, datetime, float]]) -> _Inserted | None:
    """COPY straight into readings in a savepoint; None if a row was already stored.

    Returns what INSERT_READINGS would: per device (device, min ts, max ts, count, and the
    metric codes, times and values of readings that may be past a critical line).
    """
    try:
        with conn.transaction(), conn.cursor() as cur, \
                cur.copy(queries.COPY_READINGS_DIRECT) as copy:
            copy.set_types(list(queries.READINGS_TYPES))
            for row in rows:
                copy.write_row(row)
    except psycopg.errors.UniqueViolation:
        return None
    per_device: dict[int, list[Any]] = {}
    is_candidate = critical.is_candidate
    for device, code, ts, value in rows:
        entry = per_device.get(device)
        if entry is None:
            entry = per_device[device] = [device, ts, ts, 0, None, None, None]
        elif ts < entry[1]:
            entry[1] = ts
        elif ts > entry[2]:
            entry[2] = ts
        entry[3] += 1
        if is_candidate(code, value):
            if entry[4] is None:
                entry[4], entry[5], entry[6] = [], [], []
            entry[4].append(code)
            entry[5].append(ts)
            entry[6].append(value)
    return [tuple(entry) for entry in per_device.values()]  # type: ignore[misc]


def _store_events(
    conn: psycopg.Connection, registry: Registry,
    rows: list[tuple[int, int, int, datetime, str | None]],
    windows: dict[int, tuple[datetime, datetime]], result: BatchResult,
) -> None:
    columns = list(zip(*rows, strict=True))
    inserted = conn.execute(queries.INSERT_EVENTS, {
        "device": list(columns[0]), "enrollee": list(columns[1]), "type": list(columns[2]),
        "ts": list(columns[3]), "data": list(columns[4]), "urgent": URGENT_EVENT_CODES,
    }).fetchall()
    for device, lo, hi, count, types, stamps, datas in inserted:
        result.events_stored += count
        info = registry.by_id(device)
        if info is None:
            continue
        _widen(windows, info.enrollee_id, lo, hi)
        for code, ts, data in zip(types or (), stamps or (), datas or (), strict=True):
            event_type = EVENT_BY_CODE[code]
            kind = critical.EVENT_KINDS[event_type]
            when = critical.local_time(ts, info.timezone, ts)
            raised = raise_alert(
                conn, enrollee_id=info.enrollee_id, kind=kind, severity=Severity.CRITICAL,
                summary=critical.event_summary(event_type, info.kind, info.room, when),
                evidence=critical.event_evidence(event_type, ts, info.device_id, info.kind,
                                                 info.room, data),
                data_ts=ts, source="ingest",
            )
            result.alerts.append((kind, raised))


def _raise_reading_alerts(
    conn: psycopg.Connection, registry: Registry,
    candidates: list[tuple[DeviceInfo, str, datetime, float]], result: BatchResult,
) -> None:
    enrollees = sorted({info.enrollee_id for info, *_ in candidates})
    overrides: dict[int, dict[str, Any]] = dict(
        conn.execute(queries.ENROLLEE_THRESHOLDS, (enrollees,)).fetchall()
    )
    groups: dict[tuple[int, AlertKind], list[critical.Breach]] = defaultdict(list)
    infos: dict[int, DeviceInfo] = {}
    for info, metric, ts, value in candidates:
        infos[info.enrollee_id] = info
        for breach in critical.breaches(metric, ts, value, info.device_id,
                                        overrides.get(info.enrollee_id)):
            groups[(info.enrollee_id, breach.kind)].append(breach)
    latest: dict[tuple[int, AlertKind], critical.Breach] = {
        group: max(found, key=lambda b: (b.ts, b.value)) for group, found in groups.items()
    }
    repeats = _count_repeats(conn, registry, overrides,
                             {group: breach.ts for group, breach in latest.items()})
    for (enrollee_id, kind), found in sorted(groups.items()):
        newest = latest[(enrollee_id, kind)]
        together = [b for b in found if b.ts == newest.ts and b is not newest]
        confirmed_by = repeats.get((enrollee_id, kind))
        severity = critical.severity_for(kind, confirmed_by or 1)
        info = infos[enrollee_id]
        when = critical.local_time(newest.ts, info.timezone, newest.ts)
        pair: dict[str, float] = {}
        if kind == AlertKind.HYPERTENSIVE_CRISIS:
            device = registry.get(newest.device_id)
            if device is not None:
                pair = {METRIC_BY_CODE[code].name: float(value) for code, value in
                        conn.execute(queries.BP_PAIR, (device.id, newest.ts)).fetchall()}
        raised = raise_alert(
            conn, enrollee_id=enrollee_id, kind=kind, severity=severity,
            summary=critical.reading_summary(newest, together, severity, when, pair),
            evidence=critical.reading_evidence([newest, *together], confirmed_by),
            data_ts=newest.ts, source="ingest",
        )
        result.alerts.append((kind, raised))


def _count_repeats(
    conn: psycopg.Connection, registry: Registry, overrides: dict[int, dict[str, Any]],
    newest: dict[tuple[int, AlertKind], datetime],
) -> dict[tuple[int, AlertKind], int]:
    """Per (enrollee, kind) whose kind is confirmed by a repeat: the distinct reading times
    past any of the kind's lines on the enrollee's devices within the kind's confirmation
    window before (and at) its newest breach, at least 1. One query for the whole batch."""
    groups: list[tuple[int, AlertKind]] = []
    lines: list[tuple[int, int, int, str, float, datetime, datetime]] = []
    for (enrollee_id, kind), at in sorted(newest.items()):
        window = critical.confirm_window(kind)
        if window is None:
            continue
        grp = len(groups)
        groups.append((enrollee_id, kind))
        lines.extend(
            (grp, device, metric, comparison, line, at - window, at)
            for device in registry.devices_of(enrollee_id)
            for metric, comparison, line in critical.confirm_lines(kind, overrides.get(enrollee_id))
        )
    counts: dict[int, int] = {}
    if lines:
        columns = [list(column) for column in zip(*lines, strict=True)]
        counts = dict(conn.execute(queries.CONFIRMING_READINGS, columns).fetchall())
    return {group: max(1, int(counts.get(grp, 0))) for grp, group in enumerate(groups)}


def _quarantine(conn: psycopg.Connection, rejects: list[tuple[datetime, Reject]],
                result: BatchResult) -> None:
    """COPY the refused parts, each with at most its first ``QUARANTINE_KEEP_BYTES`` and the
    size and SHA-256 of the whole (CONTRACT §5.9)."""
    with conn.cursor() as cur, cur.copy(queries.COPY_QUARANTINE) as copy:
        for received_at, reject in rejects:
            payload = reject.payload
            copy.write_row((received_at, reject.topic.replace("\x00", "\\0"), reject.device_id,
                            str(reject.reason_code), reject.reason,
                            payload[:QUARANTINE_KEEP_BYTES], len(payload),
                            hashlib.sha256(payload).digest()))
            result.quarantined[str(reject.reason_code)] += 1


def _update_devices(conn: psycopg.Connection, states: dict[int, _DeviceState]) -> None:
    ids = sorted(states)
    rows = [states[i] for i in ids]
    status_at = [
        max((t for t in (s.battery_at, s.online_at) if t is not None), default=None) for s in rows
    ]
    conn.execute(queries.UPDATE_DEVICES, (
        ids, [s.last_seen for s in rows], [s.battery for s in rows], [s.online for s in rows],
        status_at))
