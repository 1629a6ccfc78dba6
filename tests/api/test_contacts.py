"""The contact log (CONTRACT §5.2): recording and listing contacts, scoped like every enrollee
endpoint, validated, audited; ``record_contact`` in another service's transaction; the
reports' count by channel; retention."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from fastapi.testclient import TestClient
from psycopg import AsyncConnection

from api.contacts.models import CHANNEL_OF_OUTCOME, Channel
from api.contacts.service import record_contact
from store.contacts import CHANNELS, contacts_by_channel
from store.retention import RetentionPolicy, apply_retention
from tests.api.conftest import World, open_alert
from tests.factories import make_contact, set_enrollee_timezone

ROLES = ("admin", "staff_a", "cw_a1", "cw_a2")
VISIBLE = {
    "admin": {"a1", "a2", "b1"},
    "staff_a": {"a1", "a2"},
    "cw_a1": {"a1"},
    "cw_a2": {"a2"},
}


def _path(world: World, target: str) -> str:
    return f"/v1/enrollees/{world.enrollees[target]}/contacts"


def test_record_and_list_newest_first(client: TestClient, world: World) -> None:
    h = world.headers("cw_a1")
    t0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    made = []
    for minutes, channel in ((0, "phone"), (90, "visit"), (30, "message")):
        at = (t0 + timedelta(minutes=minutes)).isoformat()
        response = client.post(_path(world, "a1"), headers=h,
                               json={"channel": channel, "note": f"note {channel}", "at": at})
        assert response.status_code == 201, response.text
        made.append(response.json())
    contact = made[1]
    assert contact["enrollee_id"] == world.enrollees["a1"] and contact["user_id"] == world.ids["cw_a1"]
    assert contact["username"] == "cw_a1" and contact["channel"] == "visit"
    assert contact["outcome"] is None and contact["alert_id"] is None and contact["follow_up"] is None
    assert datetime.fromisoformat(contact["at"]) == t0 + timedelta(minutes=90)
    assert set(contact) == {"id", "enrollee_id", "user_id", "username", "channel", "note", "outcome",
                            "alert_id", "at", "follow_up", "created_at"}
    # Without "at": now.
    now = client.post(_path(world, "a1"), headers=h, json={
        "channel": "video", "note": "", "outcome": "answered", "follow_up": "9999-12-31"})
    assert now.status_code == 201, now.text
    assert abs(datetime.fromisoformat(now.json()["at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    assert now.json()["follow_up"] == "9999-12-31" and now.json()["outcome"] == "answered"

    # Newest first (by at), paged with a cursor; a colleague of the region sees them too.
    listed = client.get(_path(world, "a1"), headers=world.headers("staff_a")).json()
    assert [c["channel"] for c in listed["items"]] == ["video", "visit", "message", "phone"]
    seen, cursor = [], None
    while True:
        page = client.get(_path(world, "a1"), headers=h,
                          params={"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["id"] for c in listed["items"]]
    # Nothing of a2's.
    assert client.get(_path(world, "a2"), headers=world.headers("staff_a")).json()["items"] == []


def test_contacts_about_an_alert(client: TestClient, world: World, db: psycopg.Connection) -> None:
    h = world.headers("cw_a1")
    own = open_alert(db, world.enrollees["a1"]).alert_id
    other = open_alert(db, world.enrollees["a2"]).alert_id
    response = client.post(_path(world, "a1"), headers=h, json={"channel": "phone", "note": "ok",
                                                                "alert_id": own})
    assert response.status_code == 201 and response.json()["alert_id"] == own
    client.post(_path(world, "a1"), headers=h, json={"channel": "visit", "note": "no alert"})
    about = client.get(_path(world, "a1"), headers=h, params={"alert_id": own}).json()["items"]
    assert [c["alert_id"] for c in about] == [own]
    # Another enrollee's alert, or none at all: 422 (the same words, so nothing is revealed).
    for alert_id in (other, 2**62):
        refused = client.post(_path(world, "a1"), headers=h, json={"channel": "phone", "note": "x",
                                                                   "alert_id": alert_id})
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"] == (
            f"alert_id {alert_id} is not an alert of enrollee {world.enrollees['a1']}")


def test_authorization_matrix(client: TestClient, world: World) -> None:
    failures = []
    for role in ROLES:
        for target in ("a1", "a2", "b1"):
            ok = target in VISIBLE[role]
            h = world.headers(role)
            post = client.post(_path(world, target), headers=h, json={"channel": "phone", "note": role})
            get = client.get(_path(world, target), headers=h)
            for label, response, expected in (("POST", post, 201 if ok else 404),
                                              ("GET", get, 200 if ok else 404)):
                json_answer = "application/json" in response.headers["content-type"]
                if response.status_code != expected or not json_answer:
                    failures.append(f"{role} {label} {target}: {response.status_code} {response.text[:100]}")
                if not ok and response.json() != {"detail": f"enrollee {world.enrollees[target]} not found"}:
                    failures.append(f"{role} {label} {target}: {response.text[:100]}")
    assert not failures, "\n".join(failures)
    for method in ("GET", "POST"):
        for headers in ({}, {"Authorization": "Bearer nope"}):
            response = client.request(method, _path(world, "a1"), headers=headers,
                                      json={"channel": "phone", "note": "x"})
            assert response.status_code == 401 and response.json()["detail"]
    assert client.post("/v1/enrollees/99999/contacts", headers=world.headers("admin"),
                       json={"channel": "phone", "note": "x"}).status_code == 404


def test_validation_is_422_with_json_detail(client: TestClient, world: World) -> None:
    h = world.headers("cw_a1")
    base: dict[str, Any] = {"channel": "phone", "note": "called"}
    ahead = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    bad = [
        {"note": "x"},  # no channel
        {"channel": "phone"},  # no note
        {**base, "channel": "fax"},
        {**base, "channel": None},
        {**base, "unknown": 1},
        {**base, "note": 5},
        {**base, "note": "a\x00b"},
        {**base, "note": "x" * 4001},
        {**base, "outcome": "x" * 201},
        {**base, "outcome": "   "},
        {**base, "outcome": "a\nb"},
        {**base, "alert_id": "1"},
        {**base, "alert_id": 0},
        {**base, "alert_id": True},
        {**base, "at": ahead},  # in the future beyond 5 minutes
        {**base, "at": "2026-11-20T09:00:00"},  # no offset
        {**base, "at": "2026-11-20"},
        {**base, "at": 1700000000000},
        {**base, "at": "0001-01-01T00:00:00+14:00"},
        {**base, "follow_up": "2026-13-01"},
        {**base, "follow_up": "2026-2-30"},
        {**base, "follow_up": "2026-02-30"},
        {**base, "follow_up": "20261201"},
        {**base, "follow_up": "2026-12-01T00:00:00"},
        {**base, "follow_up": 20261201},
        {**base, "follow_up": "1899-12-31"},
        # a follow-up before the day of the contact (in the enrollee's timezone)
        {**base, "at": "2026-11-20T16:00:00+00:00", "follow_up": "2026-11-20"},
    ]
    for body in bad:
        response = client.post(_path(world, "a1"), headers=h, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"], body
    # Seoul: 16:00 UTC is already the 21st there, so a follow-up on the 21st is the same day.
    same_day = client.post(_path(world, "a1"), headers=h, json={
        **base, "at": "2026-11-20T16:00:00+00:00", "follow_up": "2026-11-21"})
    assert same_day.status_code == 201, same_day.text
    slightly_ahead = (datetime.now(UTC) + timedelta(minutes=2)).isoformat()
    assert client.post(_path(world, "a1"), headers=h, json={**base, "at": slightly_ahead}).status_code == 201
    assert client.post(_path(world, "a1"), headers={**h, "Content-Type": "application/json"},
                       content=b"{not json").status_code == 422
    for query in ({"cursor": "not-a-cursor"}, {"cursor": "eyJpZCI6IHRydWV9"}, {"limit": 0},
                  {"limit": 501}, {"alert_id": "-1"}, {"alert_id": "1.0"}):
        response = client.get(_path(world, "a1"), headers=h, params=query)
        assert response.status_code == 422, (query, response.text)


def test_reads_and_recordings_are_audited(client: TestClient, world: World, db: psycopg.Connection) -> None:
    h = world.headers("cw_a1")
    made = client.post(_path(world, "a1"), headers=h, json={"channel": "phone", "note": "전화 드림"}).json()
    client.get(_path(world, "a1"), headers=h)
    client.get(_path(world, "b1"), headers=h)  # not visible: 404, nothing read, nothing audited
    rows = db.execute("SELECT action, enrollee_id, resource, detail FROM access_audit "
                      "WHERE username = 'cw_a1' ORDER BY id").fetchall()
    eid = world.enrollees["a1"]
    assert rows == [
        ("record_contact", eid, f"enrollees/{eid}/contacts/{made['id']}",
         {"channel": "phone", "alert_id": None}),
        ("list_contacts", eid, f"enrollees/{eid}/contacts", None),
    ]


def test_record_contact_in_another_services_transaction(
    world: World, db: psycopg.Connection, db_url: str
) -> None:
    """What the alerts service calls when an alert is resolved as called or visited."""
    alert_id = open_alert(db, world.enrollees["a1"]).alert_id
    assert CHANNEL_OF_OUTCOME == {"called": Channel.PHONE, "visited": Channel.VISIT}

    async def resolve_and_record(fail: bool) -> None:
        async with await AsyncConnection.connect(db_url, autocommit=True) as conn, conn.transaction():
            await record_contact(conn, enrollee_id=world.enrollees["a1"], user_id=world.ids["cw_a1"],
                                 channel=CHANNEL_OF_OUTCOME["visited"], note="visited her",
                                 outcome="visited", alert_id=alert_id)
            if fail:
                raise RuntimeError("the alert action failed")

    try:
        asyncio.run(resolve_and_record(fail=True))
    except RuntimeError:
        pass
    assert db.execute("SELECT count(*) FROM contacts").fetchone() == (0,)  # rolled back with it
    asyncio.run(resolve_and_record(fail=False))
    row = db.execute("SELECT enrollee_id, user_id, channel, outcome, alert_id, "
                     "now() - at < interval '1 minute' FROM contacts").fetchone()
    assert row == (world.enrollees["a1"], world.ids["cw_a1"], "visit", "visited", alert_id, True)


def test_contacts_by_channel_for_the_reports(world: World, db: psycopg.Connection) -> None:
    a1, a2, b1 = (world.enrollees[k] for k in ("a1", "a2", "b1"))
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    for enrollee, channel, at in ((a1, "phone", start), (a1, "phone", start + timedelta(days=3)),
                                  (a2, "visit", end - timedelta(microseconds=1)),
                                  (a2, "visit", end),  # outside: [start, end)
                                  (a1, "speaker", start - timedelta(seconds=1)),  # outside
                                  (b1, "video", start + timedelta(days=1))):  # another region
        make_contact(db, enrollee, at=at, channel=channel)
    counts = contacts_by_channel(db, [a1, a2], start, end)
    assert counts == {"phone": 2, "visit": 1, "message": 0, "speaker": 0, "video": 0}
    assert list(counts) == list(CHANNELS) == [c.value for c in Channel]
    assert contacts_by_channel(db, [], start, end) == dict.fromkeys(CHANNELS, 0)


def test_retention_destroys_old_contacts_and_outlives_their_alerts(
    world: World, db: psycopg.Connection
) -> None:
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    policy = RetentionPolicy(alerts_days=400)
    alert = open_alert(db, world.enrollees["a1"]).alert_id
    db.execute("UPDATE alerts SET status = 'resolved', resolved_at = %s WHERE id = %s",
               (now - timedelta(days=401), alert))
    old = make_contact(db, world.enrollees["a1"], at=now - timedelta(days=401))
    about_old_alert = make_contact(db, world.enrollees["a1"], at=now - timedelta(days=399), alert_id=alert)
    counts = apply_retention(db, policy, now)
    assert counts["contacts"] == 1 and counts["alerts"] == 1
    rows = db.execute("SELECT id, alert_id FROM contacts").fetchall()
    assert rows == [(about_old_alert, None)] and old not in {r[0] for r in rows}


def test_follow_up_day_is_the_enrollees(client: TestClient, world: World, db: psycopg.Connection) -> None:
    """At 2026-11-20 20:00 UTC it is still the 20th in Los Angeles (the 21st in Seoul)."""
    set_enrollee_timezone(db, world.enrollees["a1"], "America/Los_Angeles")
    h = world.headers("cw_a1")
    at = "2026-11-20T20:00:00+00:00"
    assert client.post(_path(world, "a1"), headers=h, json={
        "channel": "phone", "note": "x", "at": at, "follow_up": "2026-11-20"}).status_code == 201
    assert client.post(_path(world, "a1"), headers=h, json={
        "channel": "phone", "note": "x", "at": at, "follow_up": "2026-11-19"}).status_code == 422
    assert datetime.fromisoformat(at).astimezone(ZoneInfo("America/Los_Angeles")).date() == date(2026, 11, 20)
