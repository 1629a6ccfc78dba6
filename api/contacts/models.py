"""Schemas of the contact log (CONTRACT §5.2): a call, visit, message, speaker message or
video call with a person, by whom, about which alert, and when to follow up."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, StringConstraints

from api.fields import BigId, Instant, Note
from api.pagination import CursorModel
from dolbom.text import clean_name
from store.contacts import Channel

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
EARLIEST_YEAR: Final = 1900  # like every instant (api/fields.py)
MAX_OUTCOME_LEN: Final = 200

__all__ = ["CHANNEL_OF_OUTCOME", "Channel", "Contact", "ContactCursor", "ContactIn", "Day"]


# CONTRACT §5.2: resolving an alert with one of these outcomes also writes a contact.
CHANNEL_OF_OUTCOME: Final[dict[str, Channel]] = {"called": Channel.PHONE, "visited": Channel.VISIT}


def _day_text(value: object) -> object:
    """A calendar day is ``YYYY-MM-DD`` text (pydantic alone would also read a number as a
    day of the epoch, or a date and time)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date that exists, written YYYY-MM-DD") from None


def _day_in_range(value: date) -> date:
    if value.year < EARLIEST_YEAR:
        raise ValueError("date must be between 1900-01-01 and 9999-12-31")
    return value


# A calendar day, in a JSON body or a query string: YYYY-MM-DD, 1900-01-01 to 9999-12-31.
Day = Annotated[date, BeforeValidator(_day_text), AfterValidator(_day_in_range)]
ContactOutcome = Annotated[str, StringConstraints(max_length=MAX_OUTCOME_LEN),
                           AfterValidator(lambda value: clean_name(value, "outcome"))]


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel
    note: Note
    outcome: ContactOutcome | None = None
    alert_id: BigId | None = None
    at: Instant | None = None  # when it happened; default now, never ahead of now by more than 5 min
    follow_up: Day | None = None  # when to reach the person again (shows on the worklist)


class Contact(BaseModel):
    id: int
    enrollee_id: int
    user_id: int | None
    username: str | None
    channel: str
    note: str
    outcome: str | None
    alert_id: int | None
    at: datetime
    follow_up: date | None
    created_at: datetime


class ContactCursor(CursorModel):
    """The contact log is ordered newest first by (at, id)."""

    at: Instant
    id: BigId
