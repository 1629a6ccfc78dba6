"""SQL of enrollees. ``{scope}`` is the caller's predicate on alias ``e``."""

from __future__ import annotations

from typing import Final

# As listed (a caseload calls from the list: the phone number is in it) ...
LIST_COLUMNS: Final = """
e.id, e.region_id, e.name, e.birth_year, e.sex, e.care_worker_id, e.conditions, e.timezone,
e.thresholds, e.enrolled_at, e.active, e.phone
"""
# ... and one enrollee, with everything to reach them (CONTRACT §5.1).
COLUMNS: Final = LIST_COLUMNS + ", e.address, e.guardians"

LIST: Final = "SELECT " + LIST_COLUMNS + """
FROM enrollees e
WHERE {scope}
  AND (%(region_id)s::int IS NULL OR e.region_id = %(region_id)s)
  AND (%(care_worker_id)s::int IS NULL OR e.care_worker_id = %(care_worker_id)s)
  AND (%(after_id)s::int IS NULL OR e.id > %(after_id)s)
ORDER BY e.id
LIMIT %(limit)s
"""

ONE: Final = "SELECT " + COLUMNS + " FROM enrollees e WHERE e.id = %(enrollee_id)s AND {scope}"

ONE_FOR_UPDATE: Final = ONE + " FOR UPDATE"

REGION_EXISTS: Final = "SELECT 1 FROM regions WHERE id = %s"

CARE_WORKER_OF_REGION: Final = """
SELECT 1 FROM users WHERE id = %s AND role = 'care_worker' AND region_id = %s AND active
"""

INSERT: Final = """
INSERT INTO enrollees AS e (region_id, name, birth_year, sex, care_worker_id, conditions,
                            timezone, thresholds, phone, address, guardians)
VALUES (%(region_id)s, %(name)s, %(birth_year)s, %(sex)s, %(care_worker_id)s, %(conditions)s,
        %(timezone)s, %(thresholds)s, %(phone)s, %(address)s, %(guardians)s)
RETURNING """ + COLUMNS

UPDATE: Final = """
UPDATE enrollees AS e SET name = %(name)s, care_worker_id = %(care_worker_id)s,
    conditions = %(conditions)s, timezone = %(timezone)s, thresholds = %(thresholds)s,
    active = %(active)s, phone = %(phone)s, address = %(address)s, guardians = %(guardians)s
WHERE e.id = %(id)s
RETURNING """ + COLUMNS
