"""The web pages show devices offline and low battery by dolbom.rules, in the rules' zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import psycopg
from fastapi.testclient import TestClient

from dolbom.rules import BATTERY_LOW_PCT, DEVICE_OFFLINE_AFTER_S, HOME_ACTIVE_WITHIN_S, WEARABLE_SILENT_H
from tests.api.conftest import World
from tests.factories import make_device

MINUTE = timedelta(minutes=1)


def _set(db: psycopg.Connection, device: int, *, online: bool | None = True,
         status_ago: timedelta | None = None, seen_ago: timedelta | None = MINUTE,
         battery: int | None = 80) -> None:
    now = datetime.now(UTC)
    db.execute("UPDATE devices SET online = %s, status_at = %s, last_seen = %s, battery = %s WHERE id = %s",
               (online, None if status_ago is None else now - status_ago,
                None if seen_ago is None else now - seen_ago, battery, device))


def _offline_table(page: str) -> str:
    tables = page.split("<table>")
    return tables[-1]  # region.html: the devices offline table comes last


def test_region_page_lists_devices_offline_by_the_rule(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    said = timedelta(seconds=DEVICE_OFFLINE_AFTER_S)
    a1_band, a2_band = world.devices["a1"][0], world.devices["a2"][0]
    _set(db, a1_band, online=False, status_ago=said + MINUTE)  # an outage
    _set(db, a2_band, online=False, status_ago=said - MINUTE)  # a reconnect, not yet offline
    # a2's other wearable silent past the line while its hub reports: off the wrist
    silent_band, _ = make_device(db, world.enrollees["a2"], "wearable", device_id="w-a2-silent")
    hub, _ = make_device(db, world.enrollees["a2"], "hub", device_id="hub-a2")
    _set(db, silent_band, seen_ago=timedelta(hours=WEARABLE_SILENT_H) + MINUTE)
    _set(db, hub, seen_ago=timedelta(seconds=HOME_ACTIVE_WITHIN_S) - MINUTE)
    client.cookies.set("dolbom_token", world.token("staff_a"))
    page = client.get(f"/app/regions/{world.region_a}?lang=en")
    assert page.status_code == 200
    offline = _offline_table(page.text)
    assert "w-a1" in offline and "w-a2-silent" in offline
    assert "<td>w-a2</td>" not in offline and "hub-a2" not in offline
    assert re.search(r"Devices offline: <b>2</b>", page.text)
    # The home goes quiet: the silent band is now the person out with it, not offline.
    quiet = timedelta(seconds=HOME_ACTIVE_WITHIN_S) + MINUTE
    _set(db, hub, seen_ago=quiet)
    _set(db, a2_band, online=False, status_ago=said - MINUTE, seen_ago=quiet)
    offline = _offline_table(client.get(f"/app/regions/{world.region_a}?lang=en").text)
    assert "w-a1" in offline and "w-a2-silent" not in offline


def _bad_rows(page: str) -> set[str]:
    return set(re.findall(r'<tr class="bad">\s*<td>([^<]+)</td>', page))


def test_enrollee_page_marks_devices_by_the_rule(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    enrollee = world.enrollees["a1"]
    band = world.devices["a1"][0]
    cuff, _ = make_device(db, enrollee, "bp_monitor", device_id="cuff-a1")
    meter, _ = make_device(db, enrollee, "glucometer", device_id="meter-a1")
    speaker, _ = make_device(db, enrollee, "ai_speaker", device_id="speaker-a1")
    _set(db, band, battery=BATTERY_LOW_PCT)  # at the line: low
    _set(db, cuff, battery=BATTERY_LOW_PCT + 1, seen_ago=timedelta(days=3))  # unused, not offline
    _set(db, meter, online=False, status_ago=timedelta(seconds=DEVICE_OFFLINE_AFTER_S) - MINUTE)
    _set(db, speaker, online=False, status_ago=timedelta(seconds=DEVICE_OFFLINE_AFTER_S) + MINUTE)
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    page = client.get(f"/app/enrollees/{enrollee}")
    assert page.status_code == 200
    assert _bad_rows(page.text) == {"w-a1", "speaker-a1"}


def test_enrollee_page_with_a_timezone_the_system_lacks(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    """dolbom.rules.enrollee_zone: the page's days are Seoul's, like the reports' (it was a 422:
    PostgreSQL refused the zone in the charts' SQL; the heat map's days were UTC's)."""
    enrollee = world.enrollees["a1"]
    band = world.devices["a1"][0]
    db.execute("UPDATE enrollees SET timezone = 'Nowhere/Atlantis' WHERE id = %s", (enrollee,))
    db.execute("INSERT INTO readings (device, metric, ts, value)"
               " SELECT %s, code, now() - interval '2 hours', 70 FROM metrics WHERE name = 'heart_rate'",
               (band,))
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    assert client.get(f"/app/enrollees/{enrollee}?days=7").status_code == 200
