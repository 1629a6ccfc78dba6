"""The contact log (migration 0052) as the reports count it: contacts by channel.

The API writes contacts (``api.contacts.service.record_contact``); this module is for the
components that read them in bulk and may not import the API (the regional report).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Final

import psycopg


class Channel(StrEnum):
    """How a person was reached (CONTRACT §5.2; the CHECK of contacts.channel), in the order
    a report shows them."""

    PHONE = "phone"
    VISIT = "visit"
    MESSAGE = "message"
    SPEAKER = "speaker"  # through the AI speaker (CONTRACT §5.5)
    VIDEO = "video"


CHANNELS: Final = tuple(channel.value for channel in Channel)

_BY_CHANNEL: Final = """
SELECT channel, count(*) FROM contacts
WHERE enrollee_id = ANY(%s::int[]) AND at >= %s AND at < %s
GROUP BY channel
"""


def contacts_by_channel(
    conn: psycopg.Connection, enrollee_ids: Sequence[int], since: datetime, until: datetime
) -> dict[str, int]:
    """How many contacts with ``enrollee_ids`` happened in ``[since, until)``, per channel
    (every channel of ``CHANNELS`` present, 0 when none), by the time of the contact (``at``),
    not of its recording."""
    counts = dict.fromkeys(CHANNELS, 0)
    for channel, count in conn.execute(_BY_CHANNEL, (list(enrollee_ids), since, until)):
        counts[str(channel)] = int(count)
    return counts
