"""SQL of alerts. ``{scope}`` is the caller's enrollee predicate (api.principal)."""

from __future__ import annotations

from typing import Final

COLUMNS: Final = """
a.id, a.enrollee_id, e.name AS enrollee_name, a.kind, a.severity, a.status, a.summary,
a.evidence, a.source, a.occurrences, a.onset_at, a.last_seen_at, a.opened_at, a.updated_at,
a.acknowledged_at, a.acknowledged_by, a.resolved_at, a.resolved_by, a.outcome, a.snoozed_until
"""

LIST: Final = """
SELECT """ + COLUMNS + """
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE {scope}
  AND (%(status)s::text IS NULL OR a.status = %(status)s)
  AND (%(severity)s::text IS NULL OR a.severity = %(severity)s)
  AND (%(kind)s::text IS NULL OR a.kind = %(kind)s)
  AND (%(enrollee_id)s::int IS NULL OR a.enrollee_id = %(enrollee_id)s)
  AND (%(since)s::timestamptz IS NULL OR a.updated_at >= %(since)s)
  AND (%(before_id)s::bigint IS NULL OR a.id < %(before_id)s)
ORDER BY a.id DESC
LIMIT %(limit)s
"""

# The inbox: everything not resolved, critical first, then oldest waiting first.
INBOX: Final = """
SELECT """ + COLUMNS + """
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE {scope} AND a.status <> 'resolved'
ORDER BY array_position(ARRAY['critical','high','medium','low'], a.severity),
         (a.snoozed_until IS NOT NULL AND a.snoozed_until > now()),
         a.opened_at
LIMIT %(limit)s
"""

ONE: Final = """
SELECT """ + COLUMNS + """
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE a.id = %(alert_id)s AND {scope}
"""

# Locks the row: two care workers acting at once are served one after the other.
ONE_FOR_UPDATE: Final = """
SELECT a.id, a.status, a.enrollee_id
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE a.id = %(alert_id)s AND {scope}
FOR UPDATE OF a
"""

ACKNOWLEDGE: Final = """
UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = %s,
                  updated_at = now()
WHERE id = %s
"""

RESOLVE: Final = """
UPDATE alerts SET status = 'resolved', resolved_at = now(), resolved_by = %s, outcome = %s,
                  snoozed_until = NULL, updated_at = now()
WHERE id = %s
"""

SNOOZE: Final = """
UPDATE alerts SET snoozed_until = now() + make_interval(mins => %s), updated_at = now()
WHERE id = %s
"""

INSERT_ACTION: Final = """
INSERT INTO alert_actions (alert_id, action, user_id, note, outcome, detail, client_addr)
VALUES (%s, %s, %s, %s, %s, %s, %s)
"""

ACTIONS: Final = """
SELECT x.id, x.action, x.user_id, u.username, x.note, x.outcome, x.at
FROM alert_actions x LEFT JOIN users u ON u.id = x.user_id
WHERE x.alert_id = %s ORDER BY x.at, x.id
"""

# The stream: one alert with what the fan-out needs to decide who may see it.
FOR_STREAM: Final = """
SELECT """ + COLUMNS + """, e.region_id AS scope_region_id, e.care_worker_id AS scope_care_worker_id
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE a.id = %s
"""

# Resume after Last-Event-ID: each alert changed since, once, at its latest change id.
CHANGED_SINCE: Final = """
SELECT c.change_id, """ + COLUMNS + """
FROM (SELECT DISTINCT ON (alert_id) alert_id, id AS change_id
      FROM alert_changes WHERE id > %(after)s ORDER BY alert_id, id DESC) c
JOIN alerts a ON a.id = c.alert_id
JOIN enrollees e ON e.id = a.enrollee_id
WHERE {scope}
ORDER BY c.change_id
LIMIT %(limit)s
"""

LATEST_CHANGE: Final = "SELECT coalesce(max(id), 0) AS id FROM alert_changes"

CHANGES_AFTER: Final = """
SELECT id, alert_id FROM alert_changes WHERE id > %s ORDER BY id LIMIT 10000
"""
