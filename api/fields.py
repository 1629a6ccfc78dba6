"""Constrained types for request fields, so values PostgreSQL would refuse answer 422."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Path
from pydantic import AfterValidator, Field, StringConstraints

INT4: Final = 2**31 - 1
INT8: Final = 2**63 - 1
MAX_NAME_LEN: Final = 200


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


Id = Annotated[int, Field(ge=1, le=INT4)]
AlertId = Annotated[int, Field(ge=1, le=INT8)]
IdPath = Annotated[int, Path(ge=1, le=INT4)]
AlertIdPath = Annotated[int, Path(ge=1, le=INT8)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME_LEN), AfterValidator(_no_nul)]
Note = Annotated[str, StringConstraints(max_length=4000), AfterValidator(_no_nul)]
