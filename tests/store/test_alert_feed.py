"""store.alerts.feed: the change feed the API's stream reads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg import AsyncConnection, sql

from dolbom.alerts import AlertKind, Severity
from store.alerts import feed, raise_alert
from tests.factories import make_enrollee, make_region

T = TypeVar("T")


def _read(db_url: str, read: Callable[[AsyncConnection[Any]], Awaitable[T]]) -> T:
    async def main() -> T:
        async with await AsyncConnection.connect(db_url, autocommit=True) as conn:
            return await read(conn)
    return asyncio.run(main())


def _open(conn: psycopg.Connection, enrollee: int, kind: AlertKind = AlertKind.SOS) -> int:
    return raise_alert(conn, enrollee_id=enrollee, kind=kind, severity=Severity.CRITICAL,
                       summary="x", evidence={}, data_ts=datetime.now(UTC), source="test").alert_id


def test_changes_latest_and_after(db: psycopg.Connection, db_url: str) -> None:
    assert _read(db_url, feed.latest_change) == 0
    enrollee = make_enrollee(db)
    first = _open(db, enrollee)
    start = _read(db_url, feed.latest_change)
    second = _open(db, enrollee, AlertKind.FALL)
    _open(db, enrollee)  # an update of the first
    changes = _read(db_url, lambda c: feed.changes_after(c, start))
    assert [alert for _, alert in changes] == [second, first]
    assert [change for change, _ in changes] == sorted(change for change, _ in changes)
    assert changes[0][0] > start
    assert _read(db_url, feed.latest_change) == changes[-1][0]
    assert _read(db_url, lambda c: feed.changes_after(c, 0, limit=1)) == [(start, first)]


def test_alert_for_stream_carries_its_scope(db: psycopg.Connection, db_url: str) -> None:
    region = make_region(db)
    enrollee = make_enrollee(db, region, name="Park")
    alert_id = _open(db, enrollee)
    row = _read(db_url, lambda c: feed.alert_for_stream(c, alert_id))
    assert row is not None
    assert (row["id"], row["enrollee_name"], row["kind"]) == (alert_id, "Park", "sos")
    assert (row["scope_region_id"], row["scope_care_worker_id"]) == (region, None)
    assert _read(db_url, lambda c: feed.alert_for_stream(c, alert_id + 1000)) is None


def test_changed_since_is_once_per_alert_and_scoped_by_the_caller(
    db: psycopg.Connection, db_url: str
) -> None:
    mine, theirs = make_region(db), make_region(db)
    here, there = make_enrollee(db, mine), make_enrollee(db, theirs)
    start = _read(db_url, feed.latest_change)
    first = _open(db, here)
    _open(db, there)
    _open(db, here)  # the first again: listed once, at its latest change
    scope = sql.SQL("e.region_id = %(scope_region)s")
    rows = _read(db_url, lambda c: feed.changed_since(c, start, scope=scope,
                                                      scope_params={"scope_region": mine},
                                                      limit=10))
    assert [r["id"] for r in rows] == [first]
    assert rows[0]["change_id"] == _read(db_url, feed.latest_change)
    streamed = _read(db_url, lambda c: feed.alert_for_stream(c, first))
    assert streamed is not None  # the same alert object, without the scope columns
    assert set(rows[0]) - {"change_id"} == set(streamed) - {"scope_region_id", "scope_care_worker_id"}
    everything = _read(db_url, lambda c: feed.changed_since(c, start, scope=sql.SQL("TRUE"),
                                                            scope_params={}, limit=1))
    assert len(everything) == 1
    with pytest.raises(ValueError, match="may not be named"):
        _read(db_url, lambda c: feed.changed_since(c, start, scope=sql.SQL("TRUE"),
                                                   scope_params={"feed_after": 1}, limit=1))


@pytest.mark.parametrize(("payload", "parsed"), [
    ("12:34", (12, 34)), ("12", None), ("a:1", None), ("1:2:3", None), ("", None),
])
def test_parse_notification(payload: str, parsed: tuple[int, int] | None) -> None:
    assert feed.parse_notification(payload) == parsed


def test_the_trigger_notifies_the_feed_channel(db: psycopg.Connection) -> None:
    db.execute(sql.SQL("LISTEN {}").format(sql.Identifier(feed.CHANNEL)))
    alert_id = _open(db, make_enrollee(db))
    [note] = list(db.notifies(timeout=2, stop_after=1))
    parsed = feed.parse_notification(note.payload)
    assert parsed is not None and parsed[1] == alert_id
