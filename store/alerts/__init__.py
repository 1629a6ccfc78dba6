"""Opening and updating alerts: one active alert per (enrollee, kind), shared by ingest
(critical conditions on arrival) and analytics (everything scored in batches).

``raise_alert`` either opens a new alert or updates the active one (count, last seen, worse
severity, latest evidence). The alert trigger records the change and sends NOTIFY, so the
API's stream sees it at once. Lifecycle rules that need history (hysteresis, auto-resolve,
escalation, snooze) live in analytics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dolbom.jsonsafe import bounded

# Severity order in SQL: a repeat never lowers an alert's severity.
_RANK_SQL = "array_position(ARRAY['low','medium','high','critical'], {})"


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    alert_id: int
    opened: bool  # True when this call opened a new alert, False when it updated one
    severity: str


_UPSERT = f"""
INSERT INTO alerts AS a (enrollee_id, kind, severity, summary, evidence, source,
                         onset_at, last_seen_at)
VALUES (%(enrollee_id)s, %(kind)s, %(severity)s, %(summary)s, %(evidence)s, %(source)s,
        %(data_ts)s, %(data_ts)s)
ON CONFLICT (enrollee_id, kind) WHERE status <> 'resolved' DO UPDATE SET
    occurrences  = a.occurrences + 1,
    last_seen_at = greatest(a.last_seen_at, EXCLUDED.last_seen_at),
    onset_at     = least(a.onset_at, EXCLUDED.onset_at),
    updated_at   = now(),
    severity     = CASE WHEN {_RANK_SQL.format("EXCLUDED.severity")}
                              > {_RANK_SQL.format("a.severity")}
                        THEN EXCLUDED.severity ELSE a.severity END,
    -- a worse level re-opens an acknowledged alert for attention
    status       = CASE WHEN {_RANK_SQL.format("EXCLUDED.severity")}
                              > {_RANK_SQL.format("a.severity")}
                        THEN 'open' ELSE a.status END,
    summary      = CASE WHEN {_RANK_SQL.format("EXCLUDED.severity")}
                              >= {_RANK_SQL.format("a.severity")}
                        THEN EXCLUDED.summary ELSE a.summary END,
    evidence     = CASE WHEN {_RANK_SQL.format("EXCLUDED.severity")}
                              >= {_RANK_SQL.format("a.severity")}
                        THEN EXCLUDED.evidence ELSE a.evidence END
RETURNING id, (xmax = 0) AS opened, severity
"""


def raise_alert(
    conn: psycopg.Connection,
    *,
    enrollee_id: int,
    kind: str,
    severity: str,
    summary: str,
    evidence: dict[str, Any],
    data_ts: datetime,
    source: str,
) -> RaisedAlert:
    """Open an alert for (enrollee, kind) or update the active one; record the action."""
    row = conn.execute(
        _UPSERT,
        {
            "enrollee_id": enrollee_id,
            "kind": kind,
            "severity": severity,
            "summary": summary,
            "evidence": Jsonb(bounded(evidence)),  # storable and showable, whatever came in
            "source": source,
            "data_ts": data_ts,
        },
    ).fetchone()
    assert row is not None
    alert_id, opened, current = int(row[0]), bool(row[1]), str(row[2])
    conn.execute(
        "INSERT INTO alert_actions (alert_id, action, detail) VALUES (%s, %s, %s)",
        (alert_id, "open" if opened else "update",
         Jsonb({"source": source, "severity": severity, "data_ts": data_ts.isoformat()})),
    )
    return RaisedAlert(alert_id, opened, current)
