"""GET /v1/alerts/stream: one LISTEN connection per process, fanned out to SSE clients.

The alert trigger NOTIFYs ``dolbom_alerts`` with ``change_id:alert_id``. ``AlertHub`` holds
the only listening connection of this API process; for each notification it reads the alert
once (with the enrollee's region and care worker), renders the SSE frame once, and queues it
for every connected client allowed to see it (``api.principal.may_see``). A client that
reconnects with ``Last-Event-ID`` first gets, from ``alert_changes``, every alert it may see
that changed since (scoped in SQL), then the live feed, with duplicates skipped by id. If the
listening connection drops, the hub reconnects and replays ``alert_changes`` it missed. The
feed's reads (and its NOTIFY channel) are the store's alerts service, ``store.alerts.feed``;
this module owns the connection, the scoping and the frames.

The listener is supervised: any other exception (a bug, a row it cannot render) is logged
with its traceback, every open stream is ended so its client reconnects with
``Last-Event-ID`` and misses nothing, and the listener starts again with backoff. While it is
not listening ``/healthz`` answers 503 with the reason (``AlertHub.health``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import AsyncConnection, sql
from psycopg.rows import DictRow

from api.alerts.models import Alert, with_summary_text
from api.db import Pool
from api.jsonresp import dumps, pick
from api.principal import Principal, enrollee_scope, may_see
from store.alerts import feed
from store.alerts.feed import CHANNEL
from store.db import CONNECT_TIMEOUT_S

log = logging.getLogger(__name__)

LISTENER_NAME = "dolbom-api-alert-listener"  # visible in pg_stat_activity
HEARTBEAT_S = 15.0  # SSE comment line this often keeps proxies and clients from timing out
RECONNECT_S = 1.0
RESTART_MAX_S = 30.0  # backoff ceiling after repeated failures
STABLE_S = 60.0  # a listener that ran this long starts again at RECONNECT_S after a failure
CLIENT_QUEUE = 1000  # frames a slow client may fall behind before it is dropped (it resumes)
REPLAY_LIMIT = 5000
RETRY_MS = 3000


ALERT_FIELDS = tuple(Alert.model_fields)


def frame(change_id: int, row: Mapping[str, Any]) -> bytes:
    """One SSE message: ``id``, ``event: alert`` and the alert object (as in GET /v1/alerts,
    its ``summary_text`` rendered now)."""
    alert = pick(with_summary_text(row), ALERT_FIELDS)
    return b"id: %d\nevent: alert\ndata: %s\n\n" % (change_id, dumps(alert))


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
        self.listening = False
        self.failures = 0  # listener failures other than a lost connection, since start
        self.last_error: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="dolbom-alert-listener")
        self._task.add_done_callback(self._task_ended)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ready.wait(), CONNECT_TIMEOUT_S * 2)

    @staticmethod
    def _task_ended(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:  # cannot happen: supervised
            log.error("alert listener task ended: %r", task.exception())

    def health(self) -> tuple[bool, str]:
        """(listening, a line for /healthz)."""
        if self.listening:
            return True, "listening"
        if self.last_error:
            return False, f"restarting after: {self.last_error}"
        return False, "connecting"

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
        """Listen forever: reconnect after a lost connection, restart after any failure."""
        delay = RECONNECT_S
        while True:
            started = asyncio.get_running_loop().time()
            try:
                await self._listen_once()
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as error:
                self.last_error = f"lost its connection ({type(error).__name__})"
                log.warning("alert listener lost its connection (%s); reconnecting",
                            type(error).__name__)
            except Exception as error:
                self.failures += 1
                self.last_error = type(error).__name__
                log.exception("alert listener failed; open streams are ended (clients resume "
                              "with Last-Event-ID) and it restarts in %.0f s", delay)
                self.close_streams()
            finally:
                self.listening = False
            if asyncio.get_running_loop().time() - started > STABLE_S:
                delay = RECONNECT_S
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESTART_MAX_S)

    async def _listen_once(self) -> None:
        conn = await AsyncConnection.connect(
            self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
            application_name=LISTENER_NAME,
        )
        async with conn:
            await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
            await self._catch_up(conn)
            self.listening = True
            self.ready.set()
            async for notify in conn.notifies():
                await self._on_notify(notify.payload)

    async def _catch_up(self, conn: AsyncConnection[Any]) -> None:
        """On (re)connect: start from the newest change, or replay what was missed."""
        if self.last_change_id is None:
            self.last_change_id = await feed.latest_change(conn)
            return
        for change_id, alert_id in await feed.changes_after(conn, self.last_change_id):
            await self._publish(change_id, alert_id)

    async def _on_notify(self, payload: str) -> None:
        change = feed.parse_notification(payload)
        if change is None:
            log.warning("ignoring malformed %s payload %.40r", CHANNEL, payload)
            return
        await self._publish(*change)

    async def _publish(self, change_id: int, alert_id: int) -> None:
        if self.last_change_id is not None and change_id > self.last_change_id:
            self.last_change_id = change_id
        if not self.subscribers:
            return
        async with self.pool.connection() as conn:
            row = await feed.alert_for_stream(conn, alert_id)
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
    rows = await feed.changed_since(conn, after, scope=scope, scope_params=params, limit=REPLAY_LIMIT)
    return [(int(row["change_id"]), frame(int(row["change_id"]), row)) for row in rows]


async def event_stream(
    hub: AlertHub, subscriber: Subscriber, last_event_id: int | None,
    still_allowed: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIterator[bytes]:
    """The SSE body for one client (subscribed before its headers are sent, so nothing
    committed after the client sees the stream open is missed): missed changes, then live
    ones, with heartbeats. Before each live message and heartbeat it asks ``still_allowed``
    and ends when that says no (the caller's token was revoked or its user deactivated)."""
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
                if still_allowed is not None and not await still_allowed():
                    break
                yield b": heartbeat\n\n"
                continue
            if change_id > sent_up_to and message:
                if still_allowed is not None and not await still_allowed():
                    break
                yield message
    finally:
        hub.unsubscribe(subscriber)
