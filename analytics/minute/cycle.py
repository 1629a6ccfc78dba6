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
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import numpy as np
import psycopg

from analytics import lifecycle
from analytics.detectors import clock, context
from analytics.detectors.features import ACTIVITY_EVENTS as ACTIVITY
from analytics.detectors.features import DOOR_OPEN, DOORS
from analytics.detectors.vital_rules import CONTEXT_S, KIND_INDEX, RULES_BY_METRIC, STEPS
from analytics.detectors.vitals import EnrolleeContext, VitalBatch, score_vitals_arrays
from analytics.findings import Finding
from analytics.minute.arrival import score_new_weights
from analytics.queries import clock as clock_queries
from analytics.queries import readings as queries
from analytics.queries import shards as shard_queries
from analytics.queries.recent import DEVICES, RecentData
from analytics.shards import ShardState
from dolbom.jsonsafe import shown
from dolbom.timeutil import utc
from dolbom.wire import EVENT_CODES, METRIC_BY_NAME, EventType
from store.alerts import raise_alert
from store.alerts.automatic import end_snooze
from store.db import connect

log = logging.getLogger(__name__)

RELATIVE_METRICS: Final = sorted(
    {METRIC_BY_NAME[name].code for name, rules in RULES_BY_METRIC.items() if any(r.relative for r in rules)}
)

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


def apply_findings(conn: psycopg.Connection, findings: Sequence[Finding], now: float) -> int:
    """Raise or update alerts for findings."""
    if not findings:
        return 0
    active = {
        (a.enrollee_id, a.kind): a
        for a in queries.active_alerts(conn, sorted({f.enrollee_id for f in findings}))
    }
    raised = 0
    for f in findings:
        current = active.get((f.enrollee_id, f.kind))
        if not lifecycle.should_raise(f.kind, f.severity, current, now):
            continue
        onset = min(f.onset_ts, now)
        raise_alert(
            conn,
            enrollee_id=f.enrollee_id,
            kind=f.kind,
            severity=f.severity,
            summary=f.summary[:500],
            evidence=shown({**f.evidence, "scored_at": utc(now).isoformat()}),
            data_ts=utc(onset),
            source="analytics",
        )
        raised += 1
        if current is not None and current.snoozed_until_ts is not None and now < current.snoozed_until_ts:
            end_snooze(conn, [current.alert_id])
    queries.mark_breach(
        conn,
        [
            (f.enrollee_id, f.kind, min(f.onset_ts, now) if f.kind not in lifecycle.STATE_KINDS else now)
            for f in findings
        ],
    )
    return raised


def _windows(
    rows: Mapping[str, np.ndarray],
    last_id: int,
    seen_max: int,
    prev_now: float,
    now: float,
    upto: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The (start, end] windows due as of ``now`` from one shard's queue rows (arrays in id
    order, every row with ``last_id < id <= upto``): enrollee, start, end per row still to
    score (an enrollee may have several; the caller merges them), and the shard's new
    watermark: the row before the first one reaching past ``now`` (it is read again next
    time), else ``upto``. A row already read (``id <= seen_max``) is scored only after
    ``prev_now``."""
    ids, lo, hi = rows["id"], rows["lo"], rows["hi"]
    late = np.flatnonzero(hi > now)
    new_last = int(ids[late[0]]) - 1 if late.size else upto
    start = np.where(ids > seen_max, lo - 1e-3, np.maximum(lo - 1e-3, prev_now))
    end = np.minimum(hi, now)
    due = end > start
    return rows["enrollee_id"][due].astype(np.int64), start[due], end[due], max(last_id, new_last)


def _merge_windows(
    parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> dict[int, list[float]]:
    """One window per enrollee: the earliest start and the latest end of their rows'."""
    if not parts:
        return {}
    enrollee, start, end = (np.concatenate([p[i] for p in parts]) for i in range(3))
    ids, which = np.unique(enrollee, return_inverse=True)
    first = np.full(ids.size, np.inf)
    last = np.full(ids.size, -np.inf)
    np.minimum.at(first, which, start)
    np.maximum.at(last, which, end)
    spans = zip(ids.tolist(), first.tolist(), last.tolist(), strict=True)
    return {int(e): [float(s), float(t)] for e, s, t in spans}


def score_shards(
    conn: psycopg.Connection,
    states: Mapping[int, ShardState],
    now: datetime,
    frontier: int | None,
    limit: int,
    recent: RecentData | None = None,
) -> tuple[dict[str, int], dict[int, ShardState]]:
    """Score what the shards' queue holds past their watermarks, up to id ``frontier`` and
    data time ``now``; return counts (``more`` > 0 when a shard had more rows than ``limit``)
    and the shards' new states (not stored). ``frontier`` None: no new rows are read.
    ``recent``: the cycle's data read by time (analytics/recent.py), shared by its groups;
    None reads every window device by device."""
    t_now = now.timestamp()
    counts = {"queue_rows": 0, "enrollees": 0, "readings": 0, "events": 0, "alerts": 0, "more": 0}
    if frontier is None:
        return counts, dict(states)
    rows = shard_queries.queue_rows(conn, {s: st.watermark for s, st in states.items()}, frontier, limit)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    new: dict[int, ShardState] = {}
    for shard, st in states.items():
        lo, hi = np.searchsorted(rows["shard"], [shard, shard + 1])
        mine = {key: value[lo:hi] for key, value in rows.items()}
        count = int(hi - lo)
        truncated = count >= limit
        upto = int(mine["id"][-1]) if truncated else max(frontier, st.watermark)
        *found, watermark = _windows(mine, st.watermark, st.seen_max_id, st.data_time, t_now, upto)
        parts.append((found[0], found[1], found[2]))
        new[shard] = dataclasses.replace(
            st, watermark=watermark, data_time=t_now, seen_max_id=max(st.seen_max_id, upto)
        )
        counts["queue_rows"] += count
        counts["more"] += int(truncated)
    windows = _merge_windows(parts)
    counts["enrollees"] = len(windows)
    if windows:
        counts.update(_score_windows(conn, windows, now, recent))
    return counts, new


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
    if not by_time.all():
        old = ~by_time
        parts.append(
            (
                queries.readings_in_windows(conn, ids[old], starts[old], ends[old]),
                queries.events_in_windows(conn, ids[old], starts[old], ends[old]),
            )
        )
    readings = {key: np.concatenate([p[0][key] for p in parts]) for key in parts[0][0]}
    events = {key: np.concatenate([p[1][key] for p in parts]) for key in parts[0][1]}
    if len(parts) > 1:
        order = np.argsort(events["ts"], kind="stable")
        events = {key: value[order] for key, value in events.items()}
    return readings, events


def _batch(ids: np.ndarray, starts: np.ndarray, readings: dict[str, np.ndarray]) -> VitalBatch:
    r_idx = np.searchsorted(ids, readings["enrollee_id"]).astype(np.int64)
    return VitalBatch(
        r_idx, readings["metric"], readings["ts"], readings["value"], readings["ts"] > starts[r_idx]
    )


def _load_vitals(
    conn: psycopg.Connection,
    recent: RecentData | None,
    enrollees: list[tuple[int, str, dict[str, Any], int]],
    starts: np.ndarray,
    ends: np.ndarray,
    now: datetime,
) -> tuple[VitalBatch, dict[str, np.ndarray], dict[str, np.ndarray], EnrolleeContext]:
    """The windows' readings with the CONTEXT_S before each window that the rules look back
    on, their devices, the events, and the enrollees' context.

    Context only matters to a rule that fires, and a rule fires only on a new reading past
    its line (``new & breach``); every other output of the rules (latest breach and
    clearance times) comes from the new readings alone. So the new data is scored first,
    and the context is read, device by device, only for the enrollees with a new reading
    past a line (a few in a hundred): the same findings as reading it for everybody."""
    ids = np.array([row[0] for row in enrollees], dtype=np.int64)
    readings, events = _new_data(conn, recent, ids, starts, ends)
    # Whether a new reading is past a line needs a baseline only for a rule relative to it
    # (fever over the personal temperature); the others' baselines matter once a rule fires.
    vital = np.isin(readings["metric"], RELATIVE_METRICS)
    pairs = np.unique(np.stack([readings["enrollee_id"][vital], readings["metric"][vital]]), axis=1)
    base = queries.baselines(conn, pairs=(pairs[0], pairs[1]))
    ctx = context.build(enrollees, base, now)
    _, _, breach_ts = score_vitals_arrays(_batch(ids, starts, readings), ctx)
    needs = np.flatnonzero(np.isfinite(breach_ts).any(axis=1))
    if needs.size:
        full = queries.readings_in_windows(conn, ids[needs], starts[needs] - CONTEXT_S, ends[needs])
        keep = ~np.isin(readings["enrollee_id"], ids[needs])
        readings = {key: np.concatenate([value[keep], full[key]]) for key, value in readings.items()}
        more = queries.baselines(conn, ids[needs])
        base = {key: np.concatenate([base[key], more[key]]) for key in base}
        ctx = context.build(enrollees, base, now)
    return _batch(ids, starts, readings), readings, events, ctx


def _score_windows(
    conn: psycopg.Connection, windows: dict[int, list[float]], now: datetime, recent: RecentData | None
) -> dict[str, int]:
    ids = sorted(windows)
    starts = np.array([windows[e][0] for e in ids])
    ends = np.array([windows[e][1] for e in ids])
    enrollees = queries.enrollees(conn, ids)
    ids = [row[0] for row in enrollees]  # active ones only
    index = {e: i for i, e in enumerate(ids)}
    keep = np.array([e in index for e in sorted(windows)], dtype=bool)
    starts, ends = starts[keep], ends[keep]
    batch, readings, events, ctx = _load_vitals(conn, recent, enrollees, starts, ends, now)
    findings, clear_ts, breach_ts = score_vitals_arrays(batch, ctx)
    e_idx = np.searchsorted(np.array(ids, dtype=np.int64), events["enrollee_id"]).astype(np.int64)
    door = events["type"] == DOOR_OPEN
    rate, nights = np.zeros(len(ids)), np.zeros(len(ids))  # read for those with a door opening only
    opened = np.unique(e_idx[door])
    if opened.size:
        rate[opened], nights[opened] = queries.night_door_profile(conn, [ids[i] for i in opened.tolist()])
    door_rows = e_idx[door]
    findings += clock.night_wandering(
        ctx.enrollee_id[door_rows], events["ts"][door], ctx.utc_offset_s[door_rows], rate[door_rows],
        nights[door_rows],
    )
    findings += score_new_weights(conn, ids, batch, ctx.thresholds)
    t_now = now.timestamp()
    raised = apply_findings(conn, findings, t_now)
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
        for enrollee_id, answers in clock_queries.recent_checkins(
            conn, with_checkins, float(events["ts"].max())
        ).items():
            i = position[enrollee_id]
            recount[i] = True
            for was_answered in reversed(answers):
                if was_answered:
                    break
                unanswered[i] += 1

    seen = np.isfinite(last_data)
    clock_queries.upsert_activity(
        conn,
        np.asarray(ids, dtype=np.int64)[seen],
        [last_data[seen], last_activity[seen], last_door[seen], last_checkin[seen], last_answered[seen]],
        unanswered[seen],
        recount[seen],
    )
    seen_devices = np.concatenate([devices[new], events["device"]]).astype(np.int64)
    clock_queries.upsert_device_seen(
        conn,
        seen_devices,
        np.concatenate([batch.ts[new], events["ts"]]),
        DEVICES.resolve(conn, seen_devices)["wearable"],
    )
