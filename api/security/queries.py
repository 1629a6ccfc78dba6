"""SQL of token versions and failed logins."""

from __future__ import annotations

from typing import Final

# What a token is checked against on every request (cached briefly, api/security/tokens.py).
TOKEN_STATE: Final = "SELECT token_version, active FROM users WHERE id = %s"

# The failures of the window for one username: how many came from this address, and the age
# of the n-th newest per key (NULL while there are fewer), from which the lockout's end follows.
RECENT_FAILURES: Final = """
WITH recent AS (
    SELECT client_addr, at FROM login_failures
    WHERE username = %(username)s AND at > now() - make_interval(secs => %(window_s)s)
)
SELECT
    (SELECT count(*) FROM recent WHERE client_addr = %(client)s) AS pair_failures,
    (SELECT extract(epoch FROM now() - at)::float8 FROM recent WHERE client_addr = %(client)s
     ORDER BY at DESC OFFSET %(pair_nth)s LIMIT 1) AS pair_age_s,
    (SELECT extract(epoch FROM now() - at)::float8 FROM recent
     ORDER BY at DESC OFFSET %(user_nth)s LIMIT 1) AS user_age_s
"""

# One more failure; the failures that left the window are purged on the way (index on at).
INSERT_FAILURE: Final = """
WITH expired AS (
    DELETE FROM login_failures WHERE at <= now() - make_interval(secs => %(window_s)s)
)
INSERT INTO login_failures (username, client_addr) VALUES (%(username)s, %(client)s)
"""

CLEAR_FAILURES: Final = "DELETE FROM login_failures WHERE username = %s AND client_addr = %s"
