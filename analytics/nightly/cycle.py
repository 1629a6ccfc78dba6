"""The nightly job: daily features per enrollee, refit of baselines and per-person models,
routine and trend findings, one shard and one local day per transaction (``nightly_shard``).
``detectors/person.py`` is the pure per-enrollee part (benchmarked)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Final

import numpy as np
import psycopg

from analytics.detectors import baselines, context, trends
from analytics.detectors.features import FEATURES, DayData, daily_features
from analytics.detectors.person import PersonHistory, refit_person
from analytics.findings import Finding
from analytics.lifecycle import Mark
from analytics.minute.cycle import apply_findings
from analytics.queries import readings as queries
from analytics.queries import shards as shard_queries
from analytics.shards import LOCK_NIGHTLY, shard_of
from dolbom.jsonsafe import shown
from dolbom.rules import enrollee_zone
from dolbom.thresholds import effective
from dolbom.timeutil import utc
from dolbom.wire import METRIC_BY_NAME

RUN_AFTER_MIDNIGHT: Final = timedelta(minutes=5)
MAX_CATCH_UP_DAYS: Final = 60
CHUNK: Final = 2000
STEPS = METRIC_BY_NAME["steps"].code
SLEEP = METRIC_BY_NAME["sleep_minutes"].code
WEIGHT = METRIC_BY_NAME["weight"].code
SBP = METRIC_BY_NAME["systolic_bp"].code


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=enrollee_zone(tz))


def _day_data(
    events: dict[str, np.ndarray],
    rows: np.ndarray,
    readings: dict[int, tuple[np.ndarray, np.ndarray]],
    r_rows: dict[int, np.ndarray],
    midnight: float,
) -> DayData:
    def h(ts: np.ndarray) -> np.ndarray:
        return (ts - midnight) / 3600.0

    steps = r_rows.get(STEPS, np.zeros(0, dtype=np.int64))
    sleep = r_rows.get(SLEEP, np.zeros(0, dtype=np.int64))
    return DayData(
        event_type=events["type"][rows],
        event_h=h(events["ts"][rows]),
        event_bathroom=events["bathroom"][rows],
        answered=events["answered"][rows],
        mood=events["mood"][rows],
        steps_h=h(readings[STEPS][0][steps]),
        steps=readings[STEPS][1][steps],
        sleep_h=h(readings[SLEEP][0][sleep]),
        sleep_minutes=readings[SLEEP][1][sleep],
    )


def _days_due(tz: str, done: str | None, now: datetime, first_data: datetime | None) -> list[date]:
    local_now = now.astimezone(enrollee_zone(tz))
    last = (local_now - RUN_AFTER_MIDNIGHT).date() - timedelta(days=1)
    if done is not None:
        first = date.fromisoformat(done) + timedelta(days=1)
    else:
        if first_data is None:
            return []
        first = first_data.astimezone(enrollee_zone(tz)).date()
    first = max(first, last - timedelta(days=MAX_CATCH_UP_DAYS))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def nightly_shards(
    conn: psycopg.Connection,
    shards: Sequence[int],
    now: datetime,
    first_data: datetime | None,
    *,
    lock: bool,
) -> dict[str, int]:
    """Process every local day that has ended (plus a few minutes) as of ``now`` for the
    enrollees of ``shards``, one shard and one day per transaction (a kill loses at most that
    day's work of that shard).

    ``conn`` is in autocommit. ``lock``: take the shard's nightly advisory lock in each
    transaction and leave the shard (counted in ``skipped``) when another worker holds it;
    without it the caller holds the locks. ``first_data``: where a time zone's first run starts.
    """
    people: dict[tuple[int, str], list[tuple[int, str, dict[str, Any], int]]] = defaultdict(list)
    for row in queries.enrollees(conn, shards=shards):
        people[(shard_of(row[0]), row[1])].append(row)
    done_before = shard_queries.nightly_done(conn, shards)
    counts = {"days": 0, "enrollees": 0, "alerts": 0, "skipped": 0}
    for (shard, tz), group in sorted(people.items()):
        if not _days_due(tz, done_before[shard].get(tz), now, first_data):
            continue
        while True:
            with conn.transaction():
                if lock and not shard_queries.try_lock(conn, LOCK_NIGHTLY, [shard]):
                    counts["skipped"] += 1
                    break
                done = shard_queries.nightly_done(conn, [shard])[shard]  # again, under the lock
                due = _days_due(tz, done.get(tz), now, first_data)
                if not due:
                    break
                day = due[0]
                for start in range(0, len(group), CHUNK):
                    chunk = group[start : start + CHUNK]
                    counts["alerts"] += _process_day(conn, chunk, tz, day, now)
                    counts["enrollees"] += len(chunk)
                done[tz] = day.isoformat()
                shard_queries.save_nightly_done(conn, shard, done, now)
                counts["days"] += 1
    return counts


def _process_day(
    conn: psycopg.Connection,
    people: list[tuple[int, str, dict[str, Any], int]],
    tz: str,
    day: date,
    now: datetime,
) -> int:
    ids = [p[0] for p in people]
    midnight = _local_midnight(day, tz)
    end = _local_midnight(day + timedelta(days=1), tz)
    t0, t1 = midnight.timestamp(), end.timestamp()
    day_number = t0 / 86400.0
    # 1. daily features of day D
    events = queries.events_in_windows(conn, ids, [t0 - 6 * 3600] * len(ids), [t1] * len(ids))
    ev_rows: dict[int, list[int]] = defaultdict(list)
    for i, e in enumerate(events["enrollee_id"].tolist()):
        ev_rows[e].append(i)
    readings: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    r_rows: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    for metric, lo in ((STEPS, t0), (SLEEP, t0)):
        series = queries.metric_series(conn, ids, metric, utc(lo), end)
        arr = np.array(series, dtype=float).reshape(-1, 3)
        readings[metric] = (arr[:, 1], arr[:, 2])
        groups: dict[int, list[int]] = defaultdict(list)
        for i, e in enumerate(arr[:, 0].astype(np.int64).tolist()):
            groups[e].append(i)
        for e, rows in groups.items():
            r_rows[e][metric] = np.array(rows, dtype=np.int64)
    feature_rows = []
    for e in ids:
        if e not in ev_rows and e not in r_rows:
            continue
        data = _day_data(
            events, np.array(ev_rows.get(e, []), dtype=np.int64), readings, r_rows.get(e, {}), t0
        )
        feature_rows.append((e, day, [float(v) for v in daily_features(data)]))
    queries.save_daily_features(conn, feature_rows)
    # 2. personal baselines over the last four weeks of hourly means
    window_start = end - timedelta(days=baselines.WINDOW_DAYS)
    offset = context.utc_offset_s(tz, end)
    per: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    for e, metric, hour_ts, mean in queries.hourly_means(
        conn, ids, baselines.BASELINE_METRICS, window_start, end
    ):
        per[(e, metric)].append((hour_ts, mean))
    base_rows = []
    for (e, metric), values in per.items():
        arr = np.array(values)
        local = arr[:, 0] + offset
        fitted = baselines.fit(
            arr[:, 1],
            baselines.time_bin((local % 86400) / 3600),
            np.floor(local / 86400),
            baselines.SIGMA_FLOOR[metric],
        )
        n_days = len(np.unique(np.floor(local / 86400)))
        base_rows += [(e, metric, b, med, sig, n, n_days) for b, (med, sig, n) in fitted.items()]
    queries.save_baselines(conn, base_rows, end)
    # 3. per-person models, routine and trends
    history_start = day - timedelta(days=trends.BASELINE_DAYS + 21)
    feats: dict[int, dict[date, list[float]]] = defaultdict(dict)
    for e, d, vector in queries.daily_features(conn, ids, history_start, day):
        feats[e][d] = vector
    weights = _series(conn, ids, WEIGHT, end - timedelta(days=5), end)
    sbp = _series(conn, ids, SBP, end - timedelta(days=28), end)
    model_rows: list[tuple[int, str, dict[str, Any], int]] = []
    findings: list[Finding] = []
    clears: list[Mark] = []
    for e, _tz, overrides, _region in people:
        if day not in feats.get(e, {}):
            continue
        n_days = (day - history_start).days + 1
        matrix = np.full((n_days, len(FEATURES)), np.nan)
        for d, vector in feats[e].items():
            matrix[(d - history_start).days] = vector
        first = min(feats[e])
        matrix = matrix[(first - history_start).days :]
        w_days, w = weights.get(e, (np.zeros(0), np.zeros(0)))
        s_days, s = sbp.get(e, (np.zeros(0), np.zeros(0)))
        history = PersonHistory(matrix, w_days, w, *_daily_mean(s_days, s), thresholds=effective(overrides))
        params, found, cleared = refit_person(history, day_number)
        model_rows.append((e, params["model"], shown(params), int(matrix.shape[0] - 1)))
        findings += [
            Finding(e, f.kind, f.severity, t0, f.summary, {**f.evidence, "day": day.isoformat()}, f.score)
            for f in found
        ]
        clears += [(e, kind, now.timestamp()) for kind in cleared]
    queries.save_person_models(conn, model_rows, end)
    raised = apply_findings(conn, findings, now.timestamp())
    queries.mark_clear(conn, clears)
    return raised


def _series(
    conn: psycopg.Connection, ids: list[int], metric: int, start: datetime, end: datetime
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    grouped: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for e, ts, value in queries.metric_series(conn, ids, metric, start, end):
        grouped[e].append((ts / 86400.0, value))
    return {
        e: (np.array([v[0] for v in rows]), np.array([v[1] for v in rows])) for e, rows in grouped.items()
    }


def _daily_mean(days: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if days.size == 0:
        return days, values
    keys = np.floor(days)
    unique = np.unique(keys)
    return unique, np.array([values[keys == k].mean() for k in unique])

