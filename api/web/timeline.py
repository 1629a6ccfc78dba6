"""The enrollee page's timeline (issue 14): alerts opened, what people and the system did
about them (with who and the note), contacts with the person (``api.contacts``) and key
events (falls, SOS, a door at night, a missed medication), as one list, newest first.

Pure: rows in, entries out, every time by ``dolbom.timefmt``, every word from the page's
catalogue (``api.web.i18n``) and an alert's summary rendered in the page's language from its
evidence (``dolbom.summaries``), so the Korean page reads Korean.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from api.contacts.models import Contact
from dolbom.summaries import summary
from dolbom.timefmt import LocalClock
from dolbom.wire import EVENT_BY_CODE

MAX_ENTRIES: Final = 300


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the timeline; ``kind`` is its CSS class (alert, action, contact, event)."""

    at: datetime
    kind: str
    when: str
    title: str
    who: str | None = None
    text: str | None = None  # the alert's summary, the action's or contact's note
    facts: tuple[str, ...] = field(default_factory=tuple)  # outcome, follow-up, the alert it is about
    severity: str | None = None
    alert_id: int | None = None
    order: int = 0  # among entries at the same instant: the later step first


def _label(text: Mapping[str, str], prefix: str, value: str | None, *others: str) -> str:
    """``value``'s catalogue label under ``prefix`` (then each of ``others``), else as stored."""
    if not value:
        return ""
    for key in (prefix, *others):
        if key + value in text:
            return text[key + value]
    return value


def _alert_entries(alerts: Iterable[Mapping[str, Any]], text: Mapping[str, str],
                   clock: LocalClock) -> Iterable[Entry]:
    for a in alerts:
        yield Entry(a["opened_at"], "alert", clock.when(a["opened_at"]),
                    f"{text['tl_opened']}: {_label(text, 'kind_', a['kind'])}",
                    text=summary(a["kind"], a["severity"], a["evidence"], lang=clock.lang, zone=clock.zone,
                                 now=clock.now, stored=a["summary"]),
                    severity=a["severity"], alert_id=a["id"],
                    facts=(f"{text['status']}: {_label(text, 'st_', a['status'])}",))


def _action_entries(actions: Iterable[Mapping[str, Any]], text: Mapping[str, str],
                    clock: LocalClock) -> Iterable[Entry]:
    for x in actions:
        facts = (_label(text, "out_", x["outcome"]),) if x["outcome"] else ()
        yield Entry(x["at"], "action", clock.when(x["at"]),
                    f"{_label(text, 'tl_', x['action'])}: {_label(text, 'kind_', x['kind'])}",
                    who=x["username"] or text["system"], text=x["note"], facts=facts,
                    alert_id=x["alert_id"], order=1)


def _contact_entries(contacts: Iterable[Contact], text: Mapping[str, str],
                     clock: LocalClock) -> Iterable[Entry]:
    for c in contacts:
        facts: list[str] = []
        if c.outcome:
            # The form's outcomes, or an alert's when its resolution wrote the contact
            # (called, visited: api.contacts.models.CHANNEL_OF_OUTCOME).
            facts.append(_label(text, "co_", c.outcome, "out_"))
        if c.follow_up:
            facts.append(f"{text['follow_up']} {clock.day(c.follow_up)}")
        yield Entry(c.at, "contact", clock.when(c.at),
                    f"{text['tl_contact']}: {_label(text, 'ch_', c.channel)}", who=c.username,
                    text=c.note, facts=tuple(facts), alert_id=c.alert_id, order=2)


def _event_entries(events: Iterable[Mapping[str, Any]], text: Mapping[str, str],
                   clock: LocalClock) -> Iterable[Entry]:
    for e in events:
        kind = EVENT_BY_CODE.get(e["type"], str(e["type"]))
        device = _label(text, "dev_", e["device_kind"])
        if e["room"]:
            device += f" · {_label(text, 'room_', e['room'])}"
        yield Entry(e["ts"], "event", clock.when(e["ts"]), _label(text, "ev_", kind),
                    facts=(device,), severity="critical" if kind in ("fall", "sos") else None)


def timeline(
    alerts: Sequence[Mapping[str, Any]],
    actions: Sequence[Mapping[str, Any]],
    contacts: Sequence[Contact],
    events: Sequence[Mapping[str, Any]],
    text: Mapping[str, str],
    clock: LocalClock,
) -> list[Entry]:
    """Everything, newest first (at one instant: the contact, then the action, then the alert
    it follows), at most ``MAX_ENTRIES``."""
    entries = [*_alert_entries(alerts, text, clock), *_action_entries(actions, text, clock),
               *_contact_entries(contacts, text, clock), *_event_entries(events, text, clock)]
    entries.sort(key=lambda entry: (entry.at, entry.order), reverse=True)
    return entries[:MAX_ENTRIES]
