"""The minute job's clock part for a set of shards: load the activity and device state
(queries) -> clock conditions (pure, analytics/clock.py) -> write alerts; then auto-resolve and
escalation of the shards' active alerts. Runs in the caller's transaction, which holds the
shards' locks (analytics/runner.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg

from analytics import clock, context, lifecycle, queries
from analytics.jobs import apply_findings
from analytics.model import Finding


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _profile(params: dict[str, Any] | None, key: str) -> float:
    if not params or params.get(key) is None:
        return math.nan
    return float(params[key])


def check_clock(conn: psycopg.Connection, now: datetime, shards: Sequence[int]) -> dict[str, int]:
    """Clock conditions of the shards' enrollees, then their auto-resolve and escalation, all
    as of data time ``now``."""
    t_now = now.timestamp()
    rows = queries.clock_enrollees(conn, shards)
    ids = [int(r[0]) for r in rows]
    index = {e: i for i, e in enumerate(ids)}

    def ep(values: list[Any]) -> np.ndarray:
        return np.array([math.nan if v is None else v.timestamp() for v in values], dtype=float)

    state = clock.ActivityState(
        enrollee_id=np.array(ids, dtype=np.int64),
        utc_offset_s=np.array([context.utc_offset_s(r[1], now) for r in rows], dtype=float),
        has_home_sensors=np.array([bool(r[9]) for r in rows], dtype=bool),
        has_speaker=np.array([bool(r[10]) for r in rows], dtype=bool),
        has_continuous=np.array([bool(r[11]) for r in rows], dtype=bool),
        last_data_ts=ep([r[2] for r in rows]),
        last_activity_ts=ep([r[3] for r in rows]),
        last_door_ts=ep([r[4] for r in rows]),
        last_checkin_ts=ep([r[5] for r in rows]),
        last_answered_ts=ep([r[6] for r in rows]),
        unanswered_in_row=np.array([int(r[7]) for r in rows], dtype=np.int64),
        wake_h=np.array([_profile(r[8], "wake_h") for r in rows]),
        sleep_h=np.array([_profile(r[8], "sleep_h") for r in rows]),
        gap_p90_h=np.array([_profile(r[8], "gap_p90_h") for r in rows]),
    )
    findings: list[Finding] = []
    clear_masks: dict[str, np.ndarray] = {}
    for kind, fn in (
        ("inactivity", clock.inactivity),
        ("no_data", clock.no_data),
        ("missed_checkins", clock.missed_checkins),
    ):
        found, clear = fn(state, t_now)
        findings += found
        clear_masks[kind] = clear
    devs = [d for d in queries.clock_devices(conn, shards) if int(d[0]) in index]
    dstate = clock.DeviceState(
        enrollee=np.array([index[int(d[0])] for d in devs], dtype=np.int64),
        device_id=[str(d[1]) for d in devs],
        kind=[str(d[2]) for d in devs],
        online=np.array([math.nan if d[3] is None else float(d[3]) for d in devs]),
        status_ts=ep([d[4] for d in devs]),
        battery=np.array([math.nan if d[5] is None else float(d[5]) for d in devs]),
        last_ts=ep([d[6] for d in devs]),
    )
    offline, battery, clear_masks["device_offline"], clear_masks["low_battery"] = clock.devices(
        dstate, state, t_now
    )
    findings += offline + battery
    by_id = [
        Finding(ids[f.enrollee], f.kind, f.severity, f.onset_ts, f.summary, f.evidence, f.score)
        for f in findings
    ]
    raised = apply_findings(conn, by_id, t_now)
    active = queries.active_alerts(conn, shards=shards)
    clears = [
        (a.enrollee_id, a.kind, t_now)
        for a in active
        if a.kind in clear_masks and a.enrollee_id in index and clear_masks[a.kind][index[a.enrollee_id]]
    ]
    queries.mark_clear(conn, clears)
    resolved, escalated = resolve_and_escalate(conn, t_now, shards)
    return {"enrollees": len(ids), "alerts": raised, "resolved": resolved, "escalated": escalated}


def resolve_and_escalate(conn: psycopg.Connection, now: float, shards: Sequence[int]) -> tuple[int, int]:
    """Auto-resolve and escalate the active alerts of the shards' enrollees (ingest's too)."""
    active = queries.active_alerts(conn, shards=shards)
    state = queries.conditions(conn, [(a.enrollee_id, a.kind) for a in active])
    resolved = escalated = 0
    for alert in active:
        breach, clear = state.get((alert.enrollee_id, alert.kind), (None, None))
        if lifecycle.auto_resolve_due(alert.kind, breach, clear, alert.last_seen_ts, now):
            queries.auto_resolve(
                conn,
                alert.alert_id,
                now,
                {
                    "reason": "condition cleared",
                    "cleared_at": None if clear is None else _dt(clear).isoformat(),
                    "clear_after_s": lifecycle.CLEAR_AFTER_S[alert.kind],
                    "data_time": _dt(now).isoformat(),
                },
            )
            resolved += 1
        elif lifecycle.escalation_due(alert, now):
            queries.escalate(conn, alert.alert_id, now, lifecycle.ESCALATE_AFTER_S)
            escalated += 1
    return resolved, escalated
