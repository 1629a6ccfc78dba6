"""The minute job's scoring of a set of shards: load a window (queries) -> score (pure) ->
write alerts (lifecycle). The clock part is analytics/clock_job.py.

Every function takes the data time ``now`` and runs in the caller's transaction, which holds
the shards' locks (analytics/runner.py). ``scheduled_job`` wraps a whole job that runs in one
transaction: connection, timing and ``log.exception`` (no names or vitals at INFO).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg

from analytics import clock, context, lifecycle, queries, shard_queries
from analytics.arrival import score_new_weights
from analytics.features import ACTIVITY_EVENTS as ACTIVITY
from analytics.features import DOOR_OPEN, DOORS
from analytics.model import Finding
from analytics.rules import CONTEXT_S, KIND_INDEX, STEPS, VitalBatch, score_vitals_arrays
from analytics.shards import ShardState
from dolbom.wire import EVENT_CODES, EventType
from store.alerts import raise_alert
from store.db import connect

log = logging.getLogger(__name__)

CHECKIN = EVENT_CODES[EventType.CHECKIN]

JobFn = Callable[[psycopg.Connection, datetime], dict[str, int]]


def scheduled_job(name: str) -> Callable[[JobFn], Callable[[str, datetime], dict[str, int] | None]]:
    """Wrap a job: one connection and transaction, timing, and ``log.exception`` on failure."""

    def wrap(fn: JobFn) -> Callable[[str, datetime], dict[str, int] | None]:
        @functools.wraps(fn)
        def run(db_url: str, now: datetime) -> dict[str, int] | None:
            started = time.perf_counter()
            try:
                with connect(db_url) as conn, conn.transaction():
                    counts = fn(conn, now)
            except Exception:
                log.exception("analytics job %s failed (data time %s)", name, now.isoformat())
                return None
            log.info(
                "analytics job %s done in %.3f s (data time %s): %s",
                name,
                time.perf_counter() - started,
                now.isoformat(),
                " ".join(f"{k}={v}" for k, v in sorted(counts.items())),
            )
            return counts

        run.job_name = name  # type: ignore[attr-defined]
        return run

    return wrap


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _clean(value: Any) -> Any:
    """Evidence as valid JSON: NaN/inf become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def apply_findings(conn: psycopg.Connection, findings: Sequence[Finding], now: float) -> int:
    """Raise or update alerts for findings (``Finding.enrollee`` is the enrollee id here)."""
    if not findings:
        return 0
    active = {
        (a.enrollee_id, a.kind): a
        for a in queries.active_alerts(conn, sorted({f.enrollee for f in findings}))
    }
    raised = 0
    for f in findings:
        current = active.get((f.enrollee, f.kind))
        if not lifecycle.should_raise(f.kind, f.severity, current, now):
            continue
        onset = min(f.onset_ts, now)
        raise_alert(
            conn,
            enrollee_id=f.enrollee,
            kind=f.kind,
            severity=f.severity,
            summary=f.summary[:500],
            evidence=_clean({**f.evidence, "scored_at": _dt(now).isoformat()}),
            data_ts=_dt(onset),
            source="analytics",
        )
        raised += 1
        if current is not None and current.snoozed_until_ts is not None and now < current.snoozed_until_ts:
            conn.execute("UPDATE alerts SET snoozed_until = NULL WHERE id = %s", (current.alert_id,))
    queries.mark_breach(
        conn,
        [
            (f.enrollee, f.kind, min(f.onset_ts, now) if f.kind not in lifecycle.STATE_KINDS else now)
            for f in findings
        ],
    )
    return raised


def _windows(
    rows: list[tuple[int, int, float, float]],
    last_id: int,
    seen_max: int,
    prev_now: float,
    now: float,
    upto: int,
) -> tuple[dict[int, list[float]], int]:
    """Per-enrollee (start, end] windows due as of ``now`` from one shard's queue rows (every
    row with ``last_id < id <= upto``), and the shard's new watermark: the row before the
    first one reaching past ``now`` (it is read again next time), else ``upto``. A row
    already read (``id <= seen_max``) is scored only after ``prev_now``."""
    windows: dict[int, list[float]] = {}
    pending: int | None = None
    for row_id, enrollee_id, lo, hi in rows:
        if hi > now and pending is None:
            pending = row_id
        start = lo - 1e-3 if row_id > seen_max else max(lo - 1e-3, prev_now)
        end = min(hi, now)
        if end <= start:
            continue
        w = windows.setdefault(enrollee_id, [start, end])
        w[0], w[1] = min(w[0], start), max(w[1], end)
    new_last = pending - 1 if pending is not None else upto
    return windows, max(last_id, new_last)


def score_shards(
    conn: psycopg.Connection,
    states: Mapping[int, ShardState],
    now: datetime,
    frontier: int | None,
    limit: int,
) -> tuple[dict[str, int], dict[int, ShardState]]:
    """Score what the shards' queue holds past their watermarks, up to id ``frontier`` and
    data time ``now``; return counts (``more`` > 0 when a shard had more rows than ``limit``)
    and the shards' new states (not stored). ``frontier`` None: no new rows are read."""
    t_now = now.timestamp()
    counts = {"queue_rows": 0, "enrollees": 0, "readings": 0, "events": 0, "alerts": 0, "more": 0}
    if frontier is None:
        return counts, dict(states)
    rows = shard_queries.queue_rows(conn, {s: st.watermark for s, st in states.items()}, frontier, limit)
    windows: dict[int, list[float]] = {}
    new: dict[int, ShardState] = {}
    for shard, st in states.items():
        mine = rows.get(shard, [])
        truncated = len(mine) >= limit
        upto = mine[-1][0] if truncated else max(frontier, st.watermark)
        found, watermark = _windows(mine, st.watermark, st.seen_max_id, st.data_time, t_now, upto)
        windows.update(found)
        new[shard] = dataclasses.replace(
            st, watermark=watermark, data_time=t_now, seen_max_id=max(st.seen_max_id, upto)
        )
        counts["queue_rows"] += len(mine)
        counts["more"] += int(truncated)
    counts["enrollees"] = len(windows)
    if windows:
        counts.update(_score_windows(conn, windows, now))
    return counts, new


def _score_windows(
    conn: psycopg.Connection, windows: dict[int, list[float]], now: datetime
) -> dict[str, int]:
    ids = sorted(windows)
    starts = np.array([windows[e][0] for e in ids])
    ends = np.array([windows[e][1] for e in ids])
    enrollees = queries.enrollees(conn, ids)
    ids = [row[0] for row in enrollees]  # active ones only
    index = {e: i for i, e in enumerate(ids)}
    keep = np.array([e in index for e in sorted(windows)], dtype=bool)
    starts, ends = starts[keep], ends[keep]
    readings = queries.readings_in_windows(conn, ids, starts - CONTEXT_S, ends)
    events = queries.events_in_windows(conn, ids, starts, ends)
    ctx = context.build(enrollees, queries.baselines(conn, ids), now)
    r_idx = np.array([index[e] for e in readings["enrollee_id"]], dtype=np.int64)
    batch = VitalBatch(
        r_idx,
        readings["metric"],
        readings["ts"],
        readings["value"],
        readings["ts"] > starts[r_idx] if r_idx.size else np.zeros(0, dtype=bool),
    )
    findings, clear_ts, breach_ts = score_vitals_arrays(batch, ctx)
    e_idx = np.array([index[e] for e in events["enrollee_id"]], dtype=np.int64)
    models = queries.person_models(conn, ids)
    rate = np.array([models.get(e, {}).get("night_door_rate", 0.0) for e in ids], dtype=float)
    nights = np.array([models.get(e, {}).get("history_nights", 0) for e in ids], dtype=float)
    door = events["type"] == DOOR_OPEN
    findings += clock.night_wandering(e_idx[door], events["ts"][door], ctx.utc_offset_s, rate, nights)
    by_id = [
        Finding(ids[f.enrollee], f.kind, f.severity, f.onset_ts, f.summary, f.evidence, f.score)
        for f in findings
    ]
    by_id += score_new_weights(conn, ids, batch, ctx.thresholds)
    t_now = now.timestamp()
    raised = apply_findings(conn, by_id, t_now)
    # hysteresis state for active vital alerts of these enrollees
    clears, breaches = [], []
    for alert in queries.active_alerts(conn, ids):
        k = KIND_INDEX.get(alert.kind)
        if k is None:
            continue
        i = index[alert.enrollee_id]
        if np.isfinite(breach_ts[i, k]):
            breaches.append((alert.enrollee_id, alert.kind, float(breach_ts[i, k])))
        if clear_ts[i, k] > breach_ts[i, k]:
            clears.append((alert.enrollee_id, alert.kind, float(clear_ts[i, k])))
    queries.mark_breach(conn, breaches)
    queries.mark_clear(conn, clears)
    _update_activity(conn, ids, batch, readings["device"], events, e_idx)
    return {"readings": int(batch.new.sum()), "events": int(events["ts"].size), "alerts": raised}


def _update_activity(
    conn: psycopg.Connection,
    ids: list[int],
    batch: VitalBatch,
    devices: np.ndarray,
    events: dict[str, np.ndarray],
    e_idx: np.ndarray,
) -> None:
    n = len(ids)

    def latest(mask: np.ndarray, idx: np.ndarray, ts: np.ndarray) -> np.ndarray:
        out = np.full(n, -np.inf)
        np.maximum.at(out, idx[mask], ts[mask])
        return out

    new = batch.new
    last_data = np.maximum(
        latest(new, batch.enrollee, batch.ts), latest(np.ones(e_idx.size, bool), e_idx, events["ts"])
    )
    moving = np.isin(events["type"], ACTIVITY)
    last_activity = np.maximum(
        latest(new & (batch.metric == STEPS) & (batch.value > 0), batch.enrollee, batch.ts),
        latest(moving, e_idx, events["ts"]),
    )
    last_door = latest(np.isin(events["type"], DOORS), e_idx, events["ts"])
    checkin = events["type"] == CHECKIN
    last_checkin = latest(checkin, e_idx, events["ts"])
    answered = checkin & (events["answered"] == 1)
    last_answered = latest(answered, e_idx, events["ts"])
    # check-ins unanswered in a row, counted afresh from the store (windows may overlap when
    # a backlog arrives, so no running count is kept)
    unanswered = np.zeros(n, dtype=np.int64)
    recount = np.zeros(n, dtype=bool)
    with_checkins = sorted({ids[i] for i in e_idx[checkin].tolist()})
    if with_checkins:
        position = {e: i for i, e in enumerate(ids)}
        for enrollee_id, answers in queries.recent_checkins(
            conn, with_checkins, float(events["ts"].max())
        ).items():
            i = position[enrollee_id]
            recount[i] = True
            for was_answered in reversed(answers):
                if was_answered:
                    break
                unanswered[i] += 1

    def dt(x: float) -> datetime | None:
        return _dt(x) if np.isfinite(x) else None

    rows = [
        (
            ids[i],
            dt(last_data[i]),
            dt(last_activity[i]),
            dt(last_door[i]),
            dt(last_checkin[i]),
            dt(last_answered[i]),
            int(unanswered[i]),
            bool(recount[i]),
        )
        for i in range(n)
        if np.isfinite(last_data[i])
    ]
    queries.upsert_activity(conn, rows)
    dev_last: dict[int, float] = {}
    for d, t in zip(devices[new].tolist(), batch.ts[new].tolist(), strict=True):
        if t > dev_last.get(d, -math.inf):
            dev_last[d] = t
    for d, t in zip(events["device"].tolist(), events["ts"].tolist(), strict=True):
        if t > dev_last.get(d, -math.inf):
            dev_last[d] = t
    queries.upsert_device_seen(conn, [(d, _dt(t)) for d, t in dev_last.items()])
