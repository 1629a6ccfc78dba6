"""store.alerts.actions: people's lifecycle writes, each with its alert_actions row."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg import AsyncConnection

from dolbom.alerts import AlertKind, Severity
from store.alerts import actions, raise_alert
from tests.factories import make_enrollee, make_user


def _open(conn: psycopg.Connection, kind: AlertKind = AlertKind.FEVER,
          severity: Severity = Severity.MEDIUM) -> tuple[int, int]:
    enrollee = make_enrollee(conn)
    raised = raise_alert(conn, enrollee_id=enrollee, kind=kind, severity=severity, summary="x",
                         evidence={}, data_ts=datetime.now(UTC), source="test")
    return raised.alert_id, enrollee


def _run(db_url: str, act: Callable[[AsyncConnection[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with await AsyncConnection.connect(db_url) as conn, conn.transaction():
            await act(conn)
    asyncio.run(main())


def _alert(db: psycopg.Connection, alert_id: int) -> tuple[Any, ...]:
    row = db.execute("SELECT status, acknowledged_by, resolved_by, outcome, snoozed_until "
                     "FROM alerts WHERE id = %s", (alert_id,)).fetchone()
    assert row is not None
    return tuple(row)


def test_acknowledge_snooze_resolve_with_their_trail(db: psycopg.Connection, db_url: str) -> None:
    alert_id, _ = _open(db)
    user = make_user(db)
    _run(db_url, lambda c: actions.acknowledge(c, alert_id, user_id=user, note="calling",
                                               client_addr="10.0.0.1"))
    assert _alert(db, alert_id)[:2] == ("acknowledged", user)
    _run(db_url, lambda c: actions.snooze(c, alert_id, user_id=user, minutes=30, note=None,
                                          client_addr=None))
    assert _alert(db, alert_id)[4] is not None
    _run(db_url, lambda c: actions.resolve(c, alert_id, user_id=user, note="fine",
                                           outcome="called", client_addr=None))
    status, _, resolved_by, outcome, snoozed_until = _alert(db, alert_id)
    assert (status, resolved_by, outcome, snoozed_until) == ("resolved", user, "called", None)
    trail = db.execute("SELECT action, user_id, note, outcome, detail, client_addr "
                       "FROM alert_actions WHERE alert_id = %s ORDER BY id", (alert_id,)).fetchall()
    assert trail == [
        ("open", None, None, None, trail[0][4], None),
        ("acknowledge", user, "calling", None, None, "10.0.0.1"),
        ("snooze", user, None, None, {"minutes": 30}, None),
        ("resolve", user, "fine", "called", None, None),
    ]


@pytest.mark.parametrize(("status", "action", "message"), [
    ("acknowledged", "acknowledge", "is acknowledged, only an open alert can be acknowledged"),
    ("resolved", "acknowledge", "is resolved, only an open alert can be acknowledged"),
    ("resolved", "resolve", "is already resolved"),
    ("resolved", "snooze", "is resolved"),
])
def test_an_action_its_status_does_not_allow_is_refused_and_writes_nothing(
    db: psycopg.Connection, db_url: str, status: str, action: str, message: str
) -> None:
    alert_id, _ = _open(db)
    user = make_user(db)
    db.execute("UPDATE alerts SET status = %s WHERE id = %s", (status, alert_id))
    calls: dict[str, Callable[[AsyncConnection[Any]], Awaitable[None]]] = {
        "acknowledge": lambda c: actions.acknowledge(c, alert_id, user_id=user, note=None,
                                                     client_addr=None),
        "resolve": lambda c: actions.resolve(c, alert_id, user_id=user, note="x", outcome=None,
                                             client_addr=None),
        "snooze": lambda c: actions.snooze(c, alert_id, user_id=user, minutes=30, note=None,
                                           client_addr=None),
    }
    with pytest.raises(actions.ActionRefused, match=message) as refused:
        _run(db_url, calls[action])
    assert (refused.value.alert_id, refused.value.status) == (alert_id, status)
    assert db.execute("SELECT count(*) FROM alert_actions WHERE alert_id = %s AND action <> 'open'",
                      (alert_id,)).fetchone() == (0,)


def test_a_missing_alert_is_refused(db_url: str, db: psycopg.Connection) -> None:
    user = make_user(db)
    with pytest.raises(actions.ActionRefused, match="does not exist"):
        _run(db_url, lambda c: actions.acknowledge(c, 987654, user_id=user, note=None,
                                                   client_addr=None))


def test_two_acknowledgements_at_once_one_wins(db: psycopg.Connection, db_url: str) -> None:
    """The second waits for the first's row lock, then sees the alert acknowledged."""
    alert_id, _ = _open(db)
    first_user, second_user = make_user(db), make_user(db)

    async def main() -> list[BaseException | None]:
        async with await AsyncConnection.connect(db_url) as one, \
                await AsyncConnection.connect(db_url) as two:
            async with one.transaction():
                await actions.acknowledge(one, alert_id, user_id=first_user, note=None,
                                          client_addr=None)

                async def second() -> None:
                    async with two.transaction():
                        await actions.acknowledge(two, alert_id, user_id=second_user, note=None,
                                                  client_addr=None)
                waiting = asyncio.create_task(second())
                await asyncio.sleep(0.3)  # the second is blocked on the row
                assert not waiting.done()
            results = await asyncio.gather(waiting, return_exceptions=True)
            return [r if isinstance(r, BaseException) else None for r in results]

    [outcome] = asyncio.run(main())
    assert isinstance(outcome, actions.ActionRefused) and outcome.status == "acknowledged"
    assert _alert(db, alert_id)[:2] == ("acknowledged", first_user)
