"""Reads of alerts for the API. ``{scope}`` is the caller's enrollee predicate (api.principal).

Every write, and the change feed the stream reads, is the store's (``store.alerts``).
"""

from __future__ import annotations

from typing import Final

from store.alerts.queries import COLUMNS

# The filters of the list and the inbox. ``%(name)s`` is an ILIKE pattern with ``\`` as its
# escape (service.name_pattern), so a ``%`` or ``_`` typed in a search is matched as itself.
_FILTERS: Final = r"""
  AND (%(severity)s::text IS NULL OR a.severity = %(severity)s)
  AND (%(kind)s::text IS NULL OR a.kind = %(kind)s)
  AND (%(enrollee_id)s::int IS NULL OR a.enrollee_id = %(enrollee_id)s)
  AND (%(name)s::text IS NULL OR e.name ILIKE %(name)s ESCAPE '\')
"""

LIST: Final = """
SELECT """ + COLUMNS + """
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE {scope}
  AND (%(status)s::text IS NULL OR a.status = %(status)s)""" + _FILTERS + """
  AND (%(since)s::timestamptz IS NULL OR a.updated_at >= %(since)s)
  AND (%(before_id)s::bigint IS NULL OR a.id < %(before_id)s)
ORDER BY a.id DESC
LIMIT %(limit)s
"""

# What the inbox shows besides the alert: who acknowledged and resolved it (display name, else username).
_INBOX_COLUMNS: Final = COLUMNS + """,
(SELECT coalesce(u.display_name, u.username) FROM users u WHERE u.id = a.acknowledged_by)
    AS acknowledged_by_name,
(SELECT coalesce(u.display_name, u.username) FROM users u WHERE u.id = a.resolved_by)
    AS resolved_by_name
"""

# The inbox: not resolved (or the status asked for), critical first, snoozed last within a
# severity, then oldest waiting first.
INBOX: Final = """
SELECT """ + _INBOX_COLUMNS + """
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE {scope}
  AND (CASE WHEN %(status)s::text IS NULL THEN a.status <> 'resolved'
            ELSE a.status = %(status)s END)""" + _FILTERS + """
ORDER BY array_position(ARRAY['critical','high','medium','low'], a.severity),
         (a.snoozed_until IS NOT NULL AND a.snoozed_until > now()),
         a.opened_at, a.id
LIMIT %(limit)s
"""

# The resolved history: newest first by id, paginated like GET /v1/alerts.
HISTORY: Final = """
SELECT """ + _INBOX_COLUMNS + """
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE {scope} AND a.status = 'resolved'""" + _FILTERS + """
  AND (%(before_id)s::bigint IS NULL OR a.id < %(before_id)s)
ORDER BY a.id DESC
LIMIT %(limit)s
"""

# One alert as the inbox shows it (a live update's card).
INBOX_ONE: Final = """
SELECT """ + _INBOX_COLUMNS + """
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE a.id = %(alert_id)s AND {scope}
"""

ONE: Final = """
SELECT """ + COLUMNS + """
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE a.id = %(alert_id)s AND {scope}
"""

# The caller's alert, locked for the action (store.alerts.actions) in the same transaction:
# not found outside the caller's scope; two people acting at once are served one by one.
ONE_FOR_UPDATE: Final = """
SELECT a.id, a.status, a.enrollee_id
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE a.id = %(alert_id)s AND {scope}
FOR UPDATE OF a
"""

_ACTION_COLUMNS: Final = """
x.id, x.action, x.user_id, u.username, u.display_name, x.note, x.outcome, x.detail, x.at
"""

# One alert's trail, oldest first by id (GET /v1/alerts/{id}/actions); the caller's scope
# was checked before.
ACTIONS: Final = """
SELECT """ + _ACTION_COLUMNS + """
FROM alert_actions x LEFT JOIN users u ON u.id = x.user_id
WHERE x.alert_id = %(alert_id)s
  AND (%(after_id)s::bigint IS NULL OR x.id > %(after_id)s)
ORDER BY x.id
LIMIT %(limit)s
"""

# The trails of the alerts a page shows (ids the caller's scope already returned), by
# alert_actions_alert_idx; at most ``per_alert`` newest rows of each.
TRAILS: Final = """
SELECT t.*
FROM unnest(%(alert_ids)s::bigint[]) AS ids(alert_id)
CROSS JOIN LATERAL (
    SELECT x.alert_id, """ + _ACTION_COLUMNS + """
    FROM alert_actions x LEFT JOIN users u ON u.id = x.user_id
    WHERE x.alert_id = ids.alert_id AND x.action = ANY(%(actions)s)
    ORDER BY x.at DESC, x.id DESC
    LIMIT %(per_alert)s
) t
ORDER BY t.alert_id, t.at, t.id
"""
