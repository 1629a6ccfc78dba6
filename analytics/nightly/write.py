"""The nightly cycle's writes for one chunk and day (SQL only, through analytics/queries
and store.alerts), in the caller's transaction."""

from __future__ import annotations

import psycopg

from analytics.lifecycle import AlertChanges
from analytics.nightly.score import DayOutput
from analytics.queries import alerts, people


def write_day(conn: psycopg.Connection, out: DayOutput, changes: AlertChanges) -> None:
    """The day's features, the refitted baselines and person models, then the alerts."""
    people.save_daily_features(conn, out.features)
    people.save_baselines(conn, out.baselines, out.fitted_for)
    people.save_person_models(conn, out.models, out.fitted_for)
    alerts.write_changes(conn, changes, out.now)
