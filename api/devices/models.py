"""Schemas of provisioned devices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from api.fields import Id
from dolbom.wire import DeviceKind, Room

DeviceIdText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: DeviceIdText
    enrollee_id: Id
    kind: DeviceKind
    room: Room | None = None


class Device(BaseModel):
    id: int
    device_id: str
    enrollee_id: int
    kind: str
    room: str | None
    last_seen: datetime | None
    battery: int | None
    online: bool | None
    status_at: datetime | None
    created_at: datetime
    removed_at: datetime | None
