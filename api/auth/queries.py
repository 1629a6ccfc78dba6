"""SQL of authentication."""

from __future__ import annotations

USER_BY_NAME = """
SELECT id, username, password_hash, role, region_id, active
FROM users WHERE username = %s
"""
