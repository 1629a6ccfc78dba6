"""User accounts' rules: roles, name and password rules, password hashing (argon2id).

Pure (no SQL): shared by ``dolbom user add`` (store.accounts) and the API's users endpoints.
"""

from __future__ import annotations

from typing import Final

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
