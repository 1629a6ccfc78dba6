"""User management: listing, deactivation and token revocation, scoped by role and region."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.alerts import stream as stream_module
from api.app import create_app
from api.deps import TOKEN_COOKIE
from api.security.tokens import VERSION_TTL_S
from dolbom.config import Settings
from tests.api.conftest import PASSWORD, LiveServer, World, open_alert
from tests.api.test_stream import SseClient


def _login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_admin_lists_everyone_and_staff_their_region(client: TestClient, world: World) -> None:
    listed = client.get("/v1/users?limit=4", headers=world.headers("admin")).json()
    assert [u["username"] for u in listed["items"]] == ["admin", "staff_a", "cw_a1", "cw_a2"]
    rest = client.get(f"/v1/users?limit=4&cursor={listed['next_cursor']}",
                      headers=world.headers("admin")).json()
    assert [u["username"] for u in rest["items"]] == ["staff_b", "cw_b1"] and rest["next_cursor"] is None
    assert "password_hash" not in listed["items"][0] and "token_version" not in listed["items"][0]

    staff = client.get("/v1/users", headers=world.headers("staff_a")).json()
    assert [u["username"] for u in staff["items"]] == ["staff_a", "cw_a1", "cw_a2"]
    workers = client.get("/v1/users?role=care_worker", headers=world.headers("staff_b")).json()
    assert [u["username"] for u in workers["items"]] == ["cw_b1"]

    assert client.get("/v1/users", headers=world.headers("cw_a1")).status_code == 403
    assert client.get("/v1/users?cursor=eyJpZCI6dHJ1ZX0", headers=world.headers("admin")).status_code == 422
    me = client.get("/v1/users/me", headers=world.headers("cw_a1"))
    assert me.status_code == 200 and me.json()["username"] == "cw_a1"
    assert client.get(f"/v1/users/{world.ids['cw_b1']}", headers=world.headers("staff_a")).status_code == 404
    assert client.get(f"/v1/users/{world.ids['cw_a1']}", headers=world.headers("cw_a2")).status_code == 403


def test_a_deactivated_users_token_answers_401_on_the_next_request(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    worker = _login(client, "cw_a1")
    assert client.get("/v1/enrollees", headers=worker).status_code == 200  # version now cached
    target = world.ids["cw_a1"]
    response = client.patch(f"/v1/users/{target}", json={"active": False},
                            headers=world.headers("staff_a"))
    assert response.status_code == 200 and response.json()["active"] is False
    refused = client.get("/v1/enrollees", headers=worker)
    assert refused.status_code == 401 and refused.json() == {"detail": "this token was revoked; log in again"}
    assert client.post("/v1/auth/token",
                       data={"username": "cw_a1", "password": PASSWORD}).status_code == 401
    audit = db.execute("SELECT username, action, resource, detail FROM access_audit "
                       "WHERE action LIKE '%%_user'").fetchall()
    assert audit == [("staff_a", "deactivate_user", f"users/{target}",
                      {"fields": ["active"], "tokens_revoked": True})]

    # Reactivated, the user logs in again; the token from before stays dead.
    assert client.patch(f"/v1/users/{target}", json={"active": True},
                        headers=world.headers("staff_a")).json()["active"] is True
    assert client.get("/v1/enrollees", headers=worker).status_code == 401
    assert client.get("/v1/enrollees", headers=_login(client, "cw_a1")).status_code == 200
    actions = [r[0] for r in db.execute("SELECT action FROM access_audit WHERE action LIKE '%%_user' "
                                        "ORDER BY id")]
    assert actions == ["deactivate_user", "reactivate_user"]


def test_the_web_apps_cookie_stops_working_too(client: TestClient, world: World) -> None:
    client.cookies.set(TOKEN_COOKIE, world.token("cw_a2"))
    assert client.get("/app", follow_redirects=False).status_code == 200
    assert client.patch(f"/v1/users/{world.ids['cw_a2']}", json={"active": False},
                        headers=world.headers("admin")).status_code == 200
    expired = client.get("/app", follow_redirects=False)
    assert expired.status_code == 303 and expired.headers["location"] == "/app/login"


def test_staff_manage_only_their_regions_users_and_not_roles(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    staff = world.headers("staff_a")
    other_region = client.patch(f"/v1/users/{world.ids['cw_b1']}", json={"active": False}, headers=staff)
    assert other_region.status_code == 404
    assert client.patch(f"/v1/users/{world.ids['admin']}", json={"active": False},
                        headers=staff).status_code == 404  # an admin outside the region
    # An admin attached to the region is visible to its staff, not theirs to manage.
    row = db.execute("INSERT INTO users (username, password_hash, role, region_id) "
                     "VALUES ('regional_admin', 'x', 'admin', %s) RETURNING id", (world.region_a,)).fetchone()
    assert row is not None
    forbidden = client.patch(f"/v1/users/{row[0]}", json={"active": False}, headers=staff)
    assert forbidden.status_code == 403 and forbidden.json()["detail"] == "only an admin manages an admin"
    for change in ({"role": "center_staff"}, {"region_id": world.region_b}, {"password": "a-new-password"}):
        refused = client.patch(f"/v1/users/{world.ids['cw_a2']}", json=change, headers=staff)
        assert refused.status_code == 403, change
    assert client.patch(f"/v1/users/{world.ids['cw_a2']}", json={"active": False},
                        headers=world.headers("cw_a1")).status_code == 403
    renamed = client.patch(f"/v1/users/{world.ids['cw_a2']}", json={"display_name": "Park"}, headers=staff)
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "Park"
    # Renaming ends no session.
    assert client.get("/v1/enrollees", headers=world.headers("cw_a2")).status_code == 200
    # Nobody deactivates themselves (an admin so cannot lock the last admin out).
    for handle in ("staff_a", "admin"):
        own = client.patch(f"/v1/users/{world.ids[handle]}", json={"active": False},
                           headers=world.headers(handle))
        assert own.status_code == 409, handle
    for change in ({"role": "care_worker", "region_id": world.region_a}, {"region_id": world.region_a}):
        own = client.patch(f"/v1/users/{world.ids['admin']}", json=change, headers=world.headers("admin"))
        assert own.status_code == 409, change
    # Strict input.
    for body in ({"active": "false"}, {"active": 0}, {"active": None}, {"token_version": 3}):
        assert client.patch(f"/v1/users/{world.ids['cw_a2']}", json=body,
                            headers=staff).status_code == 422, body


def test_admin_changes_role_region_and_password_and_old_tokens_end(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    admin = world.headers("admin")
    before = world.headers("cw_a2")
    moved = client.patch(f"/v1/users/{world.ids['cw_a2']}", json={"region_id": world.region_b}, headers=admin)
    assert moved.status_code == 409  # still the care worker of enrollee a2
    db.execute("UPDATE enrollees SET care_worker_id = NULL WHERE id = %s", (world.enrollees["a2"],))
    moved = client.patch(f"/v1/users/{world.ids['cw_a2']}", json={"region_id": world.region_b}, headers=admin)
    assert moved.status_code == 200 and moved.json()["region_id"] == world.region_b
    assert client.get("/v1/enrollees", headers=before).status_code == 401
    assert client.patch(f"/v1/users/{world.ids['cw_a2']}", json={"role": "center_staff", "region_id": None},
                        headers=admin).status_code == 422  # staff need a region
    assert client.patch(f"/v1/users/{world.ids['cw_a2']}", json={"region_id": 999999},
                        headers=admin).status_code == 422

    own = client.patch(f"/v1/users/{world.ids['admin']}", json={"password": "the-new-password"},
                       headers=admin)
    assert own.status_code == 403  # one's own, only with the current one (/v1/users/me/password)
    reset = client.patch(f"/v1/users/{world.ids['cw_a2']}", json={"password": "the-new-password"},
                         headers=admin)
    assert reset.status_code == 200
    assert client.post("/v1/auth/token", data={"username": "cw_a2", "password": PASSWORD}).status_code == 401
    _login(client, "cw_a2", "the-new-password")
    detail = db.execute("SELECT detail FROM access_audit WHERE action = 'update_user' "
                        "ORDER BY id DESC LIMIT 1").fetchone()
    assert detail == ({"fields": ["password"], "tokens_revoked": True},)  # never the password


def test_revoke_tokens(client: TestClient, world: World, db: psycopg.Connection) -> None:
    old = _login(client, "cw_a1")
    revoked = client.post(f"/v1/users/{world.ids['cw_a1']}/revoke-tokens", headers=world.headers("staff_a"))
    assert revoked.status_code == 200 and revoked.json()["username"] == "cw_a1"
    assert client.get("/v1/enrollees", headers=old).status_code == 401
    fresh = _login(client, "cw_a1")
    assert client.get("/v1/enrollees", headers=fresh).status_code == 200

    # Anyone may end their own sessions ("log out everywhere"), not another's.
    assert client.post(f"/v1/users/{world.ids['cw_a2']}/revoke-tokens", headers=fresh).status_code == 403
    assert client.post(f"/v1/users/{world.ids['cw_a1']}/revoke-tokens", headers=fresh).status_code == 200
    assert client.get("/v1/enrollees", headers=fresh).status_code == 401
    assert client.post(f"/v1/users/{world.ids['cw_a1']}/revoke-tokens",
                       headers=world.headers("staff_b")).status_code == 404
    actions = db.execute("SELECT username, action FROM access_audit WHERE action = 'revoke_tokens' "
                         "ORDER BY id").fetchall()
    assert actions == [("staff_a", "revoke_tokens"), ("cw_a1", "revoke_tokens")]


def test_changing_ones_password_ends_other_sessions(client: TestClient, world: World) -> None:
    other_session = _login(client, "cw_a1")
    session = _login(client, "cw_a1")
    wrong = client.post("/v1/users/me/password", headers=session,
                        json={"current_password": "not-it-at-all", "new_password": "another-password"})
    assert wrong.status_code == 403
    short = client.post("/v1/users/me/password", headers=session,
                        json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422
    changed = client.post("/v1/users/me/password", headers=session,
                          json={"current_password": PASSWORD, "new_password": "another-password"})
    assert changed.status_code == 200, changed.text
    for headers in (other_session, session):
        assert client.get("/v1/enrollees", headers=headers).status_code == 401
    renewed = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert client.get("/v1/enrollees", headers=renewed).status_code == 200
    _login(client, "cw_a1", "another-password")


@pytest.fixture
def second_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_another_api_process_refuses_the_token_within_the_cache_ttl(
    client: TestClient, second_client: TestClient, world: World
) -> None:
    worker = world.headers("cw_a1")
    assert second_client.get("/v1/enrollees", headers=worker).status_code == 200  # cached there
    assert client.patch(f"/v1/users/{world.ids['cw_a1']}", json={"active": False},
                        headers=world.headers("admin")).status_code == 200
    deadline = time.monotonic() + VERSION_TTL_S + 1
    while second_client.get("/v1/enrollees", headers=worker).status_code != 401:
        assert time.monotonic() < deadline, "the other process still accepts the token"
        time.sleep(0.1)


def test_an_open_stream_ends_when_its_user_is_deactivated(
    live_server: LiveServer, world: World, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    # Through this process: the next alert is not delivered, the stream ends.
    stream = SseClient(live_server.url, world.token("cw_a1"))
    try:
        assert httpx.patch(f"{live_server.url}/v1/users/{world.ids['cw_a1']}", json={"active": False},
                           headers=world.headers("staff_a")).status_code == 200
        open_alert(db, world.enrollees["a1"])
        stream.thread.join(timeout=5)
        assert not stream.thread.is_alive(), "the stream went on"
        assert stream.alerts(0, timeout=0.1) == []
        assert not [m for m in list(stream.messages.queue) if m.get("event") == "alert"]
    finally:
        stream.close()

    # Elsewhere (another API process, here the database itself): at the next heartbeat past
    # the cache's lifetime, with no alert at all.
    monkeypatch.setattr(stream_module, "HEARTBEAT_S", 0.2)
    quiet = SseClient(live_server.url, world.token("cw_a2"))
    try:
        db.execute("UPDATE users SET token_version = token_version + 1 WHERE id = %s",
                   (world.ids["cw_a2"],))
        quiet.thread.join(timeout=VERSION_TTL_S + 3)
        assert not quiet.thread.is_alive(), "the stream went on"
    finally:
        quiet.close()
