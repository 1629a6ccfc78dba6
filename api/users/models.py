"""Schemas of user management (the created ``User`` is api.admin.models.User)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Strict, StringConstraints

from api.admin.models import Password
from api.fields import Id, Name, StrictBool

Role = Literal["care_worker", "center_staff", "admin"]


class UserPatch(BaseModel):
    """Only the fields sent change. Centre staff may change ``active`` and ``display_name``
    of their region's care workers and staff; ``role``, ``region_id`` and ``password`` are an
    admin's to change."""

    model_config = ConfigDict(extra="forbid")
    active: StrictBool | None = None
    display_name: Name | None = None
    role: Role | None = None
    region_id: Id | None = None
    password: Password | None = None


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: Annotated[str, Strict(), StringConstraints(max_length=1024)]
    new_password: Password
