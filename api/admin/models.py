"""Schemas of regions (health centres) and users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from api.enrollees.models import Timezone
from api.fields import Id, Name

Password = Annotated[str, StringConstraints(min_length=8, max_length=1024)]


class RegionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    timezone: Timezone = "Asia/Seoul"


class Region(BaseModel):
    id: int
    name: str
    timezone: str
    created_at: datetime


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Name
    password: Password
    role: Literal["care_worker", "center_staff", "admin"]
    region_id: Id | None = None
    display_name: Name | None = None


class User(BaseModel):
    id: int
    username: str
    role: str
    region_id: int | None
    display_name: str | None
    active: bool
    created_at: datetime
