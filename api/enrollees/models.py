"""Schemas of enrollees (the older adults in the programme)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints, field_validator

from api.fields import Id, Name, StrictBool, StrictFloat
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

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        _check_thresholds(value, allow_null=False)
        return value


class EnrolleePatch(BaseModel):
    """Only the fields sent are changed; ``thresholds`` merges (a null removes an override)."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    care_worker_id: Id | None = None
    conditions: Annotated[list[Condition], Field(max_length=32)] | None = None
    timezone: Timezone | None = None
    thresholds: dict[str, StrictFloat | None] | None = None
    active: StrictBool | None = None

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float | None] | None) -> dict[str, float | None] | None:
        _check_thresholds(value, allow_null=True)
        return value


class Enrollee(BaseModel):
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
