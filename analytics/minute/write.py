"""The minute cycle's writes (SQL only, through analytics/queries and store.alerts): what its
scoring decided (analytics/minute/score.py), in the caller's transaction."""

from __future__ import annotations

import psycopg

from analytics.minute.score import ClockOutput, NewDataOutput
from analytics.queries import alerts
from analytics.queries import clock as clock_queries


def write_new_data(conn: psycopg.Connection, out: NewDataOutput) -> None:
    """The alerts raised and the conditions' times, then what was seen of each enrollee and
    device (the clock's state)."""
    alerts.write_changes(conn, out.alerts, out.now)
    activity = out.activity
    clock_queries.upsert_activity(
        conn,
        activity.enrollee_ids,
        [
            activity.last_data,
            activity.last_activity,
            activity.last_door,
            activity.last_checkin,
            activity.last_answered,
        ],
        activity.unanswered,
        activity.recounted,
    )
    clock_queries.upsert_device_seen(conn, out.devices.device, out.devices.ts, out.devices.wearable)


def write_clock(conn: psycopg.Connection, out: ClockOutput) -> None:
    """The clock's alerts, the conditions' times, auto-resolve and escalation."""
    alerts.write_changes(conn, out.alerts, out.now)
