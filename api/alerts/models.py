"""Schemas of alerts (CONTRACT §2) and of the actions a care worker takes on them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict

from api.fields import Note
from dolbom.jsonsafe import SHOWN_DEPTH, TooDeep, nesting, shown


def _showable(evidence: Any) -> Any:
    """Evidence stored before the decoder's limits (or by a bug) may nest past what pydantic
    and orjson encode: show what can be shown rather than fail the inbox (issue 12)."""
    try:
        nesting(evidence, SHOWN_DEPTH)
    except TooDeep:
        return shown(evidence)
    return evidence


class Outcome(StrEnum):
    """How an alert ended; the web app offers these, reports count them."""

    CALLED = "called"
    VISITED = "visited"
    SENT_TO_HOSPITAL = "sent_to_hospital"
    EMERGENCY_SERVICES = "emergency_services"
    FALSE_ALARM = "false_alarm"
    DEVICE_ISSUE = "device_issue"
    NO_ACTION_NEEDED = "no_action_needed"
    OTHER = "other"


class Alert(BaseModel):
    id: int
    enrollee_id: int
    enrollee_name: str
    kind: str
    severity: str
    status: str
    summary: str
    evidence: Annotated[dict[str, Any], BeforeValidator(_showable)]
    source: str
    occurrences: int
    onset_at: datetime
    last_seen_at: datetime
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    resolved_at: datetime | None
    resolved_by: int | None
    outcome: str | None
    snoozed_until: datetime | None


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Note | None = None


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Note
    outcome: Outcome | None = None


class SnoozeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: Annotated[int, Strict(), Field(ge=5, le=24 * 60)]
    note: Note | None = None


class AlertAction(BaseModel):
    id: int
    action: str
    user_id: int | None
    username: str | None
    note: str | None
    outcome: str | None
    at: datetime
