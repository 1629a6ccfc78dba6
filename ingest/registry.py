"""The device registry: device_id → (internal id, enrollee, kind, room, region), in memory.

Loaded whole at start, refreshed one device at a time on ``NOTIFY dolbom_devices`` (the
devices trigger of 0001_core.sql) by ``RegistryListener``, and asked of the database for ids it
has never seen (``resolve_missing``), so a device provisioned a moment ago is accepted even
before its notification arrives.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg

from ingest import queries

log = logging.getLogger(__name__)

LISTEN_CHANNEL = "dolbom_devices"
MAX_RECONNECT_DELAY_S = 10.0
RECONNECT_DELAY_S = 1.0


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    id: int
    device_id: str
    enrollee_id: int
    kind: str
    room: str | None
    region_id: int
    timezone: str
    removed_at: datetime | None

    @property
    def active(self) -> bool:
        return self.removed_at is None


class Registry:
    """A dict of provisioned (and removed) devices; safe to read from several threads."""

    def __init__(self) -> None:
        self._devices: dict[str, DeviceInfo] = {}
        self._by_id: dict[int, DeviceInfo] = {}

    def __len__(self) -> int:
        return len(self._devices)

    def get(self, device_id: str) -> DeviceInfo | None:
        return self._devices.get(device_id)

    def by_id(self, device: int) -> DeviceInfo | None:
        return self._by_id.get(device)

    def devices_of(self, enrollee_id: int) -> list[int]:
        return [d.id for d in self._by_id.values() if d.enrollee_id == enrollee_id]

    def put(self, info: DeviceInfo) -> None:
        self._devices[info.device_id] = info
        self._by_id[info.id] = info

    def forget(self, device_id: str) -> None:
        info = self._devices.pop(device_id, None)
        if info is not None:
            self._by_id.pop(info.id, None)

    def load_all(self, conn: psycopg.Connection) -> None:
        rows = conn.execute(queries.DEVICES_ALL).fetchall()
        devices = {row[1]: DeviceInfo(*row) for row in rows}
        self._devices = devices
        self._by_id = {d.id: d for d in devices.values()}
        log.info("device registry loaded: %d devices", len(devices))

    def refresh(self, conn: psycopg.Connection, device_ids: Iterable[str]) -> None:
        """Re-read these devices (provisioned, changed or deleted)."""
        ids = list(set(device_ids))
        if not ids:
            return
        rows = conn.execute(queries.DEVICES_BY_WIRE_ID, (ids,)).fetchall()
        found = {row[1]: DeviceInfo(*row) for row in rows}
        for device_id in ids:
            if device_id in found:
                self.put(found[device_id])
            else:
                self.forget(device_id)

    def resolve_missing(self, conn: psycopg.Connection, device_ids: Iterable[str]) -> None:
        """Look up ids not in memory (a device provisioned before its NOTIFY arrived)."""
        missing = [d for d in set(device_ids) if d not in self._devices]
        if missing:
            self.refresh(conn, missing)


class RegistryListener(threading.Thread):
    """LISTEN dolbom_devices on its own connection; reload the registry after a reconnect."""

    def __init__(self, db_url: str, registry: Registry) -> None:
        super().__init__(name="ingest-registry", daemon=True)
        self.db_url = db_url
        self.registry = registry
        self._stop = threading.Event()
        self.reconnects = 0

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        delay = RECONNECT_DELAY_S
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.db_url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {LISTEN_CHANNEL}")
                    # Anything provisioned while we were not listening:
                    self.registry.load_all(conn)
                    delay = RECONNECT_DELAY_S
                    while not self._stop.is_set():
                        changed = [n.payload for n in conn.notifies(timeout=0.5)]
                        if changed:
                            self.registry.refresh(conn, changed)
                            log.info("device registry refreshed: %d devices changed",
                                     len(set(changed)))
            except psycopg.Error as error:
                self.reconnects += 1
                log.warning("device registry connection lost (%s); retrying in %.0f s",
                            str(error).strip().splitlines()[0] if str(error).strip() else error, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, MAX_RECONNECT_DELAY_S)  # one line per outage step, not per second
            except Exception:
                log.exception("device registry listener failed; retrying")
                time.sleep(RECONNECT_DELAY_S)
