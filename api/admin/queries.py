"""SQL of regions and users."""

from __future__ import annotations

from typing import Final

INSERT_REGION: Final = """
INSERT INTO regions (name, timezone) VALUES (%s, %s) RETURNING id, name, timezone, created_at
"""

INSERT_USER: Final = """
INSERT INTO users (username, password_hash, role, region_id, display_name)
VALUES (%s, %s, %s, %s, %s)
RETURNING id, username, role, region_id, display_name, active, created_at
"""

REGION: Final = "SELECT id, name, timezone, created_at FROM regions WHERE id = %s"
