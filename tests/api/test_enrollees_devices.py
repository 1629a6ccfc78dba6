"""Enrolment, per-enrollee thresholds, provisioning (with the ingest NOTIFY), input limits."""

from __future__ import annotations

import logging

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World


def test_enroll_assign_and_thresholds(client: TestClient, world: World) -> None:
    h = world.headers("staff_a")
    created = client.post("/v1/enrollees", headers=h, json={
        "name": "박순자", "region_id": world.region_a, "birth_year": 1938, "sex": "F",
        "care_worker_id": world.ids["cw_a1"], "conditions": ["hypertension", "diabetes"],
    })
    assert created.status_code == 201, created.text
    enrollee = created.json()
    assert enrollee["id"] and enrollee["timezone"] == "Asia/Seoul"
    eid = enrollee["id"]
    # The assigned care worker now sees her.
    assert client.get(f"/v1/enrollees/{eid}", headers=world.headers("cw_a1")).status_code == 200
    patched = client.patch(f"/v1/enrollees/{eid}", headers=h,
                           json={"thresholds": {"sbp_crisis": 170, "glucose_low_l1": 75}})
    assert patched.status_code == 200
    assert patched.json()["thresholds"] == {"sbp_crisis": 170, "glucose_low_l1": 75}
    assert patched.json()["effective_thresholds"]["sbp_crisis"] == 170
    merged = client.patch(f"/v1/enrollees/{eid}", headers=h, json={"thresholds": {"sbp_crisis": None}})
    assert merged.json()["thresholds"] == {"glucose_low_l1": 75}
    assert merged.json()["effective_thresholds"]["sbp_crisis"] == 180  # AHA default again
    for bad in ({"thresholds": {"sbp_crisis": 20}}, {"thresholds": {"nonsense": 1}},
                {"care_worker_id": world.ids["cw_b1"]},  # another region's care worker
                {"care_worker_id": world.ids["staff_a"]},  # not a care worker
                {"name": None}, {"region_id": world.region_b}, {"timezone": "Mars/Olympus"}):
        response = client.patch(f"/v1/enrollees/{eid}", headers=h, json=bad)
        assert response.status_code == 422, (bad, response.text)
    reassigned = client.patch(f"/v1/enrollees/{eid}", headers=h, json={"care_worker_id": world.ids["cw_a2"]})
    assert reassigned.json()["care_worker_id"] == world.ids["cw_a2"]
    assert client.get(f"/v1/enrollees/{eid}", headers=world.headers("cw_a1")).status_code == 404


def test_create_validation(client: TestClient, world: World) -> None:
    admin = world.headers("admin")
    base = {"name": "Choi", "region_id": world.region_a, "birth_year": 1940, "sex": "M"}
    for bad in ({**base, "name": "x" * 201}, {**base, "sex": "X"}, {**base, "unknown": 1},
                {**base, "birth_year": 1700}, {**base, "region_id": 99999}, {**base, "name": "a\x00b"},
                {**base, "conditions": ["Bad Condition"]}):
        response = client.post("/v1/enrollees", headers=admin, json=bad)
        assert response.status_code == 422, (bad, response.text)
    assert client.post("/v1/enrollees", headers=admin, json={**base, "name": "x" * 200}).status_code == 201
    assert client.post("/v1/regions", headers=admin, json={"name": "r" * 201}).status_code == 422
    region = client.post("/v1/regions", headers=admin, json={"name": "Gangnam"})
    assert region.status_code == 201 and region.json()["id"]
    assert client.post("/v1/regions", headers=admin, json={"name": "Gangnam"}).status_code == 409
    user = {"username": "nurse1", "password": "long-enough-pw", "role": "care_worker",
            "region_id": region.json()["id"]}
    made = client.post("/v1/users", headers=admin, json=user)
    assert made.status_code == 201 and "password" not in made.text and "hash" not in made.text
    assert client.post("/v1/users", headers=admin, json=user).status_code == 409
    for bad in ({**user, "username": "u" * 201}, {**user, "password": "short"},
                {**user, "role": "superuser"}, {**user, "region_id": None, "username": "n2"},
                {**user, "region_id": 99999, "username": "n3"}):
        assert client.post("/v1/users", headers=admin, json=bad).status_code == 422, bad
    login = client.post("/v1/auth/token", data={"username": "nurse1", "password": "long-enough-pw"})
    assert login.status_code == 200


def test_provisioning_notifies_ingest(client: TestClient, world: World, db_url: str) -> None:
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute("LISTEN dolbom_devices")
        response = client.post("/v1/devices", headers=world.headers("staff_a"), json={
            "device_id": "bp-new-1", "enrollee_id": world.enrollees["a1"], "kind": "bp_monitor",
            "room": "living"})
        assert response.status_code == 201, response.text
        assert response.json()["device_id"] == "bp-new-1" and response.json()["online"] is None
        payloads = [n.payload for n in listener.notifies(timeout=5, stop_after=1)]
    assert payloads == ["bp-new-1"]
    again = client.post("/v1/devices", headers=world.headers("admin"), json={
        "device_id": "bp-new-1", "enrollee_id": world.enrollees["a2"], "kind": "bp_monitor"})
    assert again.status_code == 409
    for bad in ({"device_id": "bad id!", "enrollee_id": world.enrollees["a1"], "kind": "scale"},
                {"device_id": "x" * 65, "enrollee_id": world.enrollees["a1"], "kind": "scale"},
                {"device_id": "ok", "enrollee_id": world.enrollees["a1"], "kind": "toaster"},
                {"device_id": "ok", "enrollee_id": world.enrollees["a1"], "kind": "scale", "room": "attic"}):
        assert client.post("/v1/devices", headers=world.headers("admin"), json=bad).status_code == 422
    listed = client.get("/v1/devices?kind=bp_monitor", headers=world.headers("staff_a")).json()["items"]
    assert [d["device_id"] for d in listed] == ["bp-new-1"]


def test_body_over_one_megabyte_is_413(client: TestClient, world: World) -> None:
    big = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    as_json = {**world.headers("admin"), "Content-Type": "application/json"}
    response = client.post("/v1/regions", headers=as_json, content=big)
    assert response.status_code == 413 and response.json()["detail"]

    def chunks():  # no Content-Length: counted while streaming
        for _ in range(20):
            yield b"x" * 65536

    streamed = client.post("/v1/regions", headers=world.headers("admin"), content=chunks())
    assert streamed.status_code == 413
    assert client.post("/v1/regions", headers={**world.headers("admin"), "Content-Type": "application/json"},
                       content=b"{not json").status_code == 422


# CONTRACT §5.1: how to reach the person.

REACH = {
    "phone": "010-1234-5678",
    "address": "서울특별시 강남구 테헤란로 1, 101동 202호",
    "guardians": [{"name": "김영희", "relation": "딸", "phone": "+82 10 9876 5432"},
                  {"name": "Park Minsu", "phone": "02-555-0100"}],
}


def test_contact_fields_are_kept_and_shown_to_whoever_may_see(
    client: TestClient, world: World, db: psycopg.Connection, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    h = world.headers("staff_a")
    created = client.post("/v1/enrollees", headers=h, json={
        "name": "박순자", "region_id": world.region_a, "birth_year": 1938, "sex": "F",
        "care_worker_id": world.ids["cw_a1"], **REACH, "phone": "  010-1234-5678 "})
    assert created.status_code == 201, created.text
    enrollee = created.json()
    eid = enrollee["id"]
    expected_guardians = [{"name": "김영희", "relation": "딸", "phone": "+82 10 9876 5432"},
                          {"name": "Park Minsu", "relation": None, "phone": "02-555-0100"}]
    assert enrollee["phone"] == "010-1234-5678" and enrollee["address"] == REACH["address"]
    assert enrollee["guardians"] == expected_guardians
    for handle in ("cw_a1", "staff_a", "admin"):
        shown = client.get(f"/v1/enrollees/{eid}", headers=world.headers(handle)).json()
        assert (shown["phone"], shown["address"], shown["guardians"]) == (
            "010-1234-5678", REACH["address"], expected_guardians), handle
    for handle in ("cw_a2", "staff_b", "cw_b1"):
        assert client.get(f"/v1/enrollees/{eid}", headers=world.headers(handle)).status_code == 404
    # The caseload list carries the phone (a care worker calls from it), not the rest.
    listed = {e["id"]: e for e in client.get("/v1/enrollees", headers=world.headers("cw_a1")).json()["items"]}
    assert listed[eid]["phone"] == "010-1234-5678"
    assert "address" not in listed[eid] and "guardians" not in listed[eid]
    assert listed[world.enrollees["a1"]]["phone"] is None

    # PATCH: only what is sent; null removes; guardians replaces the list.
    patched = client.patch(f"/v1/enrollees/{eid}", headers=h, json={"address": None})
    assert patched.status_code == 200, patched.text
    assert patched.json()["address"] is None and patched.json()["phone"] == "010-1234-5678"
    assert patched.json()["guardians"] == expected_guardians
    patched = client.patch(f"/v1/enrollees/{eid}", headers=h, json={
        "phone": "+1 213 555 0199", "guardians": [{"name": "Lee", "relation": "son", "phone": "1"}]})
    assert patched.json()["phone"] == "+1 213 555 0199"
    assert patched.json()["guardians"] == [{"name": "Lee", "relation": "son", "phone": "1"}]
    for empty in (None, []):
        cleared = client.patch(f"/v1/enrollees/{eid}", headers=h, json={"guardians": empty, "phone": None})
        assert cleared.json()["guardians"] == [] and cleared.json()["phone"] is None
    assert client.patch(f"/v1/enrollees/{eid}", headers=world.headers("cw_a1"),
                        json={"phone": "010"}).status_code == 403  # care workers read, staff write

    # Every read of them is audited; the list's audit row names whose phone numbers it showed.
    rows = db.execute("SELECT username, action, enrollee_id, detail FROM access_audit "
                      "WHERE action IN ('read_enrollee', 'list_enrollees') ORDER BY id").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("cw_a1", "read_enrollee", eid), ("staff_a", "read_enrollee", eid), ("admin", "read_enrollee", eid),
        ("cw_a1", "list_enrollees", None)]
    assert rows[-1][3] == {"returned": 2, "enrollee_ids": sorted([world.enrollees["a1"], eid])}
    # Personal data never reaches the logs.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in ("1234-5678", "9876", "555", "테헤란로", "김영희", "Park Minsu"):
        assert secret not in logged, secret


def test_contact_fields_validation_is_422(client: TestClient, world: World) -> None:
    admin = world.headers("admin")
    base = {"name": "Choi", "region_id": world.region_a, "birth_year": 1940, "sex": "M"}
    guardian = {"name": "Kim", "relation": "spouse", "phone": "010-0000-0000"}
    bad = [
        {"phone": "010-1234-abcd"}, {"phone": "(02) 555 0100"}, {"phone": "010.1234.5678"},
        {"phone": "+- -"}, {"phone": ""}, {"phone": "   "}, {"phone": "0" * 21}, {"phone": 1012345678},
        {"phone": "010\n1234"}, {"phone": "０１０"},  # full-width digits
        {"address": "x" * 301}, {"address": "  "}, {"address": "a\x00b"}, {"address": "line\nbreak"},
        {"guardians": [guardian] * 6},
        {"guardians": [{**guardian, "email": "a@b"}]},
        {"guardians": [{**guardian, "phone": "call me"}]},
        {"guardians": [{"name": "Kim"}]},  # a guardian to call has a phone
        {"guardians": [{**guardian, "name": "\u200b "}]},
        {"guardians": [{**guardian, "name": "x" * 201}]},
        {"guardians": [{**guardian, "relation": "r" * 51}]},
        {"guardians": guardian},
        {"guardians": ["Kim"]},
    ]
    for extra in bad:
        for method, path, body in (("POST", "/v1/enrollees", {**base, **extra}),
                                   ("PATCH", f"/v1/enrollees/{world.enrollees['a1']}", extra)):
            response = client.request(method, path, headers=admin, json=body)
            assert response.status_code == 422, (method, extra, response.text)
            detail = response.json()["detail"]
            assert detail and "1234" not in response.text and "call me" not in response.text, detail
    ok = client.post("/v1/enrollees", headers=admin, json={
        **base, "phone": "0" * 20, "address": "x" * 300, "guardians": [guardian] * 5})
    assert ok.status_code == 201, ok.text
