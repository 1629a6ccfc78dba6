"""Running the analytics jobs over shards: which shards, which locks, which transactions.

Live (``dolbom analytics``): every minute a worker claims its shards (its own, those it
adopted, orphaned ones: analytics/shards.py) and works through them in groups of
``SHARDS_PER_TRANSACTION``, each group in one transaction that holds the group's try-locks
``(LOCK_MINUTE, shard)``: new data is scored, then the clock conditions, auto-resolve and
escalation, then the shards' state is stored. A shard whose lock another worker holds is
skipped this minute. Hourly, the nightly refit of the claimed shards, one shard and one local
day per transaction under ``(LOCK_NIGHTLY, shard)``.

``--once`` (``once``): every shard, this worker's own first. A shard is held for its whole pass
by session locks on both namespaces, so it goes through score (every pass), nightly and clock
in the order a single worker runs them. Shards another process holds are waited for after
the rest and then done if anything is still due: two ``--once`` processes with the same
``now`` split the shards between them, and a shard already done as of ``now`` is left alone.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import datetime

import psycopg

from analytics import shards
from analytics.errors import AnalyticsJobFailed
from analytics.minute import cycle as minute_cycle
from analytics.nightly import cycle as nightly
from analytics.queries import readings
from analytics.queries import shards as shard_queries
from analytics.queries.recent import RecentData
from analytics.shards import LOCK_MINUTE, LOCK_NIGHTLY, ShardState, Worker
from store.db import connect

log = logging.getLogger(__name__)

FRONTIER_WAIT_S = 10.0  # how long a cycle waits for open transactions inserting into the queue
QUEUE_ROWS_PER_SHARD = 5_000  # per shard and transaction; --once goes on in further passes
MAX_SCORE_PASSES = 1000
ONCE_LOCKS = (LOCK_MINUTE, LOCK_NIGHTLY)


def _add(total: dict[str, int], part: Mapping[str, int]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + int(value)


def _advance(
    conn: psycopg.Connection,
    group: Sequence[int],
    states: Mapping[int, ShardState],
    now: datetime,
    frontier: int | None,
    worker: Worker,
    *,
    score: bool,
    clock: bool,
    always_save: bool,
    recent: RecentData | None = None,
) -> tuple[dict[str, int], dict[str, int], list[int]]:
    """Score and/or clock ``group`` (locked by the caller) in the caller's transaction; store
    the shards' state. Returns score counts, clock counts and the shards that progressed."""
    if not group:
        return {}, {}, []
    before = {s: states.get(s) or ShardState(s) for s in group}
    after = dict(before)
    score_counts: dict[str, int] = {}
    clock_counts: dict[str, int] = {}
    if score:
        score_counts, after = minute_cycle.score_shards(
            conn, before, now, frontier, QUEUE_ROWS_PER_SHARD, recent
        )
    if clock:
        t_now = now.timestamp()
        due = [s for s in group if after[s].clock_now < t_now]
        if due:
            clock_counts = minute_cycle.check_clock(conn, now, due)
            clock_counts["shards"] = len(due)
            after.update({s: dataclasses.replace(after[s], clock_now=t_now) for s in due})
    progressed = [s for s in group if not after[s].same_progress(before[s])]
    save = group if always_save else progressed
    shard_queries.save_score_states(conn, [dataclasses.replace(after[s], owner=worker.name) for s in save])
    return score_counts, clock_counts, progressed


def minute(db_url: str, now: datetime, worker: Worker, orphan_after_s: float) -> dict[str, int] | None:
    """The live minute job of ``worker``: score and clock its claimed shards as of ``now``.
    Returns the summed counts, or None when any group failed (logged)."""
    started = time.perf_counter()
    totals: dict[str, int] = {"shards": 0}
    failed = False
    try:
        with connect(db_url, autocommit=True) as conn:
            shard_queries.no_jit(conn)
            frontier = shard_queries.queue_frontier(conn, FRONTIER_WAIT_S)
            if frontier is None:
                log.warning(
                    "scoring_queue: transactions inserting into it still open after %.0f s; "
                    "new data waits for the next cycle",
                    FRONTIER_WAIT_S,
                )
            claimed = shards.claim(worker, shard_queries.score_states(conn), orphan_after_s)
            recent = RecentData(now.timestamp())
            for group in shards.groups(claimed):
                try:
                    with conn.transaction():
                        locked = shard_queries.try_lock(conn, LOCK_MINUTE, group)
                        states = shard_queries.score_states(conn, locked)
                        mine = [
                            s for s in locked if shards.claimable(worker, s, states.get(s), orphan_after_s)
                        ]
                        score, clock, _ = _advance(
                            conn,
                            mine,
                            states,
                            now,
                            frontier,
                            worker,
                            score=True,
                            clock=True,
                            always_save=True,
                            recent=recent,
                        )
                except Exception:
                    log.exception(
                        "analytics minute job failed for shards %s (data time %s)", group, now.isoformat()
                    )
                    failed = True
                    continue
                totals["shards"] += len(mine)
                _add(totals, {k: v for k, v in score.items() if k != "more"})
                _add(totals, {f"clock_{k}": v for k, v in clock.items() if k != "shards"})
    except Exception:
        log.exception("analytics minute job failed (data time %s)", now.isoformat())
        return None
    _log_done("minute", worker, started, now, totals)
    return None if failed else totals


def _log_done(job: str, worker: Worker, started: float, now: datetime, totals: dict[str, int]) -> None:
    log.info(
        "analytics %s job (worker %s) done in %.3f s (data time %s): %s",
        job,
        worker.name,
        time.perf_counter() - started,
        now.isoformat(),
        " ".join(f"{k}={v}" for k, v in sorted(totals.items())),
    )


def nightly_refit(db_url: str, now: datetime, worker: Worker, orphan_after_s: float) -> dict[str, int] | None:
    """The live nightly job of ``worker``: days that have ended, for its claimed shards."""
    started = time.perf_counter()
    totals: dict[str, int] = {}
    failed = False
    try:
        with connect(db_url, autocommit=True) as conn:
            claimed = shards.claim(worker, shard_queries.score_states(conn), orphan_after_s)
            first_data = readings.first_data_time(conn)
            for group in shards.groups(claimed):
                try:
                    _add(totals, nightly.nightly_shards(conn, group, now, first_data, lock=True))
                except Exception:
                    log.exception(
                        "analytics nightly job failed for shards %s (data time %s)", group, now.isoformat()
                    )
                    failed = True
    except Exception:
        log.exception("analytics nightly job failed (data time %s)", now.isoformat())
        return None
    _log_done("nightly", worker, started, now, totals)
    return None if failed else totals


def once(db_url: str, now: datetime, worker: Worker) -> dict[str, dict[str, int]]:
    """Score (draining the queue), nightly and clock for every shard as of ``now``; raises
    ``AnalyticsJobFailed`` when any shard failed (the others are done)."""
    results: dict[str, dict[str, int]] = {"score": {}, "nightly": {}, "clock": {}}
    worked: set[int] = set()
    failed: list[int] = []
    with connect(db_url, autocommit=True) as locks, connect(db_url, autocommit=True) as conn:
        shard_queries.no_jit(conn)
        frontier = shard_queries.queue_frontier(conn, FRONTIER_WAIT_S)
        if frontier is None:
            raise AnalyticsJobFailed(
                f"transactions inserting into scoring_queue are still open after {FRONTIER_WAIT_S:.0f} s; "
                "end them (or wait for ingest) and run again"
            )
        first_data = readings.first_data_time(conn)
        recent = RecentData(now.timestamp())
        pending = worker.all_shards()
        for wait in (False, True):
            skipped: list[int] = []
            for group in shards.groups(pending, 1 if wait else shards.SHARDS_PER_TRANSACTION):
                held = shard_queries.lock_session(locks, ONCE_LOCKS, group, wait=wait)
                skipped += [s for s in group if s not in held]
                if not held:
                    continue
                try:
                    worked.update(
                        _once_group(conn, held, now, frontier, first_data, worker, results, recent)
                    )
                except Exception:
                    log.exception(
                        "analytics --once failed for shards %s (data time %s)", held, now.isoformat()
                    )
                    failed += held
                finally:
                    shard_queries.unlock_session(locks, ONCE_LOCKS, held)
            pending = skipped
    log.info(
        "analytics --once (worker %s) as of %s: shards with work %s",
        worker.name,
        now.isoformat(),
        ",".join(str(s) for s in sorted(worked)) or "none",
    )
    if failed:
        raise AnalyticsJobFailed(f"analytics --once failed for shards {sorted(failed)}; see the log above")
    return results


def _once_group(
    conn: psycopg.Connection,
    held: list[int],
    now: datetime,
    frontier: int,
    first_data: datetime | None,
    worker: Worker,
    results: dict[str, dict[str, int]],
    recent: RecentData,
) -> set[int]:
    worked: set[int] = set()
    for _ in range(MAX_SCORE_PASSES):
        with conn.transaction():
            states = shard_queries.score_states(conn, held)
            score, _, progressed = _advance(
                conn,
                held,
                states,
                now,
                frontier,
                worker,
                score=True,
                clock=False,
                always_save=False,
                recent=recent,
            )
        worked.update(progressed)
        _add(results["score"], {k: v for k, v in score.items() if k != "more"})
        if not score["more"]:
            break
    before = shard_queries.nightly_done(conn, held)
    _add(results["nightly"], nightly.nightly_shards(conn, held, now, first_data, lock=False))
    after = shard_queries.nightly_done(conn, held)
    worked.update(s for s in held if after[s] != before[s])
    with conn.transaction():
        states = shard_queries.score_states(conn, held)
        _, clock, progressed = _advance(
            conn, held, states, now, frontier, worker, score=False, clock=True, always_save=False
        )
    worked.update(progressed)
    _add(results["clock"], clock)
    return worked
