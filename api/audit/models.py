"""Schemas of the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEntry(BaseModel):
    id: int
    at: datetime
    user_id: int | None
    username: str | None
    action: str
    enrollee_id: int | None
    resource: str | None
    client_addr: str | None
    detail: dict[str, Any] | None
