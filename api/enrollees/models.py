"""Schemas of enrollees (the older adults in the programme)."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Final, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints, field_validator

from api.fields import Id, Name, StrictBool, StrictFloat
from dolbom.text import clean_name
from dolbom.thresholds import validate_overrides

Condition = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError("timezone must be an IANA name such as Asia/Seoul")
    return value


Timezone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_timezone)]
BirthYear = Annotated[int, Strict(), Field(ge=1890, le=2030)]

# CONTRACT §5.1: a phone number is digits, spaces, "+" and "-", at most 20 characters. Spaces
# around it are removed; it must hold a digit. Messages never quote the value (personal data).
MAX_PHONE_LEN: Final = 20
MAX_ADDRESS_LEN: Final = 300
MAX_GUARDIANS: Final = 5
_PHONE = re.compile(r"[0-9 +-]+")


def _phone(value: str) -> str:
    value = value.strip(" ")
    if not value or not _PHONE.fullmatch(value) or not any(c.isdigit() for c in value):
        raise ValueError("phone must be digits, spaces, + and - (at least one digit)")
    if len(value) > MAX_PHONE_LEN:
        raise ValueError(f"phone must be at most {MAX_PHONE_LEN} characters")
    return value


def _address(value: str) -> str:
    return clean_name(value, "address")


def _relation(value: str) -> str:
    return clean_name(value, "relation")


Phone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_phone)]
Address = Annotated[str, StringConstraints(max_length=MAX_ADDRESS_LEN), AfterValidator(_address)]
Relation = Annotated[str, StringConstraints(max_length=50), AfterValidator(_relation)]


class Guardian(BaseModel):
    """Someone to call about the person: a child, a spouse, a neighbour."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    relation: Relation | None = None
    phone: Phone


Guardians = Annotated[list[Guardian], Field(max_length=MAX_GUARDIANS)]


def _check_thresholds(value: dict[str, Any] | None, *, allow_null: bool) -> dict[str, Any] | None:
    if value is None:
        return None
    present = {k: v for k, v in value.items() if not (allow_null and v is None)}
    try:
        validate_overrides(present)
    except ValueError as error:
        raise ValueError(str(error)) from None
    return value


class EnrolleeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    region_id: Id
    birth_year: BirthYear
    sex: Literal["F", "M"]
    care_worker_id: Id | None = None
    conditions: Annotated[list[Condition], Field(max_length=32)] = []
    timezone: Timezone = "Asia/Seoul"
    thresholds: dict[str, StrictFloat] = Field(
        default_factory=dict, description="per-enrollee overrides of dolbom.thresholds, by name"
    )
    phone: Phone | None = None
    address: Address | None = None
    guardians: Guardians = []

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        _check_thresholds(value, allow_null=False)
        return value


class EnrolleePatch(BaseModel):
    """Only the fields sent are changed; ``thresholds`` merges (a null removes an override);
    ``phone`` and ``address`` null remove them, ``guardians`` replaces the list (null or [] empties it)."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    care_worker_id: Id | None = None
    conditions: Annotated[list[Condition], Field(max_length=32)] | None = None
    timezone: Timezone | None = None
    thresholds: dict[str, StrictFloat | None] | None = None
    active: StrictBool | None = None
    phone: Phone | None = None
    address: Address | None = None
    guardians: Guardians | None = None

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float | None] | None) -> dict[str, float | None] | None:
        _check_thresholds(value, allow_null=True)
        return value


class Enrollee(BaseModel):
    """An enrollee as listed (with the phone number a caseload calls)."""

    id: int
    region_id: int
    name: str
    birth_year: int
    sex: str
    care_worker_id: int | None
    conditions: list[str]
    timezone: str
    thresholds: dict[str, float]
    effective_thresholds: dict[str, float]
    enrolled_at: datetime
    active: bool
    phone: str | None


class GuardianOut(BaseModel):
    name: str
    relation: str | None
    phone: str


class EnrolleeDetail(Enrollee):
    """One enrollee, with everything to reach them (CONTRACT §5.1)."""

    address: str | None
    guardians: list[GuardianOut]
