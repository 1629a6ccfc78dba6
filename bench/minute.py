"""The whole analytics minute, database included (``python -m bench minute``).

A scratch database (created, migrated, dropped at the end) holds ENROLLEES enrollees with the
simulator's standard kit (12 devices each: device_sim/population.py ``kit``), an hour of
history at the realistic arrival rate (docs/scaling.md "Load per enrollee": ~700 rows per
enrollee and day, ~0.5 a minute), four days of weights, and the analytics state a worker that
kept up would have (baselines, person models from ``refit_person``, activity, devices
seen, shard watermarks). Each minute of new data goes to about a third of the enrollees:
wearable readings (heart rate, some steps and SpO2) and home-sensor events, plus the day's few
BP, glucose and weight measurements; one ``scoring_queue`` row per message, as ingest writes
them. Then ``analytics.runner.minute`` is timed as the live service runs it (score + clock):

1. one worker, for several consecutive minutes (after one untimed warm-up minute);
2. two workers at once (two processes, ``DOLBOM_ANALYTICS_WORKERS=2``), wall time;
3. a backlog: analytics stopped for BACKLOG_MIN minutes, then one worker's minute.

Baseline, measured in the same run for each timed minute: COPY to the client of the rows the
minute must read at the least (readings of the scoring window with its 30 minutes of context,
the minute's events, and the activity state of every enrollee, which the clock checks).
Target (issue 5): the minute cycle of 100,000 enrollees under 2 s.
``DOLBOM_BENCH_MINUTE_ENROLLEES`` runs a smaller fleet.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from analytics import runner
from analytics.queries import shards as shard_queries
from analytics.shards import N_SHARDS, ShardState, Worker
from dolbom.wire import EVENT_CODES, METRIC_BY_NAME

ADMIN_URL = os.environ.get("DOLBOM_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ENROLLEES = int(os.environ.get("DOLBOM_BENCH_MINUTE_ENROLLEES", "100000"))
HISTORY_MIN = 60
ONE_WORKER_MINUTES = 3
TWO_WORKER_MINUTES = 3
BACKLOG_MIN = 10
ORPHAN_AFTER_S = 180.0
TARGET_S = 2.0
# The standard kit, in slot order: (slug, kind, room).
KIT = (
    ("wear", "wearable", None),
    ("bp", "bp_monitor", None),
    ("glu", "glucometer", None),
    ("scale", "scale", None),
    ("bed", "bed_sensor", "bedroom"),
    ("spk", "ai_speaker", "living"),
    ("hub", "hub", "other"),
    ("door", "door_sensor", "entrance"),
    ("pir-bedroom", "motion_sensor", "bedroom"),
    ("pir-bathroom", "motion_sensor", "bathroom"),
    ("pir-kitchen", "motion_sensor", "kitchen"),
    ("pir-living", "motion_sensor", "living"),
)
WEAR, BP, GLU, SCALE, BED, SPK, HUB, DOOR = range(8)
PIRS = (8, 9, 10, 11)
M = {name: METRIC_BY_NAME[name].code for name in ("heart_rate", "spo2", "steps", "systolic_bp",
                                                  "diastolic_bp", "glucose", "weight")}
E = {name: EVENT_CODES[name] for name in ("motion", "bed_exit", "bed_entry", "door_open",
                                          "door_close", "toilet", "checkin")}

Rows = dict[str, list[tuple[Any, ...]]]


class Fleet:
    """Enrollee ids, their kit's device ids (n x 12) and the generator of their minutes."""

    def __init__(self, ids: np.ndarray, devices: np.ndarray, seed: int = 5) -> None:
        self.ids, self.devices, self.seed = ids, devices, seed
        self.weight_base = np.random.default_rng(seed).normal(60, 8, ids.size)

    def minute(self, start: float) -> Rows:
        """Readings, events and queue rows (one per message) arriving in [start, start + 60)."""
        minute = int(start // 60)
        rng = np.random.default_rng([self.seed, minute])
        n = self.ids.size
        readings: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        messages: list[tuple[int, float]] = []

        def at(count: int) -> np.ndarray:  # millisecond times inside the minute
            return start + rng.integers(0, 60_000, count) / 1000.0

        active = np.flatnonzero((np.arange(n) + minute) % 3 == 0)
        hr, steps, spo2 = (rng.random(active.size) < p for p in (0.6, 0.2, 0.03))
        worn = hr | steps | spo2
        t_wear = at(active.size)
        for mask, metric, values in (
            (hr, "heart_rate", np.clip(np.round(rng.normal(72, 9, active.size)), 35, 180)),
            (steps, "steps", rng.poisson(15, active.size).astype(float)),
            (spo2, "spo2", np.clip(np.round(rng.normal(96.5, 1.5, active.size)), 85, 100)),
        ):
            for i, t, v in zip(active[mask], t_wear[mask], values[mask], strict=True):
                readings.append((int(self.devices[i, WEAR]), M[metric], t, float(v)))
        messages += [(int(i), float(t)) for i, t in zip(active[worn], t_wear[worn], strict=True)]
        # home sensors: a motion in one room for half of them, a bed/door/toilet event for some
        motion = active[rng.random(active.size) < 0.5]
        rooms = rng.choice(PIRS, motion.size)
        other = active[rng.random(active.size) < 0.12]
        kinds = rng.choice(6, other.size)
        slot = np.array([BED, BED, DOOR, DOOR, HUB, HUB])[kinds]
        code = np.array([E["bed_exit"], E["bed_entry"], E["door_open"], E["door_close"], E["toilet"],
                         E["toilet"]])[kinds]
        checkin = active[rng.random(active.size) < 0.005]
        for who, slots, codes, data in (
            (motion, rooms, np.full(motion.size, E["motion"]), None),
            (other, slot, code, None),
            (checkin, np.full(checkin.size, SPK), np.full(checkin.size, E["checkin"]),
             Jsonb({"answered": True, "mood": 4})),
        ):
            for i, s, c, t in zip(who, slots, codes, at(who.size), strict=True):
                events.append((int(self.devices[i, s]), int(self.ids[i]), int(c), t, data))
                messages.append((int(i), float(t)))
        # the day's measurements (~10 a day each), from anyone
        for slot_, metrics, p in ((BP, ("systolic_bp", "diastolic_bp"), 0.0014), (GLU, ("glucose",), 0.0014),
                                  (SCALE, ("weight",), 0.0007)):
            who = np.flatnonzero(rng.random(n) < p)
            for i, t in zip(who, at(who.size), strict=True):
                for metric in metrics:
                    value = {"systolic_bp": rng.normal(132, 15), "diastolic_bp": rng.normal(80, 10),
                             "glucose": max(40.0, rng.normal(130, 35)),
                             "weight": self.weight_base[i] + rng.normal(0, 0.3)}[metric]
                    readings.append((int(self.devices[i, slot_]), M[metric], t, round(float(value), 1)))
                messages.append((int(i), float(t)))
        messages.sort(key=lambda m: m[1])
        return {
            "readings": [(d, m, _dt(t), v) for d, m, t, v in readings],
            "events": [(d, e, c, _dt(t), data) for d, e, c, t, data in events],
            "queue": [(int(self.ids[i]), _dt(t), _dt(t)) for i, t in messages],
        }


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def store(conn: psycopg.Connection, rows: Rows, queue: bool = True) -> None:
    with conn.cursor() as cur:
        with cur.copy("COPY readings (device, metric, ts, value) FROM STDIN") as copy:
            for row in rows["readings"]:
                copy.write_row(row)
        with cur.copy("COPY events (device, enrollee_id, type, ts, data) FROM STDIN") as copy:
            for row in rows["events"]:
                copy.write_row(row)
        if queue:
            with cur.copy("COPY scoring_queue (enrollee_id, ts_min, ts_max) FROM STDIN") as copy:
                for row in rows["queue"]:
                    copy.write_row(row)


def person_params(count: int) -> list[dict[str, Any]]:
    """``count`` realistic person-model parameter sets (the nightly refit's output)."""
    from analytics.detectors.person import refit_person
    from bench.scoring import person

    rng = np.random.default_rng(11)
    out = []
    for _ in range(count):
        history, _day = person(rng)
        params, _, _ = refit_person(history, 20_000.0)
        out.append(json.loads(json.dumps(params, default=float)))
    return out


def setup(url: str, t0: float) -> Fleet:
    """Enrollees, kits, an hour of history, weights, and the state of a worker that kept up."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE devices DISABLE TRIGGER devices_notify")  # no ingest listening
        region = conn.execute("INSERT INTO regions (name) VALUES ('bench') RETURNING id").fetchone()[0]  # type: ignore[index]
        conn.execute("INSERT INTO users (username, password_hash, role, region_id) "
                     "VALUES ('staff', 'x', 'center_staff', %s)", (region,))
        conn.execute("INSERT INTO enrollees (region_id, name, birth_year, sex, conditions) "
                     "SELECT %s, 'e' || i, 1935 + i %% 20, CASE WHEN i %% 4 = 0 THEN 'M' ELSE 'F' END, "
                     "CASE WHEN i %% 3 = 0 THEN '{hypertension}'::text[] ELSE '{}' END "
                     "FROM generate_series(1, %s) AS i", (region, ENROLLEES))
        conn.execute(
            "INSERT INTO devices (device_id, enrollee_id, kind, room, battery, online, status_at) "
            "SELECT 'b' || e.id || '-' || k.slug, e.id, k.kind, k.room, "
            " CASE WHEN hashint4((e.id * 16 + k.n)::int) %% 500 = 0 THEN 10"
            " ELSE 40 + abs(hashint4((e.id + k.n)::int)) %% 60 END, "
            " hashint4((e.id * 32 + k.n)::int) %% 1000 <> 0, to_timestamp(%s) - interval '20 minutes' "
            "FROM enrollees e CROSS JOIN unnest(%s::text[], %s::text[], %s::text[]) "
            " WITH ORDINALITY AS k(slug, kind, room, n) ORDER BY e.id, k.n",
            (t0, [k[0] for k in KIT], [k[1] for k in KIT], [k[2] for k in KIT]),
        )
        ids = np.array([r[0] for r in conn.execute("SELECT id FROM enrollees ORDER BY id")], dtype=np.int64)
        devices = np.array([r[0] for r in conn.execute("SELECT id FROM devices ORDER BY enrollee_id, id")],
                           dtype=np.int64).reshape(ids.size, len(KIT))
        fleet = Fleet(ids, devices)
        last_seen: dict[int, float] = {}
        last_data: dict[int, float] = {}
        last_activity: dict[int, float] = {}
        last_door: dict[int, float] = {}
        for k in range(HISTORY_MIN, 0, -1):
            rows = fleet.minute(t0 - 60 * k)
            store(conn, rows, queue=False)
            for d, _metric, ts, _value in rows["readings"]:
                last_seen[d] = ts.timestamp()
            for d, e, c, ts, _ in rows["events"]:
                last_seen[d] = last_data[e] = ts.timestamp()
                last_activity[e] = ts.timestamp()
                if c in (E["door_open"], E["door_close"]):
                    last_door[e] = ts.timestamp()
        by_device = {int(d): int(e) for e, row in zip(ids, devices, strict=True) for d in row}
        for d, t in last_seen.items():
            last_data[by_device[d]] = max(last_data.get(by_device[d], t), t)
        rng = np.random.default_rng(3)
        weights = [(int(devices[i, SCALE]), M["weight"], _dt(t0 - day * 86400 - rng.uniform(0, 3600)),
                    round(float(fleet.weight_base[i] + rng.normal(0, 0.3)), 1))
                   for day in range(1, 5) for i in range(ids.size)]
        store(conn, {"readings": weights, "events": [], "queue": []}, queue=False)
        for i in range(ids.size):
            for s in (BP, GLU, SCALE, SPK):
                last_seen.setdefault(int(devices[i, s]), t0 - rng.uniform(3600, 86400))
        with conn.cursor() as cur:
            with cur.copy("COPY analytics_device_seen (device, last_ts) FROM STDIN") as copy:
                for d, t in last_seen.items():
                    copy.write_row((d, _dt(t)))
            if conn.execute("SELECT to_regclass('analytics_wearable_seen')").fetchone() != (None,):
                # migration 0022 (the bench also runs against older code, for its before figures)
                with cur.copy("COPY analytics_wearable_seen (device, last_hour) FROM STDIN") as copy:
                    for d in devices[:, WEAR].tolist():
                        if d in last_seen:
                            copy.write_row((d, _dt(last_seen[d] // 3600 * 3600)))
            activity = (
                "COPY analytics_activity (enrollee_id, last_data_ts, last_activity_ts, last_door_ts, "
                "last_checkin_ts, last_answered_ts, unanswered_in_row) FROM STDIN"
            )
            with cur.copy(activity) as copy:
                for e in ids.tolist():
                    checkin = _dt(t0 - 3600 * rng.uniform(2, 20))
                    copy.write_row((e, _dt(last_data[e]), _dt(last_activity[e]),
                                    _dt(last_door[e]) if e in last_door else None, checkin, checkin, 0))
            params = person_params(64)
            with cur.copy("COPY analytics_person_models (enrollee_id, model, params, n_days, fitted_for) "
                          "FROM STDIN") as copy:
                for e in ids.tolist():
                    copy.write_row((e, "robust_mahalanobis", Jsonb(params[e % 64]), 40, _dt(t0 - 3600)))
        conn.execute(
            "INSERT INTO analytics_baselines "
            "(enrollee_id, metric, bin, median, sigma, n_hours, n_days, fitted_for) "
            "SELECT e.id, m.code, b, m.median + (e.id %% 7) - 3, m.sigma, 40, 28, "
            "to_timestamp(%s) - interval '1 hour' "
            "FROM enrollees e CROSS JOIN unnest(%s::int[], %s::real[], %s::real[]) AS m(code, median, sigma) "
            "CROSS JOIN generate_series(0, 3) AS b",
            (
                t0,
                [M["heart_rate"], M["spo2"], M["systolic_bp"], M["diastolic_bp"]],
                [72.0, 96.0, 130.0, 80.0],
                [6.0, 1.2, 9.0, 6.0],
            ),
        )
        shard_queries.save_score_states(
            conn, [ShardState(s, 0, t0, 0, t0, "0/1") for s in range(N_SHARDS)]
        )
        conn.execute("VACUUM ANALYZE")
    return fleet


def _copy_out(conn: psycopg.Connection, queries: list[tuple[str, tuple[Any, ...]]]) -> float:
    began = time.perf_counter()
    with conn.cursor() as cur:
        for query, params in queries:
            with cur.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)", params) as copy:
                for _ in copy:
                    pass
    return time.perf_counter() - began


def baseline(conn: psycopg.Connection, start: float, end: float, queue_after: int) -> tuple[float, float]:
    """Seconds to COPY to the client (1) the minute's new rows, the least any minute job reads:
    readings and events of (start, end] and the new queue rows; (2) what reading each window
    with the rules' 30 minutes of context and the clock state of everybody reads: the same
    readings with 30 minutes before, the events, every enrollee's activity state."""
    new = [
        ("SELECT device, metric, ts, value FROM readings WHERE ts > %s AND ts <= %s", (_dt(start), _dt(end))),
        ("SELECT device, enrollee_id, type, ts, data FROM events WHERE ts > %s AND ts <= %s",
         (_dt(start), _dt(end))),
        ("SELECT * FROM scoring_queue WHERE id > %s", (queue_after,)),
    ]
    window = [
        ("SELECT device, metric, ts, value FROM readings WHERE ts > %s AND ts <= %s",
         (_dt(start - 1800), _dt(end))),
        new[1],
        ("SELECT * FROM analytics_activity", ()),
    ]
    return _copy_out(conn, new), _copy_out(conn, window)


def _child(url: str, now: float, index: int, count: int, go: Any, out: Any) -> None:
    try:  # a live worker holds its device map from earlier minutes
        from analytics.recent import DEVICES
    except ImportError:  # older code, before analytics/recent.py
        pass
    else:
        with psycopg.connect(url) as conn:
            DEVICES.refresh(conn)
    go.wait()
    began = time.time()
    counts = runner.minute(url, _dt(now), Worker(index, count), ORPHAN_AFTER_S)
    out.put((index, began, time.time(), counts))


def two_workers(url: str, now: float) -> tuple[float, list[float], list[dict[str, int] | None]]:
    """Wall time of two worker processes running the same minute at once, and each one's."""
    ctx = mp.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_child, args=(url, now, i, 2, go, out)) for i in (0, 1)]
    for p in procs:
        p.start()
    time.sleep(3.0)  # both have imported analytics and wait on ``go``
    go.set()
    results = sorted(out.get(timeout=600) for _ in procs)
    for p in procs:
        p.join(60)
    wall = max(r[2] for r in results) - min(r[1] for r in results)
    return wall, [r[2] - r[1] for r in results], [r[3] for r in results]


def one_worker(url: str, now: float) -> tuple[float, dict[str, int] | None]:
    began = time.perf_counter()
    counts = runner.minute(url, _dt(now), Worker(0, 1), ORPHAN_AFTER_S)
    return time.perf_counter() - began, counts


def _summary(counts: dict[str, int] | None) -> str:
    if counts is None:
        return "FAILED (see log)"
    keys = ("queue_rows", "enrollees", "readings", "events", "alerts", "clock_enrollees", "clock_alerts")
    return " ".join(f"{k}={counts.get(k, 0):,}" for k in keys)


def _queue_top(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM scoring_queue").fetchone()
    return int(row[0]) if row else 0


def _pending(conn: psycopg.Connection) -> int:
    """Queue rows past their shard's watermark."""
    row = conn.execute(
        "SELECT count(*) FROM scoring_queue q JOIN job_state j "
        "ON j.job = 'analytics.score/' || analytics_shard(q.enrollee_id) WHERE q.id > j.watermark"
    ).fetchone()
    return int(row[0]) if row else 0


def run(url: str, fleet: Fleet, t0: float) -> bool:
    ok = True
    ones: list[float] = []
    ratios: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for k in range(1, 2 + ONE_WORKER_MINUTES + TWO_WORKER_MINUTES):
            start = t0 + 60 * (k - 1)
            rows = fleet.minute(start)
            top = _queue_top(conn)
            store(conn, rows)
            now = start + 60
            n_rows = len(rows["readings"]) + len(rows["events"])
            floor, window = baseline(conn, start, now, top)
            bases = (
                f"baseline COPY new rows {floor:.2f} s, "
                f"with 30-min context and all clock state {window:.2f} s"
            )
            if k <= 1 + ONE_WORKER_MINUTES:
                seconds, counts = one_worker(url, now)
                label = "warm-up (untimed)" if k == 1 else "one worker"
                if k > 1:
                    ones.append(seconds)
                    ratios.append(seconds / floor)
                    ok &= counts is not None
                print(f"minute {k} {label}: {seconds:.2f} s; {n_rows:,} new rows, {_summary(counts)}; "
                      f"{bases}; ratio {seconds / floor:.1f}x / {seconds / window:.1f}x", flush=True)
            else:
                wall, each, both = two_workers(url, now)
                ok &= all(c is not None for c in both)
                print(f"minute {k} two workers: wall {wall:.2f} s (each {each[0]:.2f} / {each[1]:.2f} s); "
                      f"{n_rows:,} new rows; worker 0: {_summary(both[0])}; worker 1: {_summary(both[1])}; "
                      f"{bases}; ratio {wall / floor:.1f}x / {wall / window:.1f}x", flush=True)
        start = t0 + 60 * (1 + ONE_WORKER_MINUTES + TWO_WORKER_MINUTES)
        n_rows = 0
        top = _queue_top(conn)
        for k in range(BACKLOG_MIN):
            rows = fleet.minute(start + 60 * k)
            store(conn, rows)
            n_rows += len(rows["readings"]) + len(rows["events"])
        now = start + 60 * BACKLOG_MIN
        floor, window = baseline(conn, start, now, top)
        queued = _pending(conn)
        for step in range(4):  # the first minute after the outage, then the next ones until caught up
            seconds, counts = one_worker(url, now + 60 * step)
            left = _pending(conn)
            ok &= counts is not None
            print(f"backlog of {BACKLOG_MIN} min ({n_rows:,} rows, {queued:,} queue rows), minute {step + 1} "
                  f"after: {seconds:.2f} s; {_summary(counts)}; {left:,} queue rows left; baseline COPY new "
                  f"rows {floor:.2f} s, with context and clock state {window:.2f} s", flush=True)
            if not left:
                break
    median = statistics.median(ones)
    print(f"one worker, {ENROLLEES:,} enrollees, median of {len(ones)} minutes: {median:.2f} s "
          f"(target < {TARGET_S:g} s, {'met' if median < TARGET_S else 'MISSED'}); "
          f"ratio to the new-rows baseline {statistics.median(ratios):.1f}x")
    return ok and median < TARGET_S


def main() -> int:
    from store.migrate import migrate

    name = f"dolbom_bench_minute_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        migrate(url)
        # data time: 14:00 in Seoul yesterday (waking hours), whole minutes
        day = datetime.now(UTC).replace(hour=5, minute=0, second=0, microsecond=0) - timedelta(days=1)
        t0 = day.timestamp()
        began = time.perf_counter()
        print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores, shared machine)", flush=True)
        fleet = setup(url, t0)
        print(f"setup: {ENROLLEES:,} enrollees, {fleet.devices.size:,} devices, {HISTORY_MIN} min of history "
              f"in {time.perf_counter() - began:.0f} s", flush=True)
        ok = run(url, fleet, t0)
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
        return 0 if ok else 1
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    sys.exit(main())
