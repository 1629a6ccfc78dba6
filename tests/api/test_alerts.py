"""Alert list, filters, pagination and lifecycle, with the trail in alert_actions and audit."""

from __future__ import annotations

import psycopg
from fastapi.testclient import TestClient

from tests.api.conftest import World, open_alert


def test_list_filters_and_pagination(client: TestClient, world: World, db: psycopg.Connection) -> None:
    kinds = ["sos", "fall", "fever", "no_data", "low_battery", "inactivity", "tachycardia"]
    ids = [open_alert(db, world.enrollees["a1"], kind=k, severity="critical" if k in ("sos", "fall")
                      else "low").alert_id for k in kinds]
    h = world.headers("cw_a1")
    seen, cursor = [], None
    while True:
        url = "/v1/alerts?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=h).json()
        assert len(body["items"]) <= 3
        seen += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)  # newest first, each exactly once
    critical = client.get("/v1/alerts?severity=critical", headers=h).json()["items"]
    assert {a["kind"] for a in critical} == {"sos", "fall"}
    assert [a["kind"] for a in client.get("/v1/alerts?kind=fever", headers=h).json()["items"]] == ["fever"]
    assert client.get("/v1/alerts?status=resolved", headers=h).json()["items"] == []
    assert client.get("/v1/alerts?limit=501", headers=h).status_code == 422
    assert client.get("/v1/alerts?limit=0", headers=h).status_code == 422
    assert client.get("/v1/alerts?cursor=garbage!!", headers=h).status_code == 422
    assert client.get("/v1/alerts?status=bogus", headers=h).status_code == 422
    assert client.get("/v1/alerts?since=2026-01-01T00:00:00", headers=h).status_code == 422  # no offset


def test_lifecycle_and_trail(client: TestClient, world: World, db: psycopg.Connection) -> None:
    alert_id = open_alert(db, world.enrollees["a1"]).alert_id
    h = world.headers("cw_a1")
    acked = client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=h, json={"note": "calling now"})
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledged_by"] == world.ids["cw_a1"]
    again = client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=h, json={})
    assert again.status_code == 409 and "acknowledged" in again.json()["detail"]
    no_note = client.post(f"/v1/alerts/{alert_id}/resolve", headers=h, json={"outcome": "called"})
    assert no_note.status_code == 422
    assert client.post(f"/v1/alerts/{alert_id}/resolve", headers=h,
                       json={"note": "x", "outcome": "teleported"}).status_code == 422
    assert client.post(f"/v1/alerts/{alert_id}/resolve", headers=h,
                       json={"note": "x", "extra": 1}).status_code == 422
    done = client.post(f"/v1/alerts/{alert_id}/resolve", headers=h,
                       json={"note": "visited, she was fine", "outcome": "visited"})
    assert done.status_code == 200
    assert done.json()["status"] == "resolved" and done.json()["outcome"] == "visited"
    assert client.post(f"/v1/alerts/{alert_id}/resolve", headers=h, json={"note": "x"}).status_code == 409
    assert client.post(f"/v1/alerts/{alert_id}/snooze", headers=h, json={"minutes": 30}).status_code == 409
    assert client.post("/v1/alerts/999999/acknowledge", headers=h, json={}).status_code == 404
    assert client.post(f"/v1/alerts/{2**63}/acknowledge", headers=h, json={}).status_code == 422

    actions = db.execute("SELECT action, user_id, note, outcome, client_addr FROM alert_actions "
                         "WHERE alert_id = %s ORDER BY id", (alert_id,)).fetchall()
    assert [a[0] for a in actions] == ["open", "acknowledge", "resolve"]
    assert actions[1][1:3] == (world.ids["cw_a1"], "calling now")
    assert actions[2][2:4] == ("visited, she was fine", "visited")
    audit = db.execute("SELECT action, username, enrollee_id, client_addr FROM access_audit "
                       "WHERE resource = %s ORDER BY id", (f"alert/{alert_id}",)).fetchall()
    assert [(a[0], a[1], a[2]) for a in audit] == [
        ("acknowledge_alert", "cw_a1", world.enrollees["a1"]),
        ("resolve_alert", "cw_a1", world.enrollees["a1"]),
    ]
    assert all(a[3] for a in audit)  # from where


def test_snooze_and_reopen_on_worse_level(client: TestClient, world: World, db: psycopg.Connection) -> None:
    alert_id = open_alert(db, world.enrollees["a1"], kind="fever", severity="medium").alert_id
    h = world.headers("cw_a1")
    snoozed = client.post(f"/v1/alerts/{alert_id}/snooze", headers=h, json={"minutes": 60})
    assert snoozed.status_code == 200 and snoozed.json()["snoozed_until"] is not None
    assert client.post(f"/v1/alerts/{alert_id}/snooze", headers=h, json={"minutes": 1}).status_code == 422
    client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=h, json={})
    # A worse level re-opens it (store.alerts.raise_alert), and the list shows that.
    open_alert(db, world.enrollees["a1"], kind="fever", severity="high")
    current = client.get("/v1/alerts?kind=fever", headers=h).json()["items"][0]
    assert current["id"] == alert_id and current["status"] == "open" and current["severity"] == "high"


def test_reads_are_audited(client: TestClient, world: World, db: psycopg.Connection) -> None:
    h = world.headers("cw_a1")
    eid = world.enrollees["a1"]
    client.get(f"/v1/enrollees/{eid}", headers=h)
    client.get(f"/v1/enrollees/{eid}/readings?metric=spo2", headers=h)
    client.get(f"/v1/enrollees/{eid}/events", headers=h)
    client.get("/v1/alerts", headers=h)
    client.get(f"/v1/enrollees/{world.enrollees['b1']}", headers=h)  # not visible: 404, not audited
    rows = db.execute("SELECT action, enrollee_id FROM access_audit WHERE username = 'cw_a1' "
                      "ORDER BY id").fetchall()
    assert rows == [("read_enrollee", eid), ("read_readings", eid), ("read_events", eid),
                    ("list_alerts", None)]
    listed = client.get("/v1/audit?username=x&action=read_readings", headers=world.headers("admin")).json()
    assert [e["action"] for e in listed["items"]] == ["read_readings"]
    assert listed["items"][0]["detail"]["metric"] == "spo2"


# Issue 14: resolving as called or visited writes the contact (CONTRACT §5.2); the trail.


def test_resolve_called_or_visited_writes_a_contact(client: TestClient, world: World,
                                                    db: psycopg.Connection) -> None:
    eid = world.enrollees["a1"]
    h = world.headers("cw_a1")
    cases = {"sos": ("called", "phone"), "fall": ("visited", "visit"),
             "fever": ("false_alarm", None), "no_data": ("device_issue", None), "inactivity": (None, None)}
    for kind, (outcome, channel) in cases.items():
        alert_id = open_alert(db, eid, kind=kind).alert_id
        body = {"note": f"{kind}: spoke with her daughter"} | ({"outcome": outcome} if outcome else {})
        answer = client.post(f"/v1/alerts/{alert_id}/resolve", headers=h, json=body)
        assert answer.status_code == 200, answer.text
        contacts = db.execute("SELECT enrollee_id, user_id, channel, note, outcome, alert_id, at "
                              "FROM contacts WHERE alert_id = %s", (alert_id,)).fetchall()
        if channel is None:
            assert contacts == [], kind
            continue
        assert len(contacts) == 1, kind
        (enrollee, user, written_channel, note, written_outcome, about, at), = contacts
        assert (enrollee, user, written_channel, note, written_outcome, about) == (
            eid, world.ids["cw_a1"], channel, body["note"], outcome, alert_id)
        resolved_at = db.execute("SELECT resolved_at FROM alerts WHERE id = %s", (alert_id,)).fetchone()
        assert resolved_at is not None and at == resolved_at[0]  # one transaction, one now()
        audit = db.execute("SELECT detail FROM access_audit WHERE action = 'resolve_alert' "
                           "AND resource = %s", (f"alert/{alert_id}",)).fetchone()
        assert audit is not None and audit[0]["outcome"] == outcome and audit[0]["contact_id"] > 0
    # The contact log shows them, newest first, to whoever may see the enrollee.
    log = client.get(f"/v1/enrollees/{eid}/contacts", headers=h).json()["items"]
    assert [c["channel"] for c in log] == ["visit", "phone"]
    assert log[0]["username"] == "cw_a1"


def test_resolve_refused_writes_no_contact(client: TestClient, world: World,
                                           db: psycopg.Connection) -> None:
    """A resolve that fails (already resolved: 409; another's alert: 404) writes nothing."""
    alert_id = open_alert(db, world.enrollees["a1"]).alert_id
    h = world.headers("cw_a1")
    assert client.post(f"/v1/alerts/{alert_id}/resolve", headers=h,
                       json={"note": "first", "outcome": "called"}).status_code == 200
    assert client.post(f"/v1/alerts/{alert_id}/resolve", headers=h,
                       json={"note": "again", "outcome": "called"}).status_code == 409
    other = open_alert(db, world.enrollees["a2"]).alert_id
    assert client.post(f"/v1/alerts/{other}/resolve", headers=h,
                       json={"note": "not mine", "outcome": "visited"}).status_code == 404
    notes = [row[0] for row in db.execute("SELECT note FROM contacts ORDER BY id").fetchall()]
    assert notes == ["first"]


def test_alert_actions_endpoint(client: TestClient, world: World, db: psycopg.Connection) -> None:
    eid = world.enrollees["a1"]
    alert_id = open_alert(db, eid, kind="fever", severity="medium").alert_id
    open_alert(db, eid, kind="fever", severity="medium")  # a repeat: an "update" row
    h = world.headers("cw_a1")
    client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=h, json={"note": "calling now"})
    client.post(f"/v1/alerts/{alert_id}/snooze", headers=h, json={"minutes": 240})
    client.post(f"/v1/alerts/{alert_id}/resolve", headers=h, json={"note": "fine", "outcome": "called"})

    answer = client.get(f"/v1/alerts/{alert_id}/actions", headers=h)
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [a["action"] for a in items] == ["open", "update", "acknowledge", "snooze", "resolve"]
    assert answer.json()["next_cursor"] is None
    ack, snooze, resolve = items[2:]
    assert (ack["username"], ack["user_id"], ack["note"]) == ("cw_a1", world.ids["cw_a1"], "calling now")
    assert snooze["detail"] == {"minutes": 240}
    assert (resolve["note"], resolve["outcome"]) == ("fine", "called")
    assert items[0]["user_id"] is None and items[0]["detail"]["source"] == "ingest"

    seen, cursor = [], None  # oldest first, page by page, each once
    while True:
        body = client.get(f"/v1/alerts/{alert_id}/actions?limit=2"
                          + (f"&cursor={cursor}" if cursor else ""), headers=h).json()
        seen += [a["id"] for a in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [a["id"] for a in items]

    # Scoped like every alert: a colleague's care worker and another region's staff get 404,
    # the region's staff and admin see it; each read is audited, a 404 is not.
    assert client.get(f"/v1/alerts/{alert_id}/actions", headers=world.headers("cw_a2")).status_code == 404
    assert client.get(f"/v1/alerts/{alert_id}/actions", headers=world.headers("staff_b")).status_code == 404
    assert client.get(f"/v1/alerts/{alert_id}/actions", headers=world.headers("staff_a")).status_code == 200
    assert client.get("/v1/alerts/99999999/actions", headers=h).status_code == 404
    assert client.get(f"/v1/alerts/{alert_id}/actions?cursor=eyJpZCI6dHJ1ZX0", headers=h).status_code == 422
    assert client.get(f"/v1/alerts/{alert_id}/actions").status_code == 401
    audit = db.execute("SELECT username, enrollee_id FROM access_audit WHERE action = 'read_alert_actions' "
                       "ORDER BY id").fetchall()
    assert audit[0] == ("cw_a1", eid)
    assert {row[0] for row in audit} == {"cw_a1", "staff_a"}
