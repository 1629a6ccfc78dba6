"""The alerts service: every insert and update of ``alerts`` and ``alert_actions``, and the
change feed, shared by ingest, analytics and the API.

- ``raise_alert`` (here): one active alert per (enrollee, kind); opens a new alert or updates
  the active one (count, last seen, worse severity, latest evidence), for ingest (critical
  conditions on arrival) and analytics (everything scored in batches). Only the kinds of
  ``dolbom.alerts.AlertKind`` and the severities of ``Severity`` are accepted.
- ``store.alerts.actions``: what people do (acknowledge, resolve, snooze), async, for the API.
- ``store.alerts.automatic``: what the system does over time (auto-resolve, escalate, end a
  snooze on a worse level), for analytics.
- ``store.alerts.feed``: the change feed (``alert_changes``) the API's stream reads.

Every write goes through the ``alerts_changed`` trigger (0001_core.sql), which records the
change and sends NOTIFY, so the stream sees it at once. The decisions that need history
(hysteresis, when to auto-resolve or escalate) are analytics'; this service only writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

import psycopg
from psycopg.types.json import Jsonb

from dolbom.alerts import AlertKind, Severity
from dolbom.jsonsafe import bounded
from store.alerts import queries

_E = TypeVar("_E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    alert_id: int
    opened: bool  # True when this call opened a new alert, False when it updated one
    severity: Severity  # the alert's severity after this call (never lowered by a repeat)


def member(catalogue: type[_E], value: object) -> _E:
    """``value`` as a member of ``catalogue`` (a plain string is looked up); ValueError for
    anything outside it, so no component can store a kind or severity the rest cannot show."""
    if isinstance(value, str):
        try:
            return catalogue(value)
        except ValueError:
            pass
    known = ", ".join(m.value for m in catalogue)
    raise ValueError(
        f"{value!r} is not an alert {catalogue.__name__} of dolbom.alerts (one of: {known})"
    )


def raise_alert(
    conn: psycopg.Connection,
    *,
    enrollee_id: int,
    kind: AlertKind,
    severity: Severity,
    summary: str,
    evidence: dict[str, Any],
    data_ts: datetime,
    source: str,
) -> RaisedAlert:
    """Open an alert for (enrollee, kind) or update the active one; record the action.

    Raises ValueError, before writing anything, for a kind outside ``AlertKind`` or a
    severity outside ``Severity``."""
    kind, severity = member(AlertKind, kind), member(Severity, severity)
    row = conn.execute(
        queries.UPSERT,
        {
            "enrollee_id": enrollee_id,
            "kind": kind.value,
            "severity": severity.value,
            "summary": summary,
            "evidence": Jsonb(bounded(evidence)),  # storable and showable, whatever came in
            "source": source,
            "data_ts": data_ts,
        },
    ).fetchone()
    assert row is not None
    alert_id, opened, current = int(row[0]), bool(row[1]), Severity(row[2])
    conn.execute(
        queries.INSERT_ACTION,
        (alert_id, "open" if opened else "update", None, None, None,
         Jsonb({"source": source, "severity": severity.value, "data_ts": data_ts.isoformat()}),
         None),
    )
    return RaisedAlert(alert_id, opened, current)
