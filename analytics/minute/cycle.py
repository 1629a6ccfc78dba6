"""The minute cycle of a group of shards, in the caller's transaction (which holds the
shards' locks: analytics/runner.py), as of data time ``now``.

New data (``score_shards``): the queue rows past the shards' watermarks (SQL) give the
windows due (pure, minute/windows.py), which are scored in five steps::

    new = load_new_data(conn, windows, now, recent)   # SQL: enrollees, new readings and events
    request = needs_context(new)                      # pure: who needs a second read
    data = load_context(conn, new, request)           # SQL: context, weights, profiles, alerts
    out = score_new_data(data)                        # pure: findings and what they change
    write_new_data(conn, out)                         # SQL: alerts, conditions, activity

The clock (``check_clock``): ``load_clock`` -> ``score_clock`` -> ``write_clock``: the clock
conditions of the enrollees and devices that can raise or clear one, then auto-resolve and
escalation of the shards' active alerts (ingest's too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import psycopg

from analytics.minute.load import load_clock, load_context, load_new_data
from analytics.minute.score import needs_context, score_clock, score_new_data
from analytics.minute.windows import Windows, due_windows
from analytics.minute.write import write_clock, write_new_data
from analytics.queries import shards as shard_queries
from analytics.queries.recent import RecentData
from analytics.shards import ShardState


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
    ``recent``: the cycle's data read by time (analytics/queries/recent.py), shared by its
    groups; None reads every window device by device."""
    counts = {"queue_rows": 0, "enrollees": 0, "readings": 0, "events": 0, "alerts": 0, "more": 0}
    if frontier is None:
        return counts, dict(states)
    rows = shard_queries.queue_rows(conn, {s: st.watermark for s, st in states.items()}, frontier, limit)
    due = due_windows(rows, states, now.timestamp(), frontier, limit)
    counts.update(queue_rows=due.queue_rows, more=due.truncated, enrollees=len(due.windows))
    if due.windows:
        counts.update(score_windows(conn, due.windows, now.timestamp(), recent))
    return counts, due.states


def score_windows(
    conn: psycopg.Connection, windows: Windows, now: float, recent: RecentData | None
) -> dict[str, int]:
    """The new data of ``windows`` (enrollee id -> (start, end]) scored and written."""
    new = load_new_data(conn, windows, now, recent)
    if not new.enrollees:  # every one of them has been deactivated meanwhile
        return {"readings": 0, "events": 0, "alerts": 0}
    data = load_context(conn, new, needs_context(new))
    out = score_new_data(data)
    write_new_data(conn, out)
    return dict(out.counts)


def check_clock(conn: psycopg.Connection, now: datetime, shards: Sequence[int]) -> dict[str, int]:
    """Clock conditions of the shards' enrollees, then their auto-resolve and escalation, all
    as of data time ``now``."""
    out = score_clock(load_clock(conn, shards, now.timestamp()))
    write_clock(conn, out)
    return dict(out.counts)
