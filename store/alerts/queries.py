"""The SQL of the alerts service: the upsert, people's actions and the change feed.

``COLUMNS`` is an alert as every component shows it (``alerts a`` joined to ``enrollees e``);
the API's reads select the same columns, so a stream frame and a list item are one shape.
"""

from __future__ import annotations

from typing import Final

COLUMNS: Final = """
a.id, a.enrollee_id, e.name AS enrollee_name, a.kind, a.severity, a.status, a.summary,
a.evidence, a.source, a.occurrences, a.onset_at, a.last_seen_at, a.opened_at, a.updated_at,
a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by, a.outcome, a.snoozed_until,
e.timezone AS enrollee_timezone
"""

# Severity order in SQL: a repeat never lowers an alert's severity.
_RANK_SQL: Final = "array_position(ARRAY['low','medium','high','critical'], {})"
_WORSE: Final = f"{_RANK_SQL.format('EXCLUDED.severity')} > {_RANK_SQL.format('a.severity')}"
_NOT_LOWER: Final = f"{_RANK_SQL.format('EXCLUDED.severity')} >= {_RANK_SQL.format('a.severity')}"

UPSERT: Final = f"""
INSERT INTO alerts AS a (enrollee_id, kind, severity, summary, evidence, source,
                         onset_at, last_seen_at)
VALUES (%(enrollee_id)s, %(kind)s, %(severity)s, %(summary)s, %(evidence)s, %(source)s,
        %(data_ts)s, %(data_ts)s)
ON CONFLICT (enrollee_id, kind) WHERE status <> 'resolved' DO UPDATE SET
    occurrences  = a.occurrences + 1,
    last_seen_at = greatest(a.last_seen_at, EXCLUDED.last_seen_at),
    onset_at     = least(a.onset_at, EXCLUDED.onset_at),
    updated_at   = now(),
    severity     = CASE WHEN {_WORSE} THEN EXCLUDED.severity ELSE a.severity END,
    -- a worse level re-opens an acknowledged alert for attention
    status       = CASE WHEN {_WORSE} THEN 'open' ELSE a.status END,
    summary      = CASE WHEN {_NOT_LOWER} THEN EXCLUDED.summary ELSE a.summary END,
    evidence     = CASE WHEN {_NOT_LOWER} THEN EXCLUDED.evidence ELSE a.evidence END
RETURNING id, (xmax = 0) AS opened, severity
"""

# People's actions. Each UPDATE changes the alert only from the statuses it may leave
# (``%(from)s``) and returns nothing otherwise, so a concurrent action cannot slip through.
ACKNOWLEDGE: Final = """
UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = %(user_id)s,
                  updated_at = now()
WHERE id = %(alert_id)s AND status = ANY(%(from)s)
RETURNING id
"""

RESOLVE: Final = """
UPDATE alerts SET status = 'resolved', resolved_at = now(), resolved_by = %(user_id)s,
                  outcome = %(outcome)s, snoozed_until = NULL, updated_at = now()
WHERE id = %(alert_id)s AND status = ANY(%(from)s)
RETURNING id
"""

SNOOZE: Final = """
UPDATE alerts SET snoozed_until = now() + make_interval(mins => %(minutes)s), updated_at = now()
WHERE id = %(alert_id)s AND status = ANY(%(from)s)
RETURNING id
"""

STATUS: Final = "SELECT status FROM alerts WHERE id = %s"

INSERT_ACTION: Final = """
INSERT INTO alert_actions (alert_id, action, user_id, note, outcome, detail, client_addr)
VALUES (%s, %s, %s, %s, %s, %s, %s)
"""

# The change feed (alert_changes, written by the alerts_changed trigger of 0001_core.sql).
LATEST_CHANGE: Final = "SELECT coalesce(max(id), 0) FROM alert_changes"

CHANGES_AFTER: Final = "SELECT id, alert_id FROM alert_changes WHERE id > %s ORDER BY id LIMIT %s"

# One alert with what a fan-out needs to decide who may see it.
FOR_STREAM: Final = """
SELECT """ + COLUMNS + """, e.region_id AS scope_region_id, e.care_worker_id AS scope_care_worker_id
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE a.id = %s
"""

# Each alert changed after a change id, once, at its latest change id. ``{scope}`` is the
# caller's predicate on ``enrollees e`` (and ``alerts a``).
CHANGED_SINCE: Final = """
SELECT c.change_id, """ + COLUMNS + """
FROM (SELECT DISTINCT ON (alert_id) alert_id, id AS change_id
      FROM alert_changes WHERE id > %(feed_after)s ORDER BY alert_id, id DESC) c
JOIN alerts a ON a.id = c.alert_id
JOIN enrollees e ON e.id = a.enrollee_id
WHERE {scope}
ORDER BY c.change_id
LIMIT %(feed_limit)s
"""
