"""The contact log: recording a contact with a person (also for the alerts service, in its
own transaction) and reading it back, newest first. Contacts are personal data: every read
and every recording is audited, nothing of them is logged."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row

from api.audit.service import audited, record
from api.contacts import queries
from api.contacts.models import Channel, Contact, ContactCursor, ContactIn
from api.db import durable
from api.enrollees.service import visible_enrollee
from api.errors import Invalid
from api.pagination import decode_cursor, page
from api.principal import Principal
from dolbom.rules import enrollee_zone
from dolbom.wire import MAX_FUTURE_SKEW

# A contact's ``at`` may be this far ahead of the server's clock (a phone's clock running
# fast), the same allowance as a device's timestamp (CONTRACT §1).
FUTURE_TOLERANCE: Final = MAX_FUTURE_SKEW


async def record_contact(
    conn: AsyncConnection[Any],
    *,
    enrollee_id: int,
    user_id: int | None,
    channel: Channel | str,
    note: str,
    outcome: str | None = None,
    alert_id: int | None = None,
    at: datetime | None = None,
    follow_up: date | None = None,
) -> Contact:
    """Write one contact in the caller's transaction and return it (``at`` None: now).

    No scope check and no audit row: the caller has done both (``add_contact`` below; the
    alerts service when an alert is resolved as called or visited, see
    ``models.CHANNEL_OF_OUTCOME``). ``alert_id``, if given, must be an alert of the enrollee."""
    cursor = conn.cursor(row_factory=dict_row)
    await cursor.execute(queries.INSERT, {
        "enrollee_id": enrollee_id, "user_id": user_id, "channel": Channel(channel).value,
        "note": note, "outcome": outcome, "alert_id": alert_id, "at": at, "follow_up": follow_up,
    })
    row = await cursor.fetchone()
    assert row is not None
    return Contact.model_validate(row)


async def add_contact(
    conn: AsyncConnection[DictRow],
    principal: Principal,
    enrollee_id: int,
    body: ContactIn,
    client_addr: str | None,
    *,
    now: datetime | None = None,
) -> Contact:
    """``POST /v1/enrollees/{id}/contacts``: 404 for an enrollee the caller may not see; 422
    for a time ahead of now, a follow-up before the contact's day, another person's alert."""
    now = now or datetime.now(UTC)
    async with durable(conn):
        enrollee = await visible_enrollee(conn, principal, enrollee_id)
        if body.at is not None and body.at > now + FUTURE_TOLERANCE:
            raise Invalid("at must not be in the future")
        if body.follow_up is not None:
            day = (body.at or now).astimezone(enrollee_zone(enrollee.timezone)).date()
            if body.follow_up < day:
                raise Invalid("follow_up must not be before the day of the contact "
                              "(in the enrollee's timezone)")
        if body.alert_id is not None:
            found = await (await conn.execute(queries.ALERT_OF_ENROLLEE,
                                              (body.alert_id, enrollee_id))).fetchone()
            if found is None:
                raise Invalid(f"alert_id {body.alert_id} is not an alert of enrollee {enrollee_id}")
        contact = await record_contact(
            conn, enrollee_id=enrollee_id, user_id=principal.user_id, channel=body.channel,
            note=body.note, outcome=body.outcome, alert_id=body.alert_id, at=body.at,
            follow_up=body.follow_up,
        )
        await record(conn, principal, "record_contact", enrollee_id=enrollee_id,
                     resource=f"enrollees/{enrollee_id}/contacts/{contact.id}",
                     client_addr=client_addr,
                     detail={"channel": contact.channel, "alert_id": contact.alert_id})
        return contact


async def list_contacts(
    conn: AsyncConnection[DictRow],
    principal: Principal,
    enrollee_id: int,
    *,
    alert_id: int | None,
    limit: int,
    cursor: str | None,
    client_addr: str | None,
) -> tuple[list[Contact], str | None]:
    """The enrollee's contacts, newest first (audited in the same statement)."""
    position = decode_cursor(cursor, ContactCursor)
    await visible_enrollee(conn, principal, enrollee_id)
    query, params = audited(
        queries.LIST,
        {"enrollee_id": enrollee_id, "alert_id": alert_id, "limit": limit + 1,
         "before_at": position.at if position else None,
         "before_id": position.id if position else None},
        principal, "list_contacts", enrollee_id=enrollee_id,
        resource=f"enrollees/{enrollee_id}/contacts", client_addr=client_addr,
        detail={"alert_id": alert_id} if alert_id is not None else None,
    )
    rows = await (await conn.execute(query, params)).fetchall()
    contacts = [Contact.model_validate(row) for row in rows]
    return page(contacts, limit, lambda contact: {"at": contact.at.isoformat(), "id": contact.id})
