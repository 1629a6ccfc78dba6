"""SQL of the access audit log."""

from __future__ import annotations

INSERT = """
INSERT INTO access_audit (user_id, username, action, enrollee_id, resource, client_addr, detail)
VALUES (%s, %s, %s, %s, %s, %s, %s)
"""

# Prefixed to a read so the read and its audit row are one statement (one round trip, atomic).
AUDITED_READ = """
WITH audit AS (
    INSERT INTO access_audit (user_id, username, action, enrollee_id, resource, client_addr, detail)
    VALUES (%(audit_user_id)s, %(audit_username)s, %(audit_action)s, %(audit_enrollee_id)s,
            %(audit_resource)s, %(audit_client_addr)s, %(audit_detail)s)
)
"""

LIST = """
SELECT id, at, user_id, username, action, enrollee_id, resource, client_addr, detail
FROM access_audit
WHERE (%(user_id)s::int IS NULL OR user_id = %(user_id)s)
  AND (%(enrollee_id)s::int IS NULL OR enrollee_id = %(enrollee_id)s)
  AND (%(action)s::text IS NULL OR action = %(action)s)
  AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)
  AND (%(before_id)s::bigint IS NULL OR id < %(before_id)s)
ORDER BY id DESC
LIMIT %(limit)s
"""
