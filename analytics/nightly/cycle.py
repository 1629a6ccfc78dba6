"""The nightly cycle: for every local day that has ended, per shard and time zone, one
transaction per shard and day; in it, chunks of enrollees, each scored in four steps::

    day = load_day(conn, chunk, tz, day)            # SQL: the day's data, history, series
    out = score_day(day, now)                       # pure: features, baselines, refits, findings
    active = active_alerts(conn, out.alerted)       # SQL: the alerts of those with a finding
    write_day(conn, out, alert_changes(out, active))  # SQL (the lifecycle's decision: pure)

``detectors/person.py`` is the pure per-enrollee part (benchmarked)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Final

import psycopg

from analytics.nightly.load import load_day
from analytics.nightly.score import alert_changes, score_day
from analytics.nightly.write import write_day
from analytics.queries import alerts
from analytics.queries import people as people_queries
from analytics.queries import shards as shard_queries
from analytics.queries.people import EnrolleeRow
from analytics.shards import LOCK_NIGHTLY, shard_of
from dolbom.rules import enrollee_zone

RUN_AFTER_MIDNIGHT: Final = timedelta(minutes=5)
MAX_CATCH_UP_DAYS: Final = 60
CHUNK: Final = 2000


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
    people: dict[tuple[int, str], list[EnrolleeRow]] = defaultdict(list)
    for row in people_queries.enrollees(conn, shards=shards):
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
                    counts["alerts"] += process_day(conn, chunk, tz, day, now)
                    counts["enrollees"] += len(chunk)
                done[tz] = day.isoformat()
                shard_queries.save_nightly_done(conn, shard, done, now)
                counts["days"] += 1
    return counts


def process_day(
    conn: psycopg.Connection, group: Sequence[EnrolleeRow], tz: str, day: date, now: datetime
) -> int:
    """One chunk of enrollees of time zone ``tz`` for local ``day``; returns the alerts raised."""
    out = score_day(load_day(conn, group, tz, day), now.timestamp())
    active = alerts.active_alerts(conn, out.alerted) if out.findings else []
    changes = alert_changes(out, active)
    write_day(conn, out, changes)
    return len(changes.raised)
