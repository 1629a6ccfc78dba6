"""Constrained types for request fields, so values PostgreSQL would refuse answer 422.

JSON bodies take strict numbers and booleans: ``true``, ``"1"`` or ``1.0`` is not the
integer 1, ``"false"`` or ``0`` is not a boolean. Query and path parameters arrive as text,
so their integers are plain ASCII digits only (no sign, spaces, ``_`` or ``1.0``). Names follow
``dolbom.text.clean_name``; instants lie between 1900 and 9999 in UTC, so nothing later
(date arithmetic, PostgreSQL) can overflow.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Final

from annotated_types import Ge, Le
from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, Strict, StringConstraints

from dolbom.text import clean_name, storable

INT2: Final = 2**15 - 1
INT4: Final = 2**31 - 1
INT8: Final = 2**63 - 1
MAX_NAME_LEN: Final = 200
EARLIEST: Final = datetime(1900, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
_DIGITS = re.compile(r"[0-9]{1,19}")
_ISO_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]")


def _iso_text(value: object) -> object:
    """An instant in a request is ISO 8601 text (pydantic alone would also read ``"1"`` or
    ``1`` as a second after the epoch)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _ISO_START.match(value):
        raise ValueError("must be an ISO 8601 date and time with an offset, e.g. 2026-10-01T09:00:00+09:00")
    return value


def _digits(value: object) -> object:
    """Query and path text: only plain digits become an integer (``int()`` would also take
    ``" 1"``, ``"+1"``, ``"1_0"``, ``"١"``; pydantic also ``"1.0"``)."""
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            raise ValueError("must be a whole number written with the digits 0-9")
        return int(value)
    return value


def _true_or_false(value: object) -> object:
    """Query text ``true`` or ``false`` (pydantic alone also takes ``1``, ``yes``, ``on``, ``t``...)."""
    if isinstance(value, str):
        if value not in ("true", "false"):
            raise ValueError("must be true or false")
        return value == "true"
    return value


def in_range(value: datetime) -> datetime:
    """``value`` if it lies between 1900-01-01 and 9999-12-31 in UTC; else ValueError."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ValueError("date and time must be between 1900-01-01 and 9999-12-31 (UTC)")
    return value


# In JSON bodies.
StrictInt = Annotated[int, Strict()]
StrictFloat = Annotated[float, Strict()]  # a JSON integer is a number too; true is not
StrictBool = Annotated[bool, Strict()]
Id = Annotated[int, Strict(), Field(ge=1, le=INT4)]
BigId = Annotated[int, Strict(), Field(ge=1, le=INT8)]
Name = Annotated[str, StringConstraints(max_length=MAX_NAME_LEN), AfterValidator(clean_name)]
Note = Annotated[str, StringConstraints(max_length=4000), AfterValidator(storable)]
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(in_range)]

# In query strings and paths (text on the wire). The bounds come before the validator so
# the OpenAPI schema still shows them as minimum and maximum.
Digits = BeforeValidator(_digits)  # any integer query parameter: Annotated[int, Ge, Le, Digits]
IdQuery = Annotated[int, Ge(1), Le(INT4), Digits]
BigIdQuery = Annotated[int, Ge(1), Le(INT8), Digits]
QueryBool = Annotated[bool, BeforeValidator(_true_or_false)]
IdPath = Annotated[IdQuery, Path()]
BigIdPath = Annotated[BigIdQuery, Path()]
AlertIdPath = BigIdPath
