"""Loading recorded or simulated messages without MQTT, through the same path as live ingest.

``load(db_url, messages)`` decodes each (topic, payload, received_at) with ``now`` taken from
its own ``received_at`` (so weeks of simulated data, received at simulated time, are accepted),
and stores them with ``writer.store_batch`` (registry check, COPY, quarantine, on-arrival
alerts, scoring queue, device state, counters) in large transactions.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from dolbom.wire import DEFAULT_MAX_PAYLOAD_BYTES
from ingest.decode import Decoded, decode
from ingest.registry import Registry
from ingest.writer import BatchResult, store_batch
from store.db import connect

log = logging.getLogger(__name__)

BATCH_ROWS = 50_000


@dataclass
class LoadStats:
    messages: int = 0
    readings_stored: int = 0
    readings_duplicate: int = 0
    events_stored: int = 0
    events_duplicate: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    alerts_raised: int = 0
    batches: int = 0
    seconds: float = 0.0

    def add(self, batch: BatchResult) -> None:
        self.messages += batch.messages
        self.readings_stored += batch.readings_stored
        self.readings_duplicate += batch.readings_in - batch.readings_stored
        self.events_stored += batch.events_stored
        self.events_duplicate += batch.events_in - batch.events_stored
        self.quarantined.update(batch.quarantined)
        self.alerts_raised += len(batch.alerts)
        self.batches += 1


def load(
    db_url: str,
    messages: Iterable[tuple[str, bytes, datetime]],
    *,
    batch_rows: int = BATCH_ROWS,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
) -> LoadStats:
    """Decode and store ``messages``; one transaction per ``batch_rows`` rows."""
    stats = LoadStats()
    started = time.perf_counter()
    registry = Registry()
    with connect(db_url) as conn:
        registry.load_all(conn)
        conn.commit()
        pending: list[Decoded] = []
        rows = 0
        for topic, payload, received_at in messages:
            decoded = decode(topic, payload, received_at, received_at,
                             max_payload_bytes=max_payload_bytes)
            pending.append(decoded)
            rows += len(decoded.readings) + len(decoded.events) + len(decoded.rejects) + 1
            if rows >= batch_rows:
                with conn.transaction():
                    stats.add(store_batch(conn, registry, pending))
                pending, rows = [], 0
        if pending:
            with conn.transaction():
                stats.add(store_batch(conn, registry, pending))
    stats.seconds = time.perf_counter() - started
    log.info("offline load: %d messages, %d readings and %d events stored, %d quarantined "
             "in %.1f s", stats.messages, stats.readings_stored, stats.events_stored,
             sum(stats.quarantined.values()), stats.seconds)
    return stats
