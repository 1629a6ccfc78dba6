"""The SQL that coordinates analytics workers: per-shard job state, advisory locks, the
scoring queue and its safe frontier."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from analytics.queries import fetch
from analytics.shards import JOB_NIGHTLY, JOB_SCORE, N_SHARDS, ShardState, job_name
from dolbom.timeutil import epoch, utc


def no_jit(conn: psycopg.Connection) -> None:
    """JIT off for this session: the minute job's statements are many small index reads whose
    estimates can look large; compiling them costs tens of milliseconds each and saves nothing."""
    conn.execute("SET jit = off")


# ---- the scoring queue ----------------------------------------------------------------------


def queue_frontier(conn: psycopg.Connection, wait_s: float, poll_s: float = 0.01) -> int | None:
    """The highest ``scoring_queue`` id below which no row can still appear, or None.

    Ids are taken when a row is inserted but rows become visible at commit, so with several
    ingest processes id 100 may commit after 101: a watermark moved to 101 on sight would
    skip 100 for good. Every transaction that took an id up to the sequence's current value
    holds a ROW EXCLUSIVE lock on the table until it ends; this waits (without blocking
    anyone) until those transactions have ended, then every row up to that value is either
    visible or rolled back. None when they are still running after ``wait_s`` (scoring of
    new rows waits for the next cycle).
    """
    row = conn.execute(
        "SELECT coalesce(pg_sequence_last_value("
        " pg_get_serial_sequence('scoring_queue', 'id')::regclass), 0), "
        "(SELECT array_agg(DISTINCT virtualtransaction) FROM pg_locks "
        " WHERE locktype = 'relation' AND relation = 'scoring_queue'::regclass "
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        " AND mode = 'RowExclusiveLock' AND granted AND pid IS DISTINCT FROM pg_backend_pid())"
    ).fetchone()
    assert row is not None
    last, holders = int(row[0]), list(row[1] or [])
    deadline = time.monotonic() + wait_s
    while holders:
        running = conn.execute(
            "SELECT array_agg(virtualxid) FROM pg_locks "
            "WHERE locktype = 'virtualxid' AND virtualxid = ANY(%s)",
            (holders,),
        ).fetchone()
        holders = list(running[0] or []) if running else []
        if holders:
            if time.monotonic() >= deadline:
                return None
            time.sleep(poll_s)
    return last


def queue_rows(
    conn: psycopg.Connection, after: Mapping[int, int], upto: int, limit: int
) -> dict[str, np.ndarray]:
    """Per shard, its queue rows with ``after[shard] < id <= upto``, at most ``limit`` each,
    as arrays ordered by shard and id: shard, id, enrollee_id, ts_min, ts_max (epoch
    seconds). The row comparisons make it one range of the (shard, id) index per shard,
    however far behind the shard's watermark is."""
    shards = sorted(after)
    columns = (("shard", "int4"), ("id", "int8"), ("enrollee_id", "int4"), ("lo", "float8"), ("hi", "float8"))
    if not shards:
        return {name: np.zeros(0, dtype=fetch.native(kind)) for name, kind in columns}
    return fetch.arrays(
        conn,
        "SELECT w.s, q.id, q.enrollee_id, extract(epoch FROM q.ts_min)::float8, "
        "extract(epoch FROM q.ts_max)::float8 "
        "FROM unnest(%s::int[], %s::bigint[]) AS w(s, after) CROSS JOIN LATERAL ("
        " SELECT id, enrollee_id, ts_min, ts_max FROM scoring_queue"
        " WHERE (analytics_shard(enrollee_id), id) > (w.s, w.after)"
        " AND (analytics_shard(enrollee_id), id) <= (w.s, %s::bigint)"
        " ORDER BY analytics_shard(enrollee_id), id LIMIT %s) AS q",
        (fetch.int_array(shards), fetch.int_array(after[s] for s in shards), upto, limit),
        columns,
        order_by=("shard", "id"),
    )


# ---- advisory locks ---------------------------------------------------------------------------


def try_lock(conn: psycopg.Connection, namespace: int, shards: Sequence[int]) -> list[int]:
    """Transaction-level try-locks ``(namespace, shard)``: the shards this transaction got."""
    if not shards:
        return []
    return [
        int(r[0])
        for r in conn.execute(
            "SELECT s FROM unnest(%s::int[]) WITH ORDINALITY AS u(s, n) "
            "WHERE pg_try_advisory_xact_lock(%s, s) ORDER BY n",
            (list(shards), namespace),
        )
    ]


def lock_session(
    conn: psycopg.Connection, namespaces: Sequence[int], shards: Sequence[int], *, wait: bool
) -> list[int]:
    """Session-level locks on every namespace of each shard (``--once`` holds a shard across
    its score, nightly and clock transactions); a shard whose locks are not all free is
    skipped (``wait=False``, one statement for the lot) or waited for, shard by shard in
    ascending order. Returns the shards held."""
    if wait:
        for shard in sorted(shards):
            for namespace in namespaces:
                conn.execute("SELECT pg_advisory_lock(%s, %s)", (namespace, shard))
        return sorted(shards)
    got: dict[int, list[int]] = defaultdict(list)
    for shard, namespace, ok in conn.execute(
        "SELECT u.s, n.ns, pg_try_advisory_lock(n.ns, u.s) "
        "FROM unnest(%s::int[]) AS u(s) CROSS JOIN unnest(%s::int[]) AS n(ns)",
        (list(shards), list(namespaces)),
    ):
        if ok:
            got[int(shard)].append(int(namespace))
    held = sorted(s for s in shards if len(got[s]) == len(namespaces))
    partial = [(s, ns) for s in shards if s not in held for ns in got[s]]
    if partial:
        conn.execute(
            "SELECT pg_advisory_unlock(ns, s) FROM unnest(%s::int[], %s::int[]) AS p(s, ns)",
            ([p[0] for p in partial], [p[1] for p in partial]),
        )
    return held


def unlock_session(conn: psycopg.Connection, namespaces: Sequence[int], shards: Iterable[int]) -> None:
    conn.execute(
        "SELECT pg_advisory_unlock(n.ns, u.s) "
        "FROM unnest(%s::int[]) AS u(s) CROSS JOIN unnest(%s::int[]) AS n(ns)",
        (list(shards), list(namespaces)),
    )


# ---- per-shard job state ---------------------------------------------------------------------


def _epoch_or_never(value: datetime | None) -> float:
    return float("-inf") if value is None else epoch(value)


def _opt_float(value: Any) -> float:
    return float("-inf") if value is None else float(value)


def score_states(conn: psycopg.Connection, shards: Sequence[int] | None = None) -> dict[int, ShardState]:
    """The minute-job state of ``shards`` (all when None); a shard without a row is absent."""
    wanted = range(N_SHARDS) if shards is None else shards
    rows = conn.execute(
        "SELECT job, watermark, data_time, detail, extract(epoch FROM now() - updated_at)::float8 "
        "FROM job_state WHERE job = ANY(%s)",
        ([job_name(JOB_SCORE, s) for s in wanted],),
    ).fetchall()
    out = {}
    for job, watermark, data_time, detail, age in rows:
        shard = int(str(job).rsplit("/", 1)[1])
        detail = dict(detail or {})
        wm = int(watermark or 0)
        out[shard] = ShardState(
            shard=shard,
            watermark=wm,
            data_time=_epoch_or_never(data_time),
            seen_max_id=int(detail.get("seen_max_id", wm)),
            clock_now=_opt_float(detail.get("clock_now")),
            owner=detail.get("owner"),
            age_s=float(age),
        )
    return out


def save_score_states(conn: psycopg.Connection, states: Iterable[ShardState]) -> None:
    """Store states; ``updated_at`` (liveness) becomes the database's now."""

    def dt(moment: float) -> datetime | None:
        return utc(moment) if math.isfinite(moment) else None

    rows = [
        (
            job_name(JOB_SCORE, st.shard),
            st.watermark,
            dt(st.data_time),
            Jsonb(
                {
                    "seen_max_id": st.seen_max_id,
                    "clock_now": st.clock_now if math.isfinite(st.clock_now) else None,
                    "owner": st.owner,
                }
            ),
        )
        for st in states
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO job_state (job, watermark, data_time, detail, updated_at) "
            "VALUES (%s, %s, %s, %s, now()) "
            "ON CONFLICT (job) DO UPDATE SET watermark = EXCLUDED.watermark, "
            "data_time = EXCLUDED.data_time, detail = EXCLUDED.detail, updated_at = now()",
            rows,
        )


def nightly_done(conn: psycopg.Connection, shards: Sequence[int]) -> dict[int, dict[str, str]]:
    """The nightly state of shards: time zone -> last local day processed (ISO date)."""
    out: dict[int, dict[str, str]] = {s: {} for s in shards}
    for job, detail in conn.execute(
        "SELECT job, detail FROM job_state WHERE job = ANY(%s)",
        ([job_name(JOB_NIGHTLY, s) for s in shards],),
    ):
        out[int(str(job).rsplit("/", 1)[1])] = {str(k): str(v) for k, v in dict(detail or {}).items()}
    return out


def save_nightly_done(conn: psycopg.Connection, shard: int, done: Mapping[str, str], now: datetime) -> None:
    conn.execute(
        "INSERT INTO job_state (job, data_time, detail, updated_at) VALUES (%s, %s, %s, now()) "
        "ON CONFLICT (job) DO UPDATE SET data_time = EXCLUDED.data_time, detail = EXCLUDED.detail, "
        "updated_at = now()",
        (job_name(JOB_NIGHTLY, shard), now, Jsonb(dict(done))),
    )
