"""Schemas of the worklist (CONTRACT §5.3): one item per enrollee needing attention on a day,
with a priority and the reasons, each a code and a sentence a care worker reads."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict

from api.fields import INT8, Id
from api.pagination import CursorModel

Lang = Literal["ko", "en"]


class ReasonCode(StrEnum):
    OPEN_ALERT = "open_alert"  # an alert not resolved (weighted by its severity)
    NOT_MEASURED = "not_measured"  # a measurement the person's conditions call for is missing
    NO_DATA = "no_data"  # no data from any device (dolbom.rules.NO_DATA_AFTER_H)
    FOLLOW_UP = "follow_up"  # a contact's follow-up day has come
    MISSION_BEHIND = "mission_behind"  # a programme mission behind (CONTRACT §5.6; not yet)


class Reason(BaseModel):
    code: ReasonCode
    text: str = Field(description="one sentence in the language asked for (Korean by default)")
    data: dict[str, Any] = Field(
        description="what the sentence says, for a client: the alert, metric, contact, times")


class WorklistItem(BaseModel):
    enrollee_id: int
    priority: int = Field(description="higher first: the sum of the reasons' weights")
    reasons: list[Reason]


class WorklistCursor(CursorModel):
    """The worklist is ordered by priority (highest first), then enrollee id."""

    priority: Annotated[int, Strict(), Field(ge=0, le=INT8)]
    enrollee_id: Id
