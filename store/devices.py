"""Device lookups the command needs outside any component (issuing MQTT credentials)."""

from __future__ import annotations

import psycopg


def is_provisioned(conn: psycopg.Connection, device_id: str) -> bool:
    """Whether ``device_id`` is provisioned and not removed."""
    row = conn.execute("SELECT 1 FROM devices WHERE device_id = %s AND removed_at IS NULL",
                       (device_id,)).fetchone()
    return row is not None
