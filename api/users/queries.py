"""SQL of user management. ``{scope}`` is ``api.principal.region_scope`` on users.region_id."""

from __future__ import annotations

from typing import Final

COLUMNS: Final = "id, username, role, region_id, display_name, active, created_at"

LIST: Final = f"""
SELECT {COLUMNS} FROM users
WHERE {{scope}}
  AND (%(active)s::boolean IS NULL OR active = %(active)s)
  AND (%(role)s::text IS NULL OR role = %(role)s)
  AND (%(after_id)s::int IS NULL OR id > %(after_id)s)
ORDER BY id
LIMIT %(limit)s
"""

# A user sees themselves, whatever their role and scope.
VISIBLE: Final = f"""
SELECT {COLUMNS} FROM users WHERE id = %(user_id)s AND (id = %(self_id)s OR {{scope}})
"""
VISIBLE_FOR_UPDATE: Final = VISIBLE + " FOR UPDATE"

# Enrollees still assigned to a care worker (who may not leave the role or region with them).
ASSIGNED_ENROLLEES: Final = "SELECT count(*) AS n FROM enrollees WHERE care_worker_id = %s AND active"

UPDATE: Final = f"""
UPDATE users SET
    active = %(active)s, display_name = %(display_name)s, role = %(role)s,
    region_id = %(region_id)s, password_hash = coalesce(%(password_hash)s, password_hash),
    token_version = token_version + %(bump)s
WHERE id = %(user_id)s
RETURNING {COLUMNS}
"""

REVOKE_TOKENS: Final = f"""
UPDATE users SET token_version = token_version + 1 WHERE id = %s RETURNING {COLUMNS}
"""

PASSWORD_HASH: Final = "SELECT password_hash FROM users WHERE id = %s AND active"

SET_PASSWORD: Final = """
UPDATE users SET password_hash = %s, token_version = token_version + 1
WHERE id = %s AND active
RETURNING token_version
"""
