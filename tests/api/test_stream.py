"""GET /v1/alerts/stream against a live uvicorn: fan-out, scoping, resume, heartbeats."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import httpx
import orjson
import psycopg
import pytest

from api.alerts import stream as stream_module
from tests.api.conftest import LiveServer, World, open_alert

WAIT_S = 10.0


class SseClient:
    """Reads one SSE stream in a thread; events and comments land in ``messages``."""

    def __init__(self, url: str, token: str, last_event_id: int | None = None) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.connected = threading.Event()
        self.headers = {"Authorization": f"Bearer {token}"}
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = str(last_event_id)
        self.client = httpx.Client(timeout=httpx.Timeout(5, read=None))
        self.thread = threading.Thread(target=self._read, args=(url,), daemon=True)
        self.thread.start()
        assert self.connected.wait(WAIT_S), "stream did not connect"

    def _read(self, url: str) -> None:
        try:
            with self.client.stream("GET", url + "/v1/alerts/stream", headers=self.headers) as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                message: dict[str, Any] = {}
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.messages.put({"comment": line[1:].strip()})
                        if "connected" in line:
                            self.connected.set()
                    elif line == "":
                        if message:
                            self.messages.put(message)
                        message = {}
                    else:
                        field, _, value = line.partition(": ")
                        message[field] = value
        except (httpx.HTTPError, RuntimeError):
            pass

    def alerts(self, count: int, timeout: float = WAIT_S) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            try:
                message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if message.get("event") == "alert":
                found.append({**orjson.loads(message["data"]), "event_id": int(message["id"])})
        return found

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def clients() -> Any:
    made: list[SseClient] = []
    yield made
    for client in made:
        client.close()


def test_fan_out_is_scoped_and_matches_the_list(
    live_server: LiveServer, world: World, db: psycopg.Connection, db_url: str, clients: list[SseClient]
) -> None:
    cw = SseClient(live_server.url, world.token("cw_a1"))
    staff = SseClient(live_server.url, world.token("staff_a"))
    admin = SseClient(live_server.url, world.token("admin"))
    clients += [cw, staff, admin]
    mine = open_alert(db, world.enrollees["a1"], kind="fall").alert_id
    colleague = open_alert(db, world.enrollees["a2"], kind="sos").alert_id
    elsewhere = open_alert(db, world.enrollees["b1"], kind="sos").alert_id
    assert [a["id"] for a in admin.alerts(3)] == [mine, colleague, elsewhere]
    assert [a["id"] for a in staff.alerts(2)] == [mine, colleague]
    got = cw.alerts(1)
    assert [a["id"] for a in got] == [mine]
    assert cw.alerts(1, timeout=1.0) == []  # nothing of other enrollees arrives later either
    # The data is the alert object as GET /v1/alerts gives it.
    listed = httpx.get(f"{live_server.url}/v1/alerts?enrollee_id={world.enrollees['a1']}",
                       headers=world.headers("cw_a1")).json()["items"][0]
    event = dict(got[0])
    assert event.pop("event_id") > 0
    assert event == listed
    # One LISTEN connection for the whole process, however many clients.
    with psycopg.connect(db_url, autocommit=True) as conn:
        listeners = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s", (stream_module.LISTENER_NAME,)).fetchone()
    assert listeners == (1,)


def test_event_ids_increase_and_resume_with_last_event_id(
    live_server: LiveServer, world: World, db: psycopg.Connection, clients: list[SseClient]
) -> None:
    first = SseClient(live_server.url, world.token("cw_a1"))
    clients.append(first)
    open_alert(db, world.enrollees["a1"], kind="sos")
    received = first.alerts(1)
    assert len(received) == 1
    last_id = received[0]["event_id"]
    first.close()
    # While disconnected: the alert is acknowledged, another opens, someone else's opens.
    alert_id = received[0]["id"]
    httpx.post(f"{live_server.url}/v1/alerts/{alert_id}/acknowledge", headers=world.headers("cw_a1"), json={})
    second_alert = open_alert(db, world.enrollees["a1"], kind="fall").alert_id
    open_alert(db, world.enrollees["a2"], kind="fall")
    again = SseClient(live_server.url, world.token("cw_a1"), last_event_id=last_id)
    clients.append(again)
    missed = again.alerts(2)
    assert [(a["kind"], a["status"]) for a in missed] == [("sos", "acknowledged"), ("fall", "open")]
    assert missed[1]["enrollee_id"] == world.enrollees["a1"]
    assert last_id < missed[0]["event_id"] < missed[1]["event_id"]
    assert again.alerts(1, timeout=1.0) == []
    # And live ones follow.
    httpx.post(f"{live_server.url}/v1/alerts/{second_alert}/resolve", headers=world.headers("cw_a1"),
               json={"note": "fine"})
    live = again.alerts(1)
    assert [(a["kind"], a["status"]) for a in live] == [("fall", "resolved")]


def test_heartbeats(
    live_server: LiveServer, world: World, monkeypatch: pytest.MonkeyPatch, clients: list[SseClient]
) -> None:
    monkeypatch.setattr(stream_module, "HEARTBEAT_S", 0.2)
    client = SseClient(live_server.url, world.token("cw_a1"))
    clients.append(client)
    deadline = time.monotonic() + WAIT_S
    beats = 0
    while beats < 2 and time.monotonic() < deadline:
        message = client.messages.get(timeout=WAIT_S)
        beats += message.get("comment") == "heartbeat"
    assert beats == 2


def test_bad_last_event_id_is_422(live_server: LiveServer, world: World) -> None:
    response = httpx.get(f"{live_server.url}/v1/alerts/stream",
                         headers={**world.headers("cw_a1"), "Last-Event-ID": "abc"})
    assert response.status_code == 422
    assert httpx.get(f"{live_server.url}/v1/alerts/stream").status_code == 401


def test_listener_reconnects_and_replays_what_it_missed(
    live_server: LiveServer, world: World, db: psycopg.Connection, clients: list[SseClient]
) -> None:
    client = SseClient(live_server.url, world.token("cw_a1"))
    clients.append(client)
    killed = db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND application_name = %s",
                        (stream_module.LISTENER_NAME,)).fetchall()
    assert killed == [(True,)]
    # Opened while the process has no listening connection: replayed from alert_changes.
    alert_id = open_alert(db, world.enrollees["a1"], kind="fall").alert_id
    assert [a["id"] for a in client.alerts(1)] == [alert_id]
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        row = db.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                         "AND application_name = %s", (stream_module.LISTENER_NAME,)).fetchone()
        if row == (1,):
            break
        time.sleep(0.1)
    assert row == (1,)
    second = open_alert(db, world.enrollees["a1"], kind="sos").alert_id
    assert [a["id"] for a in client.alerts(1)] == [second]


def test_listener_survives_an_arbitrary_exception(
    live_server: LiveServer, world: World, db: psycopg.Connection, clients: list[SseClient],
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """A fault injected into the listener (any exception, not a lost connection) is logged,
    open streams end so their clients resume with Last-Event-ID, the listener restarts, and
    the next alert reaches the client live (issue 12)."""
    original = stream_module.AlertHub._on_notify
    injected: list[str] = []

    async def faulty(self: stream_module.AlertHub, payload: str) -> None:
        if not injected:
            injected.append(payload)
            raise RuntimeError("injected fault")
        await original(self, payload)

    monkeypatch.setattr(stream_module.AlertHub, "_on_notify", faulty)
    row = db.execute("SELECT coalesce(max(id), 0) FROM alert_changes").fetchone()
    assert row is not None
    before = int(row[0])
    first = SseClient(live_server.url, world.token("staff_a"))
    clients.append(first)
    failed_on = open_alert(db, world.enrollees["a1"], kind="fall").alert_id
    first.thread.join(WAIT_S)
    assert not first.thread.is_alive(), "the stream was not ended after the listener failed"
    assert injected and any("alert listener failed" in r.getMessage() and r.exc_info
                            for r in caplog.records)
    # /healthz says so while the listener restarts, and recovers
    deadline = time.monotonic() + WAIT_S
    states = set()
    while time.monotonic() < deadline:
        answer = httpx.get(f"{live_server.url}/healthz")
        states.add(answer.status_code)
        if answer.status_code == 200 and 503 in states:
            break
        time.sleep(0.02)
    assert states == {200, 503}, states
    # the client resumes as EventSource does: it gets what it missed, then the live feed
    again = SseClient(live_server.url, world.token("staff_a"), last_event_id=before)
    clients.append(again)
    assert [a["id"] for a in again.alerts(1)] == [failed_on]
    nxt = open_alert(db, world.enrollees["a2"], kind="sos").alert_id
    assert [a["id"] for a in again.alerts(1)] == [nxt]
