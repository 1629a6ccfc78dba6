"""User accounts: password hashing (argon2id, memory-hard) and creation.

Shared by ``dolbom user add`` and the API's ``POST /v1/users``.
"""

from __future__ import annotations

from typing import Final

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dolbom.errors import DolbomError
from dolbom.text import clean_name

ROLES: Final = ("care_worker", "center_staff", "admin")
MAX_NAME_LEN: Final = 200
MIN_PASSWORD_LEN: Final = 8

_hasher = PasswordHasher()  # argon2id, 64 MiB, t=3: the library's RFC 9106 low-memory profile


class AccountError(DolbomError):
    """A user could not be created as asked."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_user(username: str, password: str, role: str) -> None:
    if not 1 <= len(username) <= MAX_NAME_LEN:
        raise AccountError(f"username must be 1-{MAX_NAME_LEN} characters")
    try:
        clean_name(username, "username")  # the API's rule for names (dolbom/text.py)
    except ValueError as error:
        raise AccountError(str(error)) from None
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password) < MIN_PASSWORD_LEN:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LEN} characters")


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
