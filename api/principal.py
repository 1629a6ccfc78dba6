"""Who is calling, and which enrollees they may see (CONTRACT §3 roles).

Scoping is part of each SQL query: ``enrollee_scope`` returns the predicate a query joins
on its ``enrollees`` alias. ``may_see`` mirrors it for the one place that cannot ask the
database per client: the SSE fan-out, which reads an alert's region and care worker once
and hands it to every connected client allowed to see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from psycopg import sql

ROLE_RANK: Final = {"care_worker": 1, "center_staff": 2, "admin": 3}


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    role: str
    region_id: int | None
    # The user's token version when the token was issued (migration 0051): a token whose
    # version is no longer the user's is refused (api/security/tokens.py).
    token_version: int = 0

    def at_least(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]


def enrollee_scope(principal: Principal, alias: str = "e") -> tuple[sql.Composable, dict[str, Any]]:
    """The SQL predicate on enrollee ``alias`` matching what ``principal`` may see."""
    column = sql.Identifier(alias, "care_worker_id" if principal.role == "care_worker" else "region_id")
    if principal.role == "admin":
        return sql.SQL("TRUE"), {}
    if principal.role == "center_staff":
        return sql.SQL("{} = %(scope_region)s").format(column), {"scope_region": principal.region_id}
    return sql.SQL("{} = %(scope_user)s").format(column), {"scope_user": principal.user_id}


def region_scope(principal: Principal, column: str = "region_id") -> tuple[sql.Composable, dict[str, Any]]:
    """The SQL predicate on a region id column for region-level pages."""
    if principal.role == "admin":
        return sql.SQL("TRUE"), {}
    return sql.SQL("{} = %(scope_region)s").format(sql.Identifier(column)), {
        "scope_region": principal.region_id
    }


def may_see(principal: Principal, region_id: int, care_worker_id: int | None) -> bool:
    """Python mirror of ``enrollee_scope`` for rows already read (stream fan-out only)."""
    if principal.role == "admin":
        return True
    if principal.role == "center_staff":
        return principal.region_id == region_id
    return care_worker_id is not None and care_worker_id == principal.user_id
