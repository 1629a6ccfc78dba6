"""GET /v1/alerts/stream: one LISTEN connection per process, fanned out to SSE clients.

The alert trigger NOTIFYs ``dolbom_alerts`` with ``change_id:alert_id``. ``AlertHub`` holds
the only listening connection of this API process; for each notification it reads the alert
once (with the enrollee's region and care worker), renders the SSE frame once, and queues it
for every connected client allowed to see it (``api.principal.may_see``). A client that
reconnects with ``Last-Event-ID`` first gets, from ``alert_changes``, every alert it may see
that changed since (scoped in SQL), then the live feed, with duplicates skipped by id. If the
listening connection drops, the hub reconnects and replays ``alert_changes`` it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from api.alerts import queries
from api.alerts.models import Alert
from api.db import Pool
from api.jsonresp import dumps, pick
from api.principal import Principal, enrollee_scope, may_see
from store.db import CONNECT_TIMEOUT_S

log = logging.getLogger(__name__)

CHANNEL = "dolbom_alerts"
LISTENER_NAME = "dolbom-api-alert-listener"  # visible in pg_stat_activity
HEARTBEAT_S = 15.0  # SSE comment line this often keeps proxies and clients from timing out
RECONNECT_S = 1.0
CLIENT_QUEUE = 1000  # frames a slow client may fall behind before it is dropped (it resumes)
REPLAY_LIMIT = 5000
RETRY_MS = 3000


ALERT_FIELDS = tuple(Alert.model_fields)


def frame(change_id: int, row: Mapping[str, Any]) -> bytes:
    """One SSE message: ``id``, ``event: alert`` and the alert object (as in GET /v1/alerts)."""
    return b"id: %d\nevent: alert\ndata: %s\n\n" % (change_id, dumps(pick(row, ALERT_FIELDS)))


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    queue: asyncio.Queue[tuple[int, bytes]] = field(
        default_factory=lambda: asyncio.Queue(CLIENT_QUEUE)
    )
    overflowed: bool = False


class AlertHub:
    """The process's one LISTEN connection and the set of connected stream clients."""

    def __init__(self, url: str, pool: Pool) -> None:
        self.url = url
        self.pool = pool
        self.subscribers: set[Subscriber] = set()
        self.last_change_id: int | None = None
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="dolbom-alert-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), CONNECT_TIMEOUT_S * 2)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.close_streams()

    def close_streams(self) -> None:
        """End every open stream (server shutdown); clients reconnect with Last-Event-ID."""
        for subscriber in list(self.subscribers):
            subscriber.overflowed = True
            with contextlib.suppress(asyncio.QueueFull):
                subscriber.queue.put_nowait((0, b""))

    def subscribe(self, principal: Principal) -> Subscriber:
        subscriber = Subscriber(principal)
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def _listen(self) -> None:
        while True:
            try:
                conn = await AsyncConnection.connect(
                    self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                    application_name=LISTENER_NAME,
                )
                async with conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    await self._catch_up(conn)
                    self.ready.set()
                    async for notify in conn.notifies():
                        await self._on_notify(notify.payload)
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as error:
                log.warning("alert listener lost its connection (%s); reconnecting",
                            type(error).__name__)
                await asyncio.sleep(RECONNECT_S)

    async def _catch_up(self, conn: AsyncConnection[Any]) -> None:
        """On (re)connect: start from the newest change, or replay what was missed."""
        if self.last_change_id is None:
            row = await (await conn.execute(queries.LATEST_CHANGE)).fetchone()
            self.last_change_id = int(row[0]) if row else 0
            return
        rows = await (await conn.execute(queries.CHANGES_AFTER, (self.last_change_id,))).fetchall()
        for change_id, alert_id in rows:
            await self._publish(int(change_id), int(alert_id))

    async def _on_notify(self, payload: str) -> None:
        try:
            change_text, alert_text = payload.split(":", 1)
            change_id, alert_id = int(change_text), int(alert_text)
        except ValueError:
            log.warning("ignoring malformed %s payload %.40r", CHANNEL, payload)
            return
        await self._publish(change_id, alert_id)

    async def _publish(self, change_id: int, alert_id: int) -> None:
        if self.last_change_id is not None and change_id > self.last_change_id:
            self.last_change_id = change_id
        if not self.subscribers:
            return
        async with self.pool.connection() as conn:
            row = await (await conn.execute(queries.FOR_STREAM, (alert_id,))).fetchone()
        if row is None:
            return
        region_id, care_worker_id = row["scope_region_id"], row["scope_care_worker_id"]
        message = frame(change_id, row)
        for subscriber in list(self.subscribers):
            if subscriber.overflowed:  # its stream ended or never started
                self.subscribers.discard(subscriber)
                continue
            if not may_see(subscriber.principal, region_id, care_worker_id):
                continue
            try:
                subscriber.queue.put_nowait((change_id, message))
            except asyncio.QueueFull:
                subscriber.overflowed = True  # the client reconnects with Last-Event-ID


async def replay(
    conn: AsyncConnection[DictRow], principal: Principal, after: int
) -> list[tuple[int, bytes]]:
    """Frames for every alert the caller may see that changed after change ``after``."""
    scope, params = enrollee_scope(principal)
    query = sql.SQL(queries.CHANGED_SINCE).format(scope=scope)  # type: ignore[arg-type]
    rows = await (await conn.execute(query, {**params, "after": after, "limit": REPLAY_LIMIT})).fetchall()
    return [(int(row["change_id"]), frame(int(row["change_id"]), row)) for row in rows]


async def event_stream(
    hub: AlertHub, subscriber: Subscriber, last_event_id: int | None
) -> AsyncIterator[bytes]:
    """The SSE body for one client (subscribed before its headers are sent, so nothing
    committed after the client sees the stream open is missed): missed changes, then live
    ones, with heartbeats."""
    principal = subscriber.principal
    try:
        sent_up_to = 0
        yield b"retry: %d\n: connected\n\n" % RETRY_MS
        if last_event_id is not None:
            async with hub.pool.connection() as conn:
                missed = await replay(conn, principal, last_event_id)
            for change_id, message in missed:
                sent_up_to = change_id
                yield message
        while not subscriber.overflowed:
            try:
                change_id, message = await asyncio.wait_for(subscriber.queue.get(), HEARTBEAT_S)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            if change_id > sent_up_to and message:
                yield message
    finally:
        hub.unsubscribe(subscriber)
