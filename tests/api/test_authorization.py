"""The authorization matrix: every endpoint × role × own / other enrollee / other region.

Roles: admin; centre staff of region A; care worker A1 (assigned enrollee a1). Targets: a1
(own), a2 (same region, another care worker's), b1 (another region). Expected statuses are
written out per endpoint; failures are collected so one run shows the whole matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.api.conftest import World, open_alert

ROLES = ("admin", "staff_a", "cw_a1")
TARGETS = ("a1", "a2", "b1")

# Who may see which enrollee (CONTRACT §3 roles).
VISIBLE = {
    "admin": {"a1", "a2", "b1"},
    "staff_a": {"a1", "a2"},
    "cw_a1": {"a1"},
}


def _expect(role: str, target: str, ok: int, *, staff_only: bool = False) -> int:
    if staff_only and role == "cw_a1":
        return 403
    return ok if target in VISIBLE[role] else 404


def _run(cases: list[tuple[str, int, Callable[[], Any]]]) -> None:
    failures = []
    for label, expected, call in cases:
        response = call()
        if response.status_code != expected:
            failures.append(f"{label}: expected {expected}, got {response.status_code} {response.text[:120]}")
        else:
            assert response.headers["content-type"].startswith("application/json"), label
            assert "detail" in response.json() or response.status_code < 400, label
    assert not failures, "\n".join(failures)


def test_enrollee_reads_matrix(client: TestClient, world: World) -> None:
    cases = []
    for role in ROLES:
        for target in TARGETS:
            eid = world.enrollees[target]
            h = world.headers(role)
            for path in (f"/v1/enrollees/{eid}", f"/v1/enrollees/{eid}/readings?metric=heart_rate",
                         f"/v1/enrollees/{eid}/readings?metric=heart_rate&bucket=1h",
                         f"/v1/enrollees/{eid}/events"):
                cases.append((f"{role} GET {path} ({target})", _expect(role, target, 200),
                              lambda path=path, h=h: client.get(path, headers=h)))
            cases.append((f"{role} PATCH enrollee {target}", _expect(role, target, 200, staff_only=True),
                          lambda eid=eid, h=h: client.patch(f"/v1/enrollees/{eid}", headers=h,
                                                            json={"thresholds": {"sbp_crisis": 170}})))
            cases.append((f"{role} POST device for {target}", _expect(role, target, 201, staff_only=True),
                          lambda eid=eid, h=h, role=role, target=target: client.post(
                              "/v1/devices", headers=h,
                              json={"device_id": f"bp-{role}-{target}", "enrollee_id": eid,
                                    "kind": "bp_monitor"})))
    _run(cases)


def test_alert_actions_matrix(client: TestClient, world: World, db: psycopg.Connection) -> None:
    kinds = iter(["sos", "fall", "hypertensive_crisis", "hypoglycemia", "hyperglycemia", "low_spo2",
                  "bradycardia", "tachycardia", "fever", "inactivity", "night_wandering",
                  "routine_change", "declining_activity", "missed_checkins", "device_offline",
                  "low_battery", "no_data", "rapid_weight_gain"])
    cases = []
    for role in ROLES:
        for target in TARGETS:
            h = world.headers(role)
            kind = next(kinds)
            alert_id = open_alert(db, world.enrollees[target], kind=kind).alert_id
            expected = _expect(role, target, 200)
            cases.append((f"{role} acknowledge {target}", expected,
                          lambda a=alert_id, h=h: client.post(f"/v1/alerts/{a}/acknowledge", headers=h,
                                                              json={})))
            cases.append((f"{role} snooze {target}", expected,
                          lambda a=alert_id, h=h: client.post(f"/v1/alerts/{a}/snooze", headers=h,
                                                              json={"minutes": 30})))
            cases.append((f"{role} resolve {target}", expected,
                          lambda a=alert_id, h=h: client.post(f"/v1/alerts/{a}/resolve", headers=h,
                                                              json={"note": "ok", "outcome": "called"})))
            cases.append((f"{role} list alerts of {target}", 200,
                          lambda t=target, h=h: client.get(
                              f"/v1/alerts?enrollee_id={world.enrollees[t]}", headers=h)))
    _run(cases)
    # Lists answer 200 but hold only what the caller may see.
    for role in ROLES:
        listed = client.get("/v1/alerts?limit=500", headers=world.headers(role)).json()["items"]
        seen = {a["enrollee_id"] for a in listed}
        assert seen == {world.enrollees[t] for t in VISIBLE[role]}, role


def test_lists_are_scoped(client: TestClient, world: World) -> None:
    for role in ROLES:
        h = world.headers(role)
        enrollees = {e["id"] for e in client.get("/v1/enrollees", headers=h).json()["items"]}
        assert enrollees == {world.enrollees[t] for t in VISIBLE[role]}, role
    for role, expected in (("admin", {"a1", "a2", "b1"}), ("staff_a", {"a1", "a2"})):
        devices = client.get("/v1/devices", headers=world.headers(role)).json()["items"]
        assert {d["enrollee_id"] for d in devices} == {world.enrollees[t] for t in expected}
    assert client.get("/v1/devices", headers=world.headers("cw_a1")).status_code == 403
    # A filter for someone else's enrollee finds nothing rather than leaking.
    other = world.enrollees["b1"]
    r = client.get(f"/v1/devices?enrollee_id={other}", headers=world.headers("staff_a"))
    assert r.status_code == 200 and r.json()["items"] == []


def test_admin_and_staff_endpoints_matrix(client: TestClient, world: World) -> None:
    cases = []
    for role in ROLES:
        h = world.headers(role)
        admin_only = 201 if role == "admin" else 403
        cases.append((f"{role} POST /v1/regions", admin_only,
                      lambda h=h, role=role: client.post("/v1/regions", headers=h,
                                                         json={"name": f"r-{role}"})))
        cases.append((f"{role} POST /v1/users", admin_only,
                      lambda h=h, role=role: client.post("/v1/users", headers=h, json={
                          "username": f"new-{role}", "password": "long-enough-pw", "role": "care_worker",
                          "region_id": world.region_a})))
        cases.append((f"{role} GET /v1/audit", 200 if role == "admin" else 403,
                      lambda h=h: client.get("/v1/audit", headers=h)))
        for region_key, region in (("own region", world.region_a), ("other region", world.region_b)):
            expected = {"admin": 201, "staff_a": 201 if region == world.region_a else 403, "cw_a1": 403}[role]
            cases.append((f"{role} POST /v1/enrollees in {region_key}", expected,
                          lambda h=h, region=region: client.post("/v1/enrollees", headers=h, json={
                              "name": "Lee", "region_id": region, "birth_year": 1940, "sex": "M"})))
    _run(cases)


def test_nothing_but_health_metrics_and_token_answers_without_a_token(
    client: TestClient, world: World
) -> None:
    schema = client.get("/openapi.json").json()
    open_paths = {"/healthz", "/metrics", "/v1/auth/token"}
    checked = 0
    for path, operations in schema["paths"].items():
        concrete = path.replace("{enrollee_id}", str(world.enrollees["a1"])).replace("{alert_id}", "1")
        for method in operations:
            for headers in ({}, {"Authorization": "Bearer not-a-token"},
                            {"Authorization": f"Bearer {world.token('admin')}x"}):
                response = client.request(method.upper(), concrete, headers=headers, json={})
                if path in open_paths:
                    assert response.status_code != 401 or path == "/v1/auth/token", (method, path)
                else:
                    assert response.status_code == 401, (method, path, headers, response.status_code)
                    assert response.json()["detail"]
                    checked += 1
    assert checked >= 3 * 13
    # The web app redirects to its login page instead.
    page = client.get("/app", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/app/login"
