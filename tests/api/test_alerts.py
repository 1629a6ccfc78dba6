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
