"""SQL of authentication: users by name, token versions, failed logins."""

from __future__ import annotations

from typing import Final

USER_BY_NAME: Final = """
SELECT id, username, password_hash, role, region_id, active, token_version
FROM users WHERE username = %s
"""
