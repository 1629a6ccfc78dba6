"""Creating user accounts (``dolbom user add``, ``dolbom up``'s first admin, the simulator's
demo users); the rules and hashing are ``dolbom.accounts``."""

from __future__ import annotations

import psycopg

from dolbom.accounts import AccountError, check_new_user, hash_password
from dolbom.text import clean_name


def create_user(
    conn: psycopg.Connection,
    username: str,
    password: str,
    role: str,
    region_id: int | None = None,
    display_name: str | None = None,
) -> int:
    """Insert a user and return its id; raise ``AccountError`` on a taken name or bad input."""
    check_new_user(username, password, role)
    username = clean_name(username, "username")
    if role in ("care_worker", "center_staff") and region_id is None:
        raise AccountError(f"a {role} needs a region")
    try:
        row = conn.execute(
            "INSERT INTO users (username, password_hash, role, region_id, display_name) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            (username, hash_password(password), role, region_id, display_name),
        ).fetchone()
    except psycopg.errors.UniqueViolation as error:
        raise AccountError(f"user {username!r} already exists") from error
    except psycopg.errors.ForeignKeyViolation as error:
        raise AccountError(f"region {region_id} does not exist") from error
    assert row is not None
    return int(row[0])
