"""What the system does to alerts over time (CONTRACT §2 lifecycle), for analytics: resolve an
alert whose condition has cleared long enough, escalate an unacknowledged critical one to the
region's centre staff, and end a snooze that a worse repeat went through.

The decisions (hysteresis, when a condition has been clear for long enough, when a critical
alert is overdue) are analytics' (``analytics/lifecycle.py``); these functions only write
them, each with its ``alert_actions`` row, in the caller's transaction. Each UPDATE changes
an alert only from the state it may leave, so an alert a person resolved or acknowledged in
the meantime is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.types.json import Jsonb

AUTO_RESOLVE: Final = """
UPDATE alerts SET status = 'resolved', resolved_at = %s, outcome = 'auto_resolved', updated_at = now()
WHERE id = %s AND status <> 'resolved'
RETURNING id
"""

AUTO_RESOLVE_ACTION: Final = """
INSERT INTO alert_actions (alert_id, action, outcome, detail)
VALUES (%s, 'auto_resolve', 'auto_resolved', %s)
"""

ESCALATE: Final = """
UPDATE alerts a SET escalated_at = %s, updated_at = now() FROM enrollees e
WHERE a.id = %s AND e.id = a.enrollee_id AND a.escalated_at IS NULL AND a.status = 'open'
RETURNING a.enrollee_id, e.region_id
"""

CENTRE_STAFF: Final = """
SELECT id FROM users WHERE role = 'center_staff' AND region_id = %s AND active ORDER BY id
"""

ESCALATE_ACTION: Final = """
INSERT INTO alert_actions (alert_id, action, detail) VALUES (%s, 'escalate', %s)
"""

ESCALATE_AUDIT: Final = """
INSERT INTO access_audit (username, action, enrollee_id, resource, detail)
VALUES ('analytics', 'escalate_alert', %s, %s, %s)
"""

END_SNOOZE: Final = "UPDATE alerts SET snoozed_until = NULL WHERE id = ANY(%s)"


def auto_resolve(conn: psycopg.Connection, alert_id: int, at: datetime, detail: dict[str, Any]) -> bool:
    """Resolve an active alert as ``auto_resolved`` at data time ``at``, with an
    ``auto_resolve`` action carrying ``detail`` (why, and since when the condition cleared).
    False when the alert was resolved already (by a person, meanwhile)."""
    updated = conn.execute(AUTO_RESOLVE, (at, alert_id)).fetchone()
    if updated is None:
        return False
    conn.execute(AUTO_RESOLVE_ACTION, (alert_id, Jsonb(detail)))
    return True


def escalate(conn: psycopg.Connection, alert_id: int, at: datetime, reason: str) -> list[int]:
    """Mark an open, not yet escalated alert escalated at data time ``at`` to its region's
    centre staff, with an ``escalate`` action listing them and an ``access_audit`` row.
    Returns their user ids (none when the alert was acknowledged, resolved or escalated
    meanwhile)."""
    row = conn.execute(ESCALATE, (at, alert_id)).fetchone()
    if row is None:
        return []
    enrollee_id, region_id = int(row[0]), int(row[1])
    staff = [int(r[0]) for r in conn.execute(CENTRE_STAFF, (region_id,))]
    detail = {"to": "center_staff", "region_id": region_id, "user_ids": staff, "reason": reason}
    conn.execute(ESCALATE_ACTION, (alert_id, Jsonb(detail)))
    conn.execute(ESCALATE_AUDIT, (enrollee_id, f"alerts/{alert_id}", Jsonb(detail)))
    return staff


def end_snooze(conn: psycopg.Connection, alert_ids: Sequence[int]) -> None:
    """End the snooze of alerts a worse level has just gone through (a snooze never hides a
    worse level: the alert is re-opened by ``raise_alert`` and shows again)."""
    if alert_ids:
        conn.execute(END_SNOOZE, (list(alert_ids),))
