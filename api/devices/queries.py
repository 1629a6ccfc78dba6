"""SQL of devices. ``{scope}`` is the caller's predicate on the owner enrollee ``e``."""

from __future__ import annotations

from typing import Final

COLUMNS: Final = """
d.id, d.device_id, d.enrollee_id, d.kind, d.room, d.last_seen, d.battery, d.online,
d.status_at, d.created_at, d.removed_at
"""

INSERT: Final = """
INSERT INTO devices AS d (device_id, enrollee_id, kind, room)
VALUES (%(device_id)s, %(enrollee_id)s, %(kind)s, %(room)s)
RETURNING """ + COLUMNS

LIST: Final = "SELECT " + COLUMNS + """
FROM devices d JOIN enrollees e ON e.id = d.enrollee_id
WHERE {scope}
  AND (%(enrollee_id)s::int IS NULL OR d.enrollee_id = %(enrollee_id)s)
  AND (%(kind)s::text IS NULL OR d.kind = %(kind)s)
  AND (%(online)s::boolean IS NULL OR d.online IS NOT DISTINCT FROM %(online)s)
  AND (%(include_removed)s OR d.removed_at IS NULL)
  AND (%(after_id)s::int IS NULL OR d.id > %(after_id)s)
ORDER BY d.id
LIMIT %(limit)s
"""

OF_ENROLLEE: Final = "SELECT " + COLUMNS + """
FROM devices d WHERE d.enrollee_id = %s AND d.removed_at IS NULL ORDER BY d.kind, d.device_id
"""
