"""The threads between the MQTT client and PostgreSQL.

The MQTT network thread only appends an ``Inbound`` to a deque (it never waits on the
database). ``BatchWriter`` decodes and stores batches (flush at ``batch_rows`` rows or
``batch_ms`` after the first message) and acknowledges each message after the commit, in
arrival order. Messages that may carry ``sos`` or ``fall`` are also handed to
``UrgentWriter``, which stores each one at once in its own transaction (alert committed and
NOTIFY sent); the batch writer then skips storing them and only acknowledges them, in order,
once the urgent commit is done.

Both writers check, right after decoding, that the broker-stamped publisher of a message may
publish on its topic (``ingest.decode.screen_publisher``, docs/protocol.md "Publisher
identity"), before anything else (the door-contact memory included) sees it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from queue import Full, Queue

import psycopg

from ingest import metrics
from ingest.checks import IdentityPolicy
from ingest.contacts import ContactTracker
from ingest.decode import Decoded, Reject, decode, screen_publisher
from ingest.registry import Registry
from ingest.writer import BatchResult, store_batch
from store.db import refusal

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.1
RETRY_MAX_S = 5.0
# After this many failures of one batch with an error that is not a lost connection, store
# its messages one by one so one unstorable message cannot stop ingestion.
SPLIT_AFTER_FAILURES = 3
IDLE_WAIT_S = 0.5
# Decoded batches waiting for the store thread (bounds memory when PostgreSQL is slow).
BATCHES_IN_FLIGHT = 2

Acker = Callable[[list["Inbound"]], None]


class Inbound:
    """One received message, waiting for its commit and PUBACK."""

    __slots__ = ("done", "gen", "mid", "payload", "publishers", "qos", "received_at", "retain",
                 "topic")

    def __init__(self, topic: str, payload: bytes, mid: int, qos: int, gen: int,
                 received_at: datetime, urgent: bool = False,
                 publishers: tuple[str, ...] = (), retain: bool = False) -> None:
        self.topic = topic
        self.payload = payload
        self.mid = mid
        self.qos = qos
        self.gen = gen
        self.received_at = received_at
        self.done: threading.Event | None = threading.Event() if urgent else None
        # usernames the broker stamped on the message (ingest.checks.publishers_of)
        self.publishers = publishers
        # replayed from the broker's retained store (never urgent: the writer compares it
        # with the last state stored before it can be an event)
        self.retain = retain


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class _Storer:
    """Owns one connection; stores a batch with retry and backoff, forever if need be."""

    def __init__(self, db_url: str, registry: Registry, stopping: threading.Event) -> None:
        self.db_url = db_url
        self.registry = registry
        self.stopping = stopping
        self.conn: psycopg.Connection | None = None

    def _connection(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(self.db_url, connect_timeout=5)
        return self.conn

    def _drop(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
        self.conn = None

    def close(self) -> None:
        self._drop()

    def store(self, batch: list[Decoded]) -> BatchResult:
        delay = RETRY_FIRST_S
        failures = 0
        refused_at: float | None = None  # since when the database refuses (down, read-only…)
        while True:
            try:
                conn = self._connection()
                started = time.perf_counter()
                with conn.transaction():
                    result = store_batch(conn, self.registry, batch)
                metrics.COMMIT_SECONDS.observe(time.perf_counter() - started)
                self._count(result)
                if refused_at is not None:
                    log.info("database writes resumed after %.0f s",
                             time.monotonic() - refused_at)
                return result
            except psycopg.Error as error:
                why = refusal(error)
                if why is not None:
                    # Down, read-only, disk full: the batch itself is fine, so it is retried
                    # whole and stays unacknowledged; never split or quarantined.
                    if refused_at is None:
                        refused_at = time.monotonic()
                    log.warning("%s: %s; batch of %d messages kept unacknowledged, "
                                "retrying in %.1f s", why, _first_line(error), len(batch), delay)
                else:
                    failures += 1
                    log.error("batch of %d messages failed to store (%s)", len(batch),
                              _first_line(error))
                if failures >= SPLIT_AFTER_FAILURES and len(batch) > 1:
                    self._drop()
                    return self._store_one_by_one(batch)
                if failures >= SPLIT_AFTER_FAILURES:
                    self._drop()
                    return self.store([_unstorable(batch[0], error)])
            metrics.DB_RETRIES.inc()
            self._drop()
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    def _store_one_by_one(self, batch: list[Decoded]) -> BatchResult:
        total = BatchResult()
        for message in batch:
            part = self.store([message])
            total.messages += part.messages
            total.readings_in += part.readings_in
            total.readings_stored += part.readings_stored
            total.events_in += part.events_in
            total.events_stored += part.events_stored
            total.quarantined.update(part.quarantined)
            total.alerts.extend(part.alerts)
        return total

    @staticmethod
    def _count(result: BatchResult) -> None:
        metrics.MESSAGES.inc(result.messages)
        metrics.READINGS_STORED.inc(result.readings_stored)
        metrics.EVENTS_STORED.inc(result.events_stored)
        metrics.DUPLICATES.inc(result.readings_in - result.readings_stored
                               + result.events_in - result.events_stored)
        metrics.BATCH_ROWS.observe(result.readings_in + result.events_in)
        for reason, count in result.quarantined.items():
            metrics.QUARANTINED.labels(reason).inc(count)
        for kind, _raised in result.alerts:
            metrics.ALERTS.labels(kind).inc()


def _unstorable(message: Decoded, error: BaseException) -> Decoded:
    """A message the database refuses even alone: quarantine it whole, with the reason."""
    from dolbom.wire import QuarantineReason

    reject = Reject(message.topic, message.device_id, QuarantineReason.BAD_VALUE,
                    f"could not be stored: {_first_line(error)[:200]}", message.payload)
    return Decoded(message.topic, message.kind, None, message.received_at, message.payload,
                   rejects=(reject,))


class BatchWriter(threading.Thread):
    """Decode → batch → (store → commit → acknowledge), in arrival order.

    This thread decodes and forms batches; a second thread stores them one at a time, FIFO,
    so decoding the next batch overlaps with PostgreSQL working on the current one.
    """

    def __init__(self, db_url: str, registry: Registry, queue: deque[Inbound],
                 wake: threading.Event, ack: Acker, stopping: threading.Event, *,
                 batch_rows: int, batch_ms: int, max_payload_bytes: int,
                 identity: IdentityPolicy | None = None) -> None:
        super().__init__(name="ingest-writer", daemon=True)
        self.registry = registry
        self.identity = identity
        self.queue = queue
        self.wake = wake
        self.ack = ack
        self.stopping = stopping
        self.batch_rows = batch_rows
        self.batch_s = batch_ms / 1000
        self.max_payload_bytes = max_payload_bytes
        self.storer = _Storer(db_url, registry, stopping)
        self.contacts = ContactTracker()
        self.batches: Queue[tuple[list[Inbound], list[Decoded]] | None] = Queue(
            maxsize=BATCHES_IN_FLIGHT)
        # monotonic receipt of the first message of each batch not yet committed
        self.in_flight: deque[float] = deque()
        self.building: float | None = None
        self.failed = False
        metrics.QUEUE_DEPTH.set_function(lambda: len(self.queue))
        metrics.LAG_SECONDS.set_function(self._lag)

    def _lag(self) -> float:
        oldest = self.in_flight[0] if self.in_flight else self.building
        return 0.0 if oldest is None else time.monotonic() - oldest

    def run(self) -> None:
        store_thread = threading.Thread(target=self._store_loop, name="ingest-store",
                                        daemon=True)
        store_thread.start()
        try:
            self._run()
        except Exception:
            log.exception("ingest writer failed")
            raise
        finally:
            if not self.failed:
                self.batches.put(None)
            store_thread.join()

    def _store_loop(self) -> None:
        try:
            while True:
                batch = self.batches.get()
                if batch is None:
                    return
                pending, decoded = batch
                if decoded:
                    self.storer.store(decoded)
                for message in pending:
                    if message.done is not None:
                        message.done.wait()
                self.ack(pending)
                self.in_flight.popleft()
        except Exception:
            self.failed = True
            log.exception("ingest store thread failed")
            raise
        finally:
            self.storer.close()

    def _hand_over(self, batch: tuple[list[Inbound], list[Decoded]]) -> None:
        """Queue a batch for the store thread; waits while it is behind (backpressure)."""
        while not self.failed:
            try:
                self.batches.put(batch, timeout=IDLE_WAIT_S)
                return
            except Full:
                continue

    def _run(self) -> None:
        pending: list[Inbound] = []
        decoded: list[Decoded] = []
        rows = 0
        first = 0.0
        queue = self.queue
        identity = self.identity
        require = identity is not None and identity.require
        lookup = self.registry.get
        while not self.failed:
            if not queue:
                timeout = (max(0.0, first + self.batch_s - time.monotonic()) if pending
                           else IDLE_WAIT_S)
                self.wake.wait(timeout)
                self.wake.clear()
            while queue and rows < self.batch_rows:
                message = queue.popleft()
                if not pending:
                    first = time.monotonic()
                    self.building = first
                pending.append(message)
                if message.done is None:
                    item = decode(message.topic, message.payload, message.received_at,
                                  message.received_at, max_payload_bytes=self.max_payload_bytes)
                    stamps = message.publishers
                    # fast path: unchecked, or stamped by the topic's own device
                    if identity is not None and (stamps or require) and not (
                            len(stamps) == 1 and stamps[0] == item.device_id):
                        item = screen_publisher(item, stamps, identity, lookup)
                    if message.retain:
                        item = dataclasses.replace(item, retained=True)
                    item = self.contacts.filter(item)
                    decoded.append(item)
                    rows += len(item.readings) + len(item.events) + 1
            stopping = self.stopping.is_set()
            if pending and (rows >= self.batch_rows or stopping
                            or time.monotonic() - first >= self.batch_s):
                self.in_flight.append(first)
                self._hand_over((pending, decoded))
                pending, decoded, rows = [], [], 0
                self.building = None
            if stopping and not queue and not pending:
                return


class UrgentWriter(threading.Thread):
    """Stores messages that may carry sos/fall at once, one transaction each."""

    def __init__(self, db_url: str, registry: Registry, queue: deque[Inbound],
                 wake: threading.Event, stopping: threading.Event, *,
                 max_payload_bytes: int, identity: IdentityPolicy | None = None) -> None:
        super().__init__(name="ingest-urgent", daemon=True)
        self.registry = registry
        self.identity = identity
        self.queue = queue
        self.wake = wake
        self.stopping = stopping
        self.max_payload_bytes = max_payload_bytes
        self.storer = _Storer(db_url, registry, stopping)

    def run(self) -> None:
        try:
            while True:
                if not self.queue:
                    if self.stopping.is_set():
                        return
                    self.wake.wait(IDLE_WAIT_S)
                    self.wake.clear()
                while self.queue:
                    message = self.queue.popleft()
                    item = decode(message.topic, message.payload, message.received_at,
                                  message.received_at, max_payload_bytes=self.max_payload_bytes)
                    if self.identity is not None:
                        item = screen_publisher(item, message.publishers, self.identity,
                                                self.registry.get)
                    try:
                        self.storer.store([item])
                    except Exception as error:  # a bug: quarantine rather than stop or lose
                        log.exception("urgent message on %s could not be stored", message.topic)
                        self.storer.store([_unstorable(item, error)])
                    assert message.done is not None
                    message.done.set()
        except Exception:
            log.exception("ingest urgent writer failed")
            raise
        finally:
            self.storer.close()
