"""Reads of alerts for the API. ``{scope}`` is the caller's enrollee predicate (api.principal).

Every write, and the change feed the stream reads, is the store's (``store.alerts``).
"""

from __future__ import annotations

from typing import Final

from store.alerts.queries import COLUMNS

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

# The caller's alert, locked for the action (store.alerts.actions) in the same transaction:
# not found outside the caller's scope; two people acting at once are served one by one.
ONE_FOR_UPDATE: Final = """
SELECT a.id, a.status, a.enrollee_id
FROM alerts a JOIN enrollees e ON e.id = a.enrollee_id
WHERE a.id = %(alert_id)s AND {scope}
FOR UPDATE OF a
"""

ACTIONS: Final = """
SELECT x.id, x.action, x.user_id, u.username, x.note, x.outcome, x.at
FROM alert_actions x LEFT JOIN users u ON u.id = x.user_id
WHERE x.alert_id = %s ORDER BY x.at, x.id
"""
