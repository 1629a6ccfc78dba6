"""SQL of the contact log. The caller's scope is checked before (api.enrollees.service)."""

from __future__ import annotations

from typing import Final

_FIELDS: Final = """
c.id, c.enrollee_id, c.user_id, u.username, c.channel, c.note, c.outcome, c.alert_id, c.at,
c.follow_up, c.created_at
"""

# The recorder's username comes with the row; ``at`` defaults to the transaction's now().
INSERT: Final = """
WITH c AS (
    INSERT INTO contacts (enrollee_id, user_id, channel, note, outcome, alert_id, at, follow_up)
    VALUES (%(enrollee_id)s, %(user_id)s, %(channel)s, %(note)s, %(outcome)s, %(alert_id)s,
            coalesce(%(at)s::timestamptz, now()), %(follow_up)s)
    RETURNING *
)
SELECT """ + _FIELDS + """
FROM c LEFT JOIN users u ON u.id = c.user_id
"""

ALERT_OF_ENROLLEE: Final = "SELECT 1 FROM alerts WHERE id = %s AND enrollee_id = %s"

# Newest first (index contacts_enrollee_at_idx).
LIST: Final = """
SELECT """ + _FIELDS + """
FROM contacts c LEFT JOIN users u ON u.id = c.user_id
WHERE c.enrollee_id = %(enrollee_id)s
  AND (%(alert_id)s::bigint IS NULL OR c.alert_id = %(alert_id)s)
  AND (%(before_at)s::timestamptz IS NULL
       OR (c.at, c.id) < (%(before_at)s::timestamptz, %(before_id)s::bigint))
ORDER BY c.at DESC, c.id DESC
LIMIT %(limit)s
"""
