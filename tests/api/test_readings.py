"""Readings (raw and bucketed in SQL) and events of one enrollee."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import psycopg
from fastapi.testclient import TestClient

from dolbom.wire import EVENT_CODES, METRIC_BY_NAME
from tests.api.conftest import World
from tests.factories import make_device

HR = METRIC_BY_NAME["heart_rate"].code
SPO2 = METRIC_BY_NAME["spo2"].code
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def _insert(db: psycopg.Connection, device: int, metric: int, points: list[tuple[datetime, float]]) -> None:
    with db.cursor().copy("COPY readings (device, metric, ts, value) FROM STDIN") as copy:
        for ts, value in points:
            copy.write_row((device, metric, ts, value))


def test_buckets_match_the_readings(client: TestClient, world: World, db: psycopg.Connection) -> None:
    eid = world.enrollees["a1"]
    wearable = world.devices["a1"][0]
    second, _ = make_device(db, eid, "wearable", device_id="w-a1-spare")
    points = [(START + timedelta(minutes=7 * i), 60 + (i * 13) % 40) for i in range(600)]
    _insert(db, wearable, HR, points[::2])
    _insert(db, second, HR, points[1::2])
    _insert(db, wearable, SPO2, [(START, 97.0)])
    _insert(db, world.devices["b1"][0], HR, [(START + timedelta(minutes=1), 200.0)])  # someone else

    end = START + timedelta(days=5)
    span = f"from={START.isoformat().replace('+', '%2B')}&to={end.isoformat().replace('+', '%2B')}"
    body = client.get(f"/v1/enrollees/{eid}/readings?metric=heart_rate&bucket=6h&{span}&limit=500",
                      headers=world.headers("cw_a1")).json()
    expected: dict[datetime, list[float]] = defaultdict(list)
    for ts, value in points:
        # Buckets are aligned on local midnight in Asia/Seoul (UTC+9): 6 h buckets start at 15,21,03,09 UTC.
        origin = datetime(2000, 1, 1, 15, 0, tzinfo=UTC) - timedelta(days=1)
        start = origin + ((ts - origin) // timedelta(hours=6)) * timedelta(hours=6)
        expected[start].append(value)
    got = {datetime.fromisoformat(b["bucket_start"]): b for b in body["items"]}
    assert set(got) == set(expected)
    for start, values in expected.items():
        bucket = got[start]
        assert bucket["count"] == len(values)
        assert bucket["min"] == min(values) and bucket["max"] == max(values)
        assert abs(bucket["avg"] - statistics.fmean(values)) < 1e-6
    assert body["next_cursor"] is None

    # Paging through buckets gives the same buckets.
    paged, cursor = [], None
    while True:
        page = client.get(f"/v1/enrollees/{eid}/readings?metric=heart_rate&bucket=6h&{span}&limit=4"
                          + (f"&cursor={cursor}" if cursor else ""), headers=world.headers("cw_a1")).json()
        paged += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert paged == body["items"]


def test_raw_points_page_through_every_reading_once(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    eid = world.enrollees["a1"]
    wearable = world.devices["a1"][0]
    second, _ = make_device(db, eid, "wearable", device_id="w-a1-two")
    stamps = [START + timedelta(minutes=i) for i in range(120)]
    _insert(db, wearable, HR, [(ts, 70.0) for ts in stamps])
    _insert(db, second, HR, [(ts, 71.0) for ts in stamps[::3]])  # same instants on two devices
    _insert(db, wearable, SPO2, [(ts, 96.0) for ts in stamps[:10]])
    span = "from=2026-11-19T00:00:00%2B00:00&to=2026-11-21T00:00:00%2B00:00"
    seen, cursor = [], None
    while True:
        page = client.get(f"/v1/enrollees/{eid}/readings?metric=heart_rate&{span}&limit=37"
                          + (f"&cursor={cursor}" if cursor else ""), headers=world.headers("staff_a")).json()
        seen += [(p["ts"], p["device_id"], p["value"]) for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 120 + 40 and len(set(seen)) == len(seen)
    assert [s[0] for s in seen] == sorted(s[0] for s in seen)
    every = client.get(f"/v1/enrollees/{eid}/readings?{span}&limit=500",
                       headers=world.headers("admin")).json()
    assert {p["metric"] for p in every["items"]} == {"heart_rate", "spo2"}


def test_readings_bad_input_is_422(client: TestClient, world: World) -> None:
    eid = world.enrollees["a1"]
    h = world.headers("cw_a1")
    for query in ("metric=pulse", "metric=heart_rate&bucket=2d", "metric=heart_rate&bucket=0m",
                  "metric=heart_rate&bucket=90s", "bucket=1h", "from=yesterday",
                  "from=2026-11-20T00:00:00%2B00:00&to=2026-11-19T00:00:00%2B00:00",
                  "metric=heart_rate&cursor=eyJ4IjoxfQ"):
        response = client.get(f"/v1/enrollees/{eid}/readings?{query}", headers=h)
        assert response.status_code == 422, (query, response.text)
        assert response.json()["detail"]
    assert client.get("/v1/enrollees/99999/readings", headers=h).status_code == 404
    assert client.get(f"/v1/enrollees/{2**31}/readings", headers=h).status_code == 422


def test_events(client: TestClient, world: World, db: psycopg.Connection) -> None:
    eid = world.enrollees["a1"]
    sensor, _ = make_device(db, eid, "motion_sensor", device_id="pir-a1", room="kitchen")
    for i in range(30):
        db.execute("INSERT INTO events (device, enrollee_id, type, ts, data) VALUES (%s, %s, %s, %s, %s)",
                   (sensor, eid, EVENT_CODES["motion"], START + timedelta(minutes=5 * i), None))
    db.execute("INSERT INTO events (device, enrollee_id, type, ts, data) VALUES (%s, %s, %s, %s, %s)",
               (sensor, eid, EVENT_CODES["checkin"], START, '{"mood": 4, "answered": true}'))
    span = "from=2026-11-19T00:00:00%2B00:00&to=2026-11-21T00:00:00%2B00:00"
    h = world.headers("cw_a1")
    checkins = client.get(f"/v1/enrollees/{eid}/events?type=checkin&{span}", headers=h).json()["items"]
    assert checkins == [{"ts": "2026-11-20T00:00:00Z", "type": "checkin", "device_id": "pir-a1",
                         "data": {"mood": 4, "answered": True}}]
    seen, cursor = 0, None
    while True:
        more = f"&cursor={cursor}" if cursor else ""
        page = client.get(f"/v1/enrollees/{eid}/events?{span}&limit=7{more}", headers=h).json()
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == 31
    assert client.get(f"/v1/enrollees/{eid}/events?type=dance", headers=h).status_code == 422


def test_whole_hour_buckets_come_from_the_hourly_rollup_when_there_is_one(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    """With TimescaleDB, migration 0003 makes ``readings_hourly`` a continuous aggregate; here a
    table with the same columns stands in for it (no extension on plain PostgreSQL)."""
    eid = world.enrollees["a1"]
    wearable = world.devices["a1"][0]
    points = [(START + timedelta(minutes=7 * i), 60 + (i * 13) % 40) for i in range(600)]
    _insert(db, wearable, HR, points)
    db.execute(
        "CREATE TABLE readings_hourly AS SELECT device, metric, date_trunc('hour', ts) AS bucket, "
        "count(*) AS n, min(value) AS vmin, max(value) AS vmax, sum(value::float8) AS vsum "
        "FROM readings GROUP BY 1, 2, 3")
    db.execute("UPDATE job_state SET detail = detail || '{\"rollup\": \"readings_hourly\"}' "
               "WHERE job = 'storage'")

    def get(width: str, start: datetime, end: datetime) -> list[dict[str, object]]:
        span = f"from={start.isoformat().replace('+', '%2B')}&to={end.isoformat().replace('+', '%2B')}"
        response = client.get(f"/v1/enrollees/{eid}/readings?metric=heart_rate&bucket={width}&{span}"
                              "&limit=500", headers=world.headers("cw_a1"))
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    end = START + timedelta(days=4)
    for width, hours in (("6h", 6), ("1d", 24)):
        origin = datetime(1999, 12, 31, 15, 0, tzinfo=UTC)  # local midnight, Asia/Seoul
        expected: dict[datetime, list[float]] = defaultdict(list)
        step = timedelta(hours=hours)
        for ts, value in points:
            if ts < end:
                expected[origin + ((ts - origin) // step) * step].append(value)
        got = {datetime.fromisoformat(str(b["bucket_start"])): b for b in get(width, START, end)}
        assert set(got) == set(expected)
        for bucket_start, values in expected.items():
            bucket = got[bucket_start]
            assert (bucket["count"], bucket["min"], bucket["max"]) == (len(values), min(values), max(values))
            assert abs(float(bucket["avg"]) - statistics.fmean(values)) < 1e-6  # type: ignore[arg-type]

    before = get("6h", START, end)
    db.execute("DELETE FROM readings")
    # Whole hours: still answered, from the rollup. A window off the hour or a width that is not
    # whole hours reads the readings themselves (now gone).
    assert get("6h", START, end) == before and before
    assert get("6h", START + timedelta(minutes=30), end) == []
    assert get("30m", START, end) == []
