"""The scale-out system: the simulator publishes a scenario to one broker, two ``dolbom ingest``
processes share the subscription, two analytics workers score the store at once.

Every reading and event the simulator published (and the broker acknowledged) is stored
exactly once; every injected condition is exactly one alert; and the two workers' alerts are
those of a single worker over a copy of the same store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from psycopg import sql

from analytics.service import run_once
from analytics.shards import N_SHARDS
from device_sim import generate, publish, scenarios
from device_sim.population import build
from device_sim.provision import provision
from dolbom.config import MqttTarget
from dolbom.wire import EVENT_CODES, METRIC_BY_NAME
from tests.analytics.test_workers import Analytics
from tests.analytics.workload import alert_history, assert_each_alert_once
from tests.conftest import ADMIN_URL, Broker, _url_for, free_port
from tests.ingest.conftest import IngestProcess, wait_until

SCENARIO: dict[str, Any] = {
    "scenario": {"name": "scaleout", "timezone": "Asia/Seoul", "history_days": 2, "controls": [8, 9]},
    "group": [
        {"profile": "healthy", "count": 2},
        {"profile": "heart_failure", "count": 2},
        {"profile": "hypertensive", "count": 2},
        {"profile": "diabetic", "count": 2},
        {"profile": "healthy", "count": 2},
    ],
    "injection": [
        # critical: raised by ingest on arrival, updated and escalated by analytics
        {"kind": "sos", "enrollee": 0, "day": 1, "at": "09:00"},
        {"kind": "fall", "enrollee": 1, "day": 1, "at": "15:00"},
        {"kind": "bradycardia", "enrollee": 2, "day": 1, "at": "13:00"},
        {"kind": "hypertensive_crisis", "enrollee": 4, "day": 0, "at": "09:30"},
        {"kind": "hypoglycemia", "enrollee": 6, "day": 0, "at": "11:00"},
        # found by analytics only
        {"kind": "fever", "enrollee": 3, "day": 0, "at": "08:00"},
        {"kind": "night_wandering", "enrollee": 5, "day": 1, "at": "02:40"},
        {"kind": "hyperglycemia", "enrollee": 7, "day": 0, "at": "14:00"},
    ],
}


def _ms(ts: object) -> int:
    if isinstance(ts, int):
        return ts
    return int(datetime.fromisoformat(str(ts)).timestamp() * 1000)


def published_rows(frames: list[tuple[int, str, bytes, int, bool]]) -> tuple[set, set]:
    """The distinct readings (device, metric, ts) and events (device, type, ts) in the frames."""
    readings: set[tuple[str, int, int]] = set()
    events: set[tuple[str, int, int]] = set()
    for _, topic, payload, _, _ in frames:
        parts = topic.split("/")
        if parts[0] == "zigbee2mqtt":
            assert parts[-1] == "availability", topic  # a backlog has no zigbee2mqtt states
            continue
        device, kind = parts[2], parts[3]
        body = orjson.loads(payload)
        items = body if isinstance(body, list) else [body]
        if kind == "reading":
            readings |= {(device, METRIC_BY_NAME[m].code, _ms(i["ts"])) for i in items for m in i["values"]}
        elif kind == "event":
            events |= {(device, EVENT_CODES[i["type"]], _ms(i["ts"])) for i in items}
    return readings, events


@pytest.fixture
def clone_of() -> Iterator[Callable[[str], str]]:
    """Copies of a database (no connection may be open to it while it is copied)."""
    made: list[str] = []

    def clone(url: str) -> str:
        source = url.rsplit("/", 1)[1]
        name = f"{source}_copy"
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(source))
            )
        made.append(name)
        return _url_for(name)

    yield clone
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        for name in made:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _count(url: str, query: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0


def _scrape(port: int, name: str) -> float:
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return sum(float(line.split()[1]) for line in text.splitlines() if line.startswith(name + " "))


def test_two_ingest_and_two_analytics_workers(
    db_url: str, fresh_broker: Broker, tmp_path: Path, clone_of: Callable[[str], str]
) -> None:
    scenario = scenarios.parse(SCENARIO, "scale-out test")
    population = build(scenario, seed=3)
    now = datetime.now(UTC).replace(microsecond=0)
    origin = scenarios.origin_for(now - timedelta(days=2), scenario.timezone)
    ids = provision(db_url, population, enrolled_at=origin - timedelta(days=1))
    truths = scenarios.ground_truth(population, origin, now, origin=origin)
    assert len(truths) == len(SCENARIO["injection"])
    frames = list(generate.frames(population, origin, now, origin=origin, backlog_until=now))
    readings, events = published_rows(frames)

    group = f"g{time.monotonic_ns()}"
    ports = [free_port(), free_port()]
    ingest = [
        IngestProcess(
            db_url,
            fresh_broker.url,
            tmp_path / "ingest",
            DOLBOM_INGEST_SHARED_GROUP=group,
            DOLBOM_INGEST_METRICS_PORT=str(port),
        )
        for port in ports
    ]
    try:
        for process in ingest:
            process.start()
        publisher = publish.Publisher(MqttTarget.parse(fresh_broker.url), client_id="dolbom-sim-scaleout")
        publisher.connect()
        try:
            counts = publish.run(publisher, frames)
        finally:
            publisher.close()
        assert counts.sent == len(frames) and counts.acked == counts.sent and counts.failed == 0
        wait_until(
            lambda: (
                _count(db_url, "SELECT count(*) FROM readings") >= len(readings)
                and _count(db_url, "SELECT count(*) FROM events") >= len(events)
            ),
            180,
            "ingest to store what was published",
        )
        shares = [_scrape(port, "dolbom_ingest_readings_stored_total") for port in ports]
    finally:
        for process in ingest:
            process.stop()
    # exactly once: nothing lost, nothing twice (the counts would be above), nothing quarantined
    assert _count(db_url, "SELECT count(*) FROM readings") == len(readings)
    assert _count(db_url, "SELECT count(*) FROM events") == len(events)
    assert _count(db_url, "SELECT count(*) FROM quarantine") == 0
    assert sum(shares) == len(readings) and all(share > 0 for share in shares), shares

    reference = clone_of(db_url)  # the same store, for a single worker
    moment = datetime.now(UTC)
    workers = [
        Analytics(db_url, tmp_path / f"analytics{i}.log", now=moment, index=i, workers=2) for i in (0, 1)
    ]
    try:
        codes = [w.wait() for w in workers]
    finally:
        for w in workers:
            w.stop()
    assert codes == [0, 0], [w.log()[-3000:] for w in workers]
    run_once(reference, moment)

    with psycopg.connect(db_url, autocommit=True) as conn, psycopg.connect(reference, autocommit=True) as ref:
        assert_each_alert_once(conn)
        alerts = alert_history(conn)
        assert alerts == alert_history(ref)
        found = {(a[0], a[1]): a[2] for a in alerts}
        for truth in truths:
            key = (ids[truth.enrollee], truth.kind)
            assert key in found, f"{truth.kind} of {truth.enrollee} not raised"
            if truth.severity == "critical":
                assert found[key] == "critical", (truth.kind, found[key])
    first, second = (w.shards_with_work() for w in workers)
    assert not first & second and first | second == set(range(N_SHARDS))
