"""Schemas of alerts (CONTRACT §2) and of the actions a care worker takes on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator

from api.fields import Note
from dolbom.alerts import AlertKind, AlertStatus, Severity
from dolbom.jsonsafe import SHOWN_DEPTH, TooDeep, nesting, shown
from dolbom.rules import enrollee_zone
from dolbom.summaries import summaries


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


class SummaryText(BaseModel):
    """The alert's summary for people, in Korean and in English."""

    ko: str
    en: str


def summary_text(alert: Mapping[str, Any], now: datetime | None = None) -> dict[str, str]:
    """``summary_text`` of an alert row: rendered from its evidence by ``dolbom.summaries`` in
    its enrollee's zone (the row's ``enrollee_timezone``; Asia/Seoul when the row has none) as
    of ``now`` (default: the current time), with the stored ``summary`` as the English
    fallback. Never raises."""
    return summaries(
        alert.get("kind", ""), alert.get("severity", ""), alert.get("evidence"),
        zone=enrollee_zone(alert.get("enrollee_timezone")), now=now or datetime.now(UTC),
        stored=alert.get("summary"))


def with_summary_text(alert: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The alert row with its ``summary_text`` (the lists and the stream send rows as they are)."""
    return {**alert, "summary_text": summary_text(alert, now)}


class Alert(BaseModel):
    id: int
    enrollee_id: int
    enrollee_name: str
    enrollee_timezone: str | None = Field(
        None, description="the enrollee's IANA timezone, in which people read the alert's times")
    kind: str
    severity: str
    status: str
    summary: str = Field(description="as stored, in English (kept for clients that read it)")
    summary_text: SummaryText = Field(
        description="what people read, in Korean and English, rendered from `evidence` when "
                    "the alert is sent, times in the enrollee's timezone")
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

    @model_validator(mode="before")
    @classmethod
    def _localized(cls, data: Any) -> Any:
        """A row without ``summary_text`` gets it (an action's answer, the inbox's cards)."""
        if isinstance(data, Mapping) and "summary_text" not in data:
            return with_summary_text(data)
        return data


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
    """One row of an alert's trail (``alert_actions``): ``open`` and ``update`` by the
    component that raised it, ``acknowledge``, ``snooze`` (``detail.minutes``) and ``resolve``
    by a person (``user_id``), ``escalate`` and ``auto_resolve`` by analytics."""

    id: int
    action: str
    user_id: int | None
    username: str | None
    display_name: str | None
    note: str | None
    outcome: str | None
    detail: dict[str, Any] | None
    at: datetime


# What the inbox shows of an alert's trail: what people did, and what the system did
# instead of a person (not the raising component's ``open`` and ``update`` rows).
TRAIL_ACTIONS: Final = ("acknowledge", "snooze", "resolve", "escalate", "auto_resolve")


@dataclass(frozen=True, slots=True)
class AlertFilters:
    """The inbox's filters (the web app's query parameters). ``status`` None: every alert
    not resolved; ``name``: part of the enrollee's name, any case."""

    status: AlertStatus | None = None
    severity: Severity | None = None
    kind: AlertKind | None = None
    enrollee_id: int | None = None
    name: str | None = None

    def shown(self) -> dict[str, str | int]:
        """The filters set, for an audit row's detail (the name searched too: the audit log,
        not the application log, is where who looked for whom belongs)."""
        shown: dict[str, str | int] = {key: str(value) for key, value in (
            ("status", self.status), ("severity", self.severity), ("kind", self.kind)) if value}
        if self.enrollee_id is not None:
            shown["enrollee_id"] = self.enrollee_id
        if self.name:
            shown["name"] = self.name
        return shown


class InboxAlert(Alert):
    """An alert as the inbox shows it: with its enrollee's timezone, the names of who
    acknowledged and resolved it, and its trail (``TRAIL_ACTIONS``)."""

    enrollee_timezone: str | None = None
    acknowledged_by_name: str | None = None
    resolved_by_name: str | None = None
    trail: list[AlertAction] = []
