"""Two API processes on one database behave as one service behind a load balancer: a token
from one works on the other, every alert reaches the streams of both, an action through one is
seen by the other (nothing lives in a process but caches)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest

from dolbom.config import Settings
from tests.api.conftest import PASSWORD, LiveServer, World, open_alert
from tests.api.test_stream import SseClient


@pytest.fixture
def two_servers(settings: Settings) -> Iterator[tuple[LiveServer, LiveServer]]:
    servers = (LiveServer(settings), LiveServer(settings))
    for server in servers:
        server.start()
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_two_api_processes_serve_as_one(
    two_servers: tuple[LiveServer, LiveServer], world: World, db: psycopg.Connection
) -> None:
    a, b = two_servers
    login = httpx.post(f"{a.url}/v1/auth/token", data={"username": "cw_a1", "password": PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert httpx.get(f"{b.url}/v1/enrollees", headers=headers).status_code == 200

    streams = [SseClient(a.url, login.json()["access_token"]), SseClient(b.url, login.json()["access_token"])]
    try:
        alert = open_alert(db, world.enrollees["a1"], kind="fall").alert_id
        seen = [s.alerts(1) for s in streams]
        assert [[x["id"] for x in got] for got in seen] == [[alert], [alert]]
        assert seen[0][0]["event_id"] == seen[1][0]["event_id"]  # the same change id everywhere

        acked = httpx.post(f"{b.url}/v1/alerts/{alert}/acknowledge", json={"note": "calling"},
                           headers=headers)
        assert acked.status_code == 200, acked.text
        changed = streams[0].alerts(1)
        assert [(x["id"], x["status"]) for x in changed] == [(alert, "acknowledged")]
        listed = httpx.get(f"{a.url}/v1/alerts?enrollee_id={world.enrollees['a1']}", headers=headers).json()
        assert [(x["id"], x["status"]) for x in listed["items"]] == [(alert, "acknowledged")]
    finally:
        for stream in streams:
            stream.close()
    # The action was audited once, by the process that served it.
    audited = db.execute(
        "SELECT count(*) FROM access_audit WHERE username = 'cw_a1' AND action = 'acknowledge_alert'"
    ).fetchone()
    assert audited == (1,)


def test_behind_a_trusted_proxy_the_audit_records_the_client_not_the_proxy(
    settings: Settings, world: World, db: psycopg.Connection
) -> None:
    trusted = LiveServer(settings.model_copy(update={"api_forwarded_allow_ips": "127.0.0.1"}))
    untrusted = LiveServer(settings)
    for server in (trusted, untrusted):
        server.start()
    try:
        for server in (trusted, untrusted):
            response = httpx.get(f"{server.url}/v1/enrollees/{world.enrollees['a1']}/readings",
                                 headers={**world.headers("cw_a1"), "X-Forwarded-For": "203.0.113.7"})
            assert response.status_code == 200
    finally:
        for server in (trusted, untrusted):
            server.stop()
    rows = db.execute("SELECT client_addr FROM access_audit WHERE action = 'read_readings' "
                      "ORDER BY id").fetchall()
    assert rows == [("203.0.113.7",), ("127.0.0.1",)]
