"""The minute job's clock part for a set of shards: load the activity and device state
(queries) -> clock conditions (pure, analytics/clock.py) -> write alerts; then auto-resolve and
escalation of the shards' active alerts. Runs in the caller's transaction, which holds the
shards' locks (analytics/runner.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import psycopg

from analytics import lifecycle
from analytics.detectors import clock, context
from analytics.findings import Finding
from analytics.minute.cycle import apply_findings
from analytics.queries import clock as clock_queries
from analytics.queries import readings as queries
from dolbom.alerts import AlertKind
from dolbom.timeutil import utc
from store.alerts import automatic


def check_clock(conn: psycopg.Connection, now: datetime, shards: Sequence[int]) -> dict[str, int]:
    """Clock conditions of the shards' enrollees, then their auto-resolve and escalation, all
    as of data time ``now``."""
    t_now = now.timestamp()
    zones, found = clock_queries.clock_enrollees(conn, shards, t_now)
    ids = found["enrollee_id"].astype(np.int64).tolist()
    index = {e: i for i, e in enumerate(ids)}
    zone_offsets = np.array([context.utc_offset_s(zone, now) for zone in zones] or [0.0], dtype=float)
    state = clock.ActivityState(
        enrollee_id=np.array(ids, dtype=np.int64),
        utc_offset_s=zone_offsets[found["zone"]],
        has_home_sensors=found["has_home_sensors"],
        has_speaker=found["has_speaker"],
        has_continuous=found["has_continuous"],
        last_data_ts=found["last_data_ts"],
        last_activity_ts=found["last_activity_ts"],
        last_door_ts=found["last_door_ts"],
        last_checkin_ts=found["last_checkin_ts"],
        last_answered_ts=found["last_answered_ts"],
        unanswered_in_row=found["unanswered_in_row"].astype(np.int64),
        wake_h=found["wake_h"],
        sleep_h=found["sleep_h"],
        gap_p90_h=found["gap_p90_h"],
    )
    findings: list[Finding] = []
    clear_masks: dict[AlertKind, np.ndarray] = {}
    for kind, fn in (
        (AlertKind.INACTIVITY, clock.inactivity),
        (AlertKind.NO_DATA, clock.no_data),
        (AlertKind.MISSED_CHECKINS, clock.missed_checkins),
    ):
        found_kind, clear = fn(state, t_now)
        findings += found_kind
        clear_masks[kind] = clear
    devs = [d for d in clock_queries.clock_devices(conn, shards, t_now, ids) if int(d[0]) in index]

    def ep(values: list[Any]) -> np.ndarray:
        return np.array([math.nan if v is None else v.timestamp() for v in values], dtype=float)

    dstate = clock.DeviceState(
        enrollee=np.array([index[int(d[0])] for d in devs], dtype=np.int64),
        device_id=[str(d[1]) for d in devs],
        kind=[str(d[2]) for d in devs],
        online=np.array([math.nan if d[3] is None else float(d[3]) for d in devs]),
        status_ts=ep([d[4] for d in devs]),
        battery=np.array([math.nan if d[5] is None else float(d[5]) for d in devs]),
        last_ts=ep([d[6] for d in devs]),
    )
    offline, battery, offline_clear, battery_clear = clock.devices(dstate, state, t_now)
    clear_masks[AlertKind.DEVICE_OFFLINE], clear_masks[AlertKind.LOW_BATTERY] = offline_clear, battery_clear
    findings += offline + battery
    raised = apply_findings(conn, findings, t_now)
    active = queries.active_alerts(conn, shards=shards)
    clears = [
        (a.enrollee_id, a.kind, t_now)
        for a in active
        if a.kind in clear_masks and a.enrollee_id in index and clear_masks[a.kind][index[a.enrollee_id]]
    ]
    queries.mark_clear(conn, clears)
    resolved, escalated = resolve_and_escalate(conn, t_now, shards, active)
    return {"enrollees": len(ids), "alerts": raised, "resolved": resolved, "escalated": escalated}


def resolve_and_escalate(
    conn: psycopg.Connection,
    now: float,
    shards: Sequence[int],
    active: Sequence[lifecycle.ActiveAlert] | None = None,
) -> tuple[int, int]:
    """Auto-resolve and escalate the active alerts of the shards' enrollees (ingest's too);
    ``active``: those alerts, when the caller has just read them."""
    if active is None:
        active = queries.active_alerts(conn, shards=shards)
    state = queries.conditions(conn, [(a.enrollee_id, a.kind) for a in active])
    resolved = escalated = 0
    for alert in active:
        breach, clear = state.get((alert.enrollee_id, alert.kind), (None, None))
        if lifecycle.auto_resolve_due(alert.kind, breach, clear, alert.last_seen_ts, now):
            automatic.auto_resolve(
                conn,
                alert.alert_id,
                utc(now),
                {
                    "reason": "condition cleared",
                    "cleared_at": None if clear is None else utc(clear).isoformat(),
                    "clear_after_s": lifecycle.CLEAR_AFTER_S[alert.kind],
                    "data_time": utc(now).isoformat(),
                },
            )
            resolved += 1
        elif lifecycle.escalation_due(alert, now):
            automatic.escalate(
                conn,
                alert.alert_id,
                utc(now),
                f"critical alert unacknowledged for {lifecycle.ESCALATE_AFTER_S / 60:g} min",
            )
            escalated += 1
    return resolved, escalated
