"""The worklist (CONTRACT §5.3): who needs attention on a day and why, in the enrollee's own
local days; scoped by role; validated; audited; its sentences in Korean and English."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.worklist import texts
from api.worklist.service import SEVERITY_WEIGHT, judged
from tests.api.conftest import World, open_alert
from tests.factories import (
    make_contact,
    make_device,
    make_enrollee,
    make_reading,
    set_device_times,
    set_enrollee_timezone,
)

SEOUL = ZoneInfo("Asia/Seoul")
LA = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 11, 10)  # a past day: its worklist is judged at its end, whatever the clock
LONG_AGO = datetime(2026, 10, 1, tzinfo=UTC)


def _local(zone: ZoneInfo, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


def _person(
    db: psycopg.Connection, world: World, *, worker: str = "cw_a1", conditions: Sequence[str] = (),
    timezone: str | None = None, kit: Sequence[str] = (), since: datetime = LONG_AGO,
    region: int | None = None, active: bool = True,
) -> tuple[int, dict[str, int]]:
    """An enrollee of region A (by default) and their kit, provisioned ``since``."""
    enrollee = make_enrollee(db, region or world.region_a, world.ids[worker], conditions=conditions)
    if timezone:
        set_enrollee_timezone(db, enrollee, timezone)
    if not active:
        db.execute("UPDATE enrollees SET active = false WHERE id = %s", (enrollee,))
    devices = {}
    for kind in kit:
        devices[kind] = make_device(db, enrollee, kind)[0]
        set_device_times(db, devices[kind], created_at=since)
    return enrollee, devices


def _worklist(client: TestClient, world: World, handle: str = "staff_a", **params: Any) -> dict[str, Any]:
    response = client.get("/v1/worklist", headers=world.headers(handle), params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _by_enrollee(page: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {item["enrollee_id"]: item for item in page["items"]}


def _codes(item: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in item["reasons"]]


def test_not_measured_on_the_enrollees_own_local_days(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    hypertensive = {"conditions": ["hypertension"], "kit": ["bp_monitor"]}
    missed, missed_kit = _person(db, world, **hypertensive)
    make_reading(db, missed_kit["bp_monitor"], "systolic_bp", _local(SEOUL, 11, 8, 10), 150)
    yesterday, yesterday_kit = _person(db, world, **hypertensive)
    make_reading(db, yesterday_kit["bp_monitor"], "systolic_bp", _local(SEOUL, 11, 9, 8), 140)
    today, today_kit = _person(db, world, **hypertensive)
    make_reading(db, today_kit["bp_monitor"], "systolic_bp", _local(SEOUL, 11, 10, 23, 30), 140)
    other_metric, other_kit = _person(db, world, **hypertensive)
    make_reading(db, other_kit["bp_monitor"], "heart_rate", _local(SEOUL, 11, 9, 8), 70)
    no_cuff, _ = _person(db, world, conditions=["hypertension"], kit=["wearable"])
    new_cuff, _ = _person(db, world, **hypertensive, since=_local(SEOUL, 11, 9, 12))
    inactive, _ = _person(db, world, **hypertensive, active=False)
    never, _ = _person(db, world, conditions=["diabetes", "arthritis"], kit=["glucometer", "bp_monitor"])
    heart, heart_kit = _person(db, world, conditions=["heart_failure", "hypertension"],
                               kit=["scale", "bp_monitor"])
    make_reading(db, heart_kit["bp_monitor"], "systolic_bp", _local(SEOUL, 11, 10, 7), 130)
    # Los Angeles: the person's days are LA days (UTC-8 in November), not Seoul's nor UTC's.
    # 04:00 UTC on the 9th is the 8th at 20:00 there: outside the 9th and 10th (it is inside
    # both Seoul's and UTC's 9th) ...
    la_missed, la_missed_kit = _person(db, world, timezone="America/Los_Angeles", **hypertensive)
    make_reading(db, la_missed_kit["bp_monitor"], "systolic_bp", datetime(2026, 11, 9, 4, tzinfo=UTC), 150)
    # ... and 05:00 UTC on the 11th is still the 10th at 21:00 there (the 11th in Seoul and UTC).
    la_measured, la_measured_kit = _person(db, world, timezone="America/Los_Angeles", **hypertensive)
    make_reading(db, la_measured_kit["bp_monitor"], "systolic_bp", datetime(2026, 11, 11, 5, tzinfo=UTC), 140)

    page = _worklist(client, world, date=DAY.isoformat())
    listed = _by_enrollee(page)
    assert set(listed) == {missed, other_metric, never, heart, la_missed}
    for enrollee in (yesterday, today, no_cuff, new_cuff, inactive, la_measured):
        assert enrollee not in listed
    reason = listed[missed]["reasons"]
    assert reason == [{"code": "not_measured",
                       "text": "혈압 측정 없음: 11월 9일, 11월 10일 (마지막 측정 11월 8일 10:00)",
                       "data": {"metric": "systolic_bp", "last_at": "2026-11-08T01:00:00Z",
                                "days": ["2026-11-09", "2026-11-10"]}}]
    assert listed[missed]["priority"] == 40
    assert [r["data"]["metric"] for r in listed[never]["reasons"]] == ["glucose"]  # no BP need
    assert listed[never]["reasons"][0]["text"] == "혈당 측정 없음: 11월 9일, 11월 10일 (최근 14일 동안 없음)"
    assert [r["data"]["metric"] for r in listed[heart]["reasons"]] == ["weight"]
    la = listed[la_missed]["reasons"][0]
    assert la["data"]["days"] == ["2026-11-09", "2026-11-10"]
    assert la["text"].endswith("(마지막 측정 11월 8일 20:00)")  # her clock, not Seoul's
    english = _by_enrollee(_worklist(client, world, date=DAY.isoformat(), lang="en"))
    assert english[la_missed]["reasons"][0]["text"] == (
        "No blood pressure reading on Nov 9 or Nov 10 (last Nov 8 20:00)")
    assert english[never]["reasons"][0]["text"] == "No glucose reading on Nov 9 or Nov 10 (none in 14 days)"
    # A care worker sees her own enrollees only; here all of them are cw_a1's.
    assert set(_by_enrollee(_worklist(client, world, "cw_a1", date=DAY.isoformat()))) == set(listed)
    assert _worklist(client, world, "cw_a2", date=DAY.isoformat())["items"] == []


def test_a_persons_day_is_never_one_that_has_not_begun_there(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    """The worklist of today in Seoul judges a Los Angeles enrollee on her today (often
    Seoul's yesterday): two of her days, never a day of hers still to come."""
    now = datetime.now(UTC)
    la_today = now.astimezone(LA).date()
    when = judged("America/Los_Angeles", now.astimezone(SEOUL).date(), now)
    assert when.day == la_today and when.live and when.as_of == now
    assert when.day_start == datetime.combine(la_today - timedelta(days=1), datetime.min.time(), LA)
    # measured yesterday, her time: not listed today
    person, kit = _person(db, world, timezone="America/Los_Angeles", conditions=["hypertension"],
                          kit=["bp_monitor"])
    make_reading(db, kit["bp_monitor"], "systolic_bp",
                 datetime.combine(la_today - timedelta(days=1), datetime.min.time(), LA) + timedelta(hours=9),
                 130)
    assert person not in _by_enrollee(_worklist(client, world))
    # a past day's window is that day and the one before, whole
    past = judged("America/Los_Angeles", DAY, now)
    assert (past.day, past.live) == (DAY, False)
    assert past.day_start == datetime(2026, 11, 9, 8, tzinfo=UTC)
    assert past.day_end == past.as_of == datetime(2026, 11, 11, 8, tzinfo=UTC)


def test_open_alerts_by_severity_and_the_languages(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    a1, a2, b1 = (world.enrollees[k] for k in ("a1", "a2", "b1"))
    sos = open_alert(db, a1, kind="sos", severity="critical")
    low = open_alert(db, a2, kind="low_battery", severity="low", summary="battery 12 %")
    high = open_alert(db, a2, kind="inactivity", severity="high", summary="no movement")
    open_alert(db, b1)  # another region
    resolved = open_alert(db, a1, kind="fever", severity="medium", summary="38.2")
    db.execute("UPDATE alerts SET status = 'resolved', resolved_at = now() WHERE id = %s",
               (resolved.alert_id,))
    db.execute("UPDATE alerts SET status = 'acknowledged' WHERE id = %s", (high.alert_id,))

    page = _worklist(client, world)
    assert [item["enrollee_id"] for item in page["items"]] == [a1, a2]
    first, second = page["items"]
    assert first["priority"] == SEVERITY_WEIGHT["critical"]
    assert second["priority"] == SEVERITY_WEIGHT["high"] + SEVERITY_WEIGHT["low"]
    assert _codes(first) == ["open_alert"] and _codes(second) == ["open_alert", "open_alert"]
    assert [r["data"]["alert_id"] for r in second["reasons"]] == [high.alert_id, low.alert_id]  # worst first
    opened = datetime.fromisoformat(first["reasons"][0]["data"]["opened_at"]).astimezone(SEOUL)
    assert first["reasons"][0]["data"] == {
        "alert_id": sos.alert_id, "kind": "sos", "severity": "critical", "status": "open",
        "opened_at": first["reasons"][0]["data"]["opened_at"]}
    korean = first["reasons"][0]["text"]
    assert korean == f"응급 호출 알림 (긴급, 미확인): {opened.month}월 {opened.day}일 {opened:%H:%M}부터"
    assert second["reasons"][0]["text"].startswith("활동 없음 알림 (높음, 확인됨)")
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    english = f"SOS alert (critical, open) since {months[opened.month - 1]} {opened.day} {opened:%H:%M}"
    assert _worklist(client, world, lang="en")["items"][0]["reasons"][0]["text"] == english
    for header in ("en-US,en;q=0.9,ko;q=0.8", "fr-FR, en;q=0.5", "en"):
        response = client.get("/v1/worklist", headers={**world.headers("staff_a"), "Accept-Language": header})
        assert response.json()["items"][0]["reasons"][0]["text"] == english, header
    for header in ("ko-KR,ko;q=0.9,en;q=0.8", "fr", "en;q=0.3, ko", "en;q=0"):
        response = client.get("/v1/worklist", headers={**world.headers("staff_a"), "Accept-Language": header})
        assert response.json()["items"][0]["reasons"][0]["text"] == korean, header
    # ?lang wins over the header
    response = client.get("/v1/worklist", params={"lang": "ko"},
                          headers={**world.headers("staff_a"), "Accept-Language": "en"})
    assert response.json()["items"][0]["reasons"][0]["text"] == korean
    # The enrollee's timezone for the time in the sentence.
    set_enrollee_timezone(db, a1, "America/Los_Angeles")
    there = datetime.fromisoformat(first["reasons"][0]["data"]["opened_at"]).astimezone(LA)
    text = _worklist(client, world, lang="en")["items"][0]["reasons"][0]["text"]
    assert text.endswith(f"{months[there.month - 1]} {there.day} {there:%H:%M}")
    # A past day lists the alerts open then: these opened today, so none were open on DAY.
    assert _worklist(client, world, date=DAY.isoformat())["items"] == []


def test_an_alert_resolved_since_is_on_the_past_days_worklist(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    a1 = world.enrollees["a1"]
    alert = open_alert(db, a1, kind="fall", severity="critical").alert_id
    db.execute("UPDATE alerts SET opened_at = %s, status = 'resolved', resolved_at = %s WHERE id = %s",
               (_local(SEOUL, 11, 10, 9), _local(SEOUL, 11, 12, 9), alert))
    on_day = _by_enrollee(_worklist(client, world, date=DAY.isoformat()))
    assert [r["data"]["alert_id"] for r in on_day[a1]["reasons"]] == [alert]
    assert on_day[a1]["reasons"][0]["data"]["status"] == "resolved"  # as it is now
    assert _worklist(client, world, date="2026-11-09")["items"] == []  # not opened yet
    assert _worklist(client, world, date="2026-11-12")["items"] == []  # resolved that morning
    assert _worklist(client, world)["items"] == []


def test_no_data_from_a_kit_that_reports_on_its_own(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    now = datetime.now(UTC)
    silent, silent_kit = _person(db, world, kit=["wearable", "bp_monitor"])
    set_device_times(db, silent_kit["wearable"], last_seen=now - timedelta(hours=17))
    set_device_times(db, silent_kit["bp_monitor"], last_seen=now - timedelta(hours=30))
    recent, recent_kit = _person(db, world, kit=["motion_sensor"])
    set_device_times(db, recent_kit["motion_sensor"], last_seen=now - timedelta(hours=1))
    cuff_only, cuff_kit = _person(db, world, kit=["bp_monitor"])  # silent between measurements
    set_device_times(db, cuff_kit["bp_monitor"], last_seen=now - timedelta(hours=48))
    alerted, alerted_kit = _person(db, world, kit=["hub"])
    set_device_times(db, alerted_kit["hub"], last_seen=now - timedelta(hours=20))
    open_alert(db, alerted, kind="no_data", severity="medium", summary="no data")
    never_seen, _ = _person(db, world, kit=["wearable"])  # not installed yet: nothing to miss

    listed = _by_enrollee(_worklist(client, world))
    assert set(listed) == {silent, alerted}
    (reason,) = listed[silent]["reasons"]
    assert reason["code"] == "no_data" and reason["data"]["silent_h"] == 17
    last = (now - timedelta(hours=17)).astimezone(SEOUL)
    shown = f"{last.month}월 {last.day}일 {last:%H:%M}"
    assert reason["text"] == f"모든 기기에서 17시간째 자료 없음 (마지막 수신 {shown})"
    assert listed[silent]["priority"] == 80
    assert _codes(listed[alerted]) == ["open_alert"]  # the alert already says it
    assert never_seen not in listed and recent not in listed and cuff_only not in listed
    # Only judged now: a past day's worklist does not know how long a kit was silent then.
    assert _worklist(client, world, date=DAY.isoformat())["items"] == []


def test_follow_up_when_its_day_has_come_until_a_newer_contact(
    client: TestClient, world: World, db: psycopg.Connection
) -> None:
    due, _ = _person(db, world)
    make_contact(db, due, at=_local(SEOUL, 11, 5, 10), follow_up=date(2026, 11, 8), channel="visit")
    rescheduled, _ = _person(db, world)
    make_contact(db, rescheduled, at=_local(SEOUL, 11, 5, 10), follow_up=date(2026, 11, 8))
    make_contact(db, rescheduled, at=_local(SEOUL, 11, 6, 10), follow_up=date(2026, 11, 12))
    early_call, _ = _person(db, world)  # a call before the day does not do the follow-up
    make_contact(db, early_call, at=_local(SEOUL, 11, 5, 10), follow_up=date(2026, 11, 8))
    make_contact(db, early_call, at=_local(SEOUL, 11, 7, 23, 59))

    def listed(day: str) -> dict[int, dict[str, Any]]:
        return _by_enrollee(_worklist(client, world, date=day))

    assert set(listed("2026-11-07")) == set()
    on_day = listed("2026-11-08")
    assert set(on_day) == {due, early_call}
    (reason,) = on_day[due]["reasons"]
    assert reason["code"] == "follow_up" and on_day[due]["priority"] == 60
    assert reason["text"] == "후속 연락 예정일 11월 8일 (11월 5일 10:00 방문 연락 후)"
    assert reason["data"]["follow_up"] == "2026-11-08" and reason["data"]["channel"] == "visit"
    assert set(listed("2026-11-10")) == {due, early_call}
    english = _by_enrollee(_worklist(client, world, date="2026-11-10", lang="en"))
    assert english[due]["reasons"][0]["text"] == (
        "Follow-up due Nov 8 (after the visit contact of Nov 5 10:00)")
    assert set(listed("2026-11-12")) == {due, early_call, rescheduled}
    # A contact on the 9th does it: gone from the 10th, still on the 8th's (it came later).
    make_contact(db, due, at=_local(SEOUL, 11, 9, 15))
    assert due not in listed("2026-11-10") and due in listed("2026-11-08")
    # The same through the API, today: due today, then a call now.
    today = datetime.now(UTC).astimezone(SEOUL).date()
    person, _ = _person(db, world)
    make_contact(db, person, at=datetime.now(UTC) - timedelta(days=2), follow_up=today)
    assert _codes(_by_enrollee(_worklist(client, world))[person]) == ["follow_up"]
    called = client.post(f"/v1/enrollees/{person}/contacts", headers=world.headers("cw_a1"),
                         json={"channel": "phone", "note": "called back"})
    assert called.status_code == 201
    assert person not in _by_enrollee(_worklist(client, world))
    # A later date shows the follow-ups due by then (planning).
    later, _ = _person(db, world)
    make_contact(db, later, at=datetime.now(UTC), follow_up=today + timedelta(days=3))
    assert later not in _by_enrollee(_worklist(client, world))
    ahead = _by_enrollee(_worklist(client, world, date=(today + timedelta(days=3)).isoformat()))
    assert _codes(ahead[later]) == ["follow_up"]


def test_scope_by_role(client: TestClient, world: World, db: psycopg.Connection) -> None:
    for key in ("a1", "a2", "b1"):
        open_alert(db, world.enrollees[key])
    e = world.enrollees

    def ids(handle: str, **params: Any) -> set[int]:
        return set(_by_enrollee(_worklist(client, world, handle, **params)))

    assert ids("cw_a1") == {e["a1"]}
    assert ids("cw_a2") == {e["a2"]}
    assert ids("cw_b1") == {e["b1"]}
    assert ids("staff_a") == {e["a1"], e["a2"]} == ids("staff_a", region_id=world.region_a)
    assert ids("staff_b") == {e["b1"]}
    assert ids("admin", region_id=world.region_a) == {e["a1"], e["a2"]}
    assert ids("admin", region_id=world.region_b) == {e["b1"]}
    assert ids("staff_a", care_worker_id=world.ids["cw_a2"]) == {e["a2"]}
    assert ids("cw_a1", care_worker_id=world.ids["cw_a2"]) == set()
    for handle, params, status in (
        ("admin", {}, 422),  # an admin names the region
        ("admin", {"region_id": 99999}, 404),
        ("staff_a", {"region_id": world.region_b}, 403),
        ("cw_a1", {"region_id": world.region_b}, 403),
    ):
        response = client.get("/v1/worklist", headers=world.headers(handle), params=params)
        assert response.status_code == status, (handle, params, response.text)
        assert response.json()["detail"]
    forged = f"Bearer {world.token('admin')}x"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": forged}):
        response = client.get("/v1/worklist", headers=headers, params={"region_id": world.region_a})
        assert response.status_code == 401 and response.json()["detail"]


def test_validation_is_422(client: TestClient, world: World) -> None:
    for params in ({"date": "2026-13-01"}, {"date": "2026-02-30"}, {"date": "2026-1-1"},
                   {"date": "20261110"}, {"date": "2026-11-10T00:00:00+09:00"}, {"date": "1899-12-31"},
                   {"date": "١٢٣٤-11-10"}, {"date": ""}, {"lang": "fr"}, {"limit": "0"}, {"limit": "501"},
                   {"region_id": "-1"}, {"care_worker_id": "1.0"}, {"cursor": "not-a-cursor"},
                   {"cursor": "eyJpZCI6IDF9"},  # {"id": 1}: another list's cursor
                   {"cursor": "eyJwcmlvcml0eSI6IHRydWUsICJlbnJvbGxlZV9pZCI6IDF9"}):  # priority true
        response = client.get("/v1/worklist", headers=world.headers("staff_a"), params=params)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"]
    for day in ("1900-01-01", "9999-12-31"):
        response = client.get("/v1/worklist", headers=world.headers("staff_a"), params={"date": day})
        assert response.status_code == 200, (day, response.text)


def test_pages_by_priority_then_enrollee(client: TestClient, world: World, db: psycopg.Connection) -> None:
    people = [_person(db, world)[0] for _ in range(5)]
    for enrollee, severity in zip(people, ("low", "critical", "low", "high", "low"), strict=True):
        open_alert(db, enrollee, kind="fever", severity=severity, summary="x")
    expected = [people[1], people[3], people[0], people[2], people[4]]
    seen, cursor = [], None
    while True:
        page = _worklist(client, world, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [item["enrollee_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert [item["enrollee_id"] for item in _worklist(client, world)["items"]] == expected


def test_the_read_is_audited(client: TestClient, world: World, db: psycopg.Connection) -> None:
    _worklist(client, world, "cw_a1", date=DAY.isoformat())
    _worklist(client, world, "admin", region_id=world.region_b)
    rows = db.execute("SELECT username, action, resource, detail FROM access_audit ORDER BY id").fetchall()
    assert rows == [
        ("cw_a1", "read_worklist", "worklist",
         {"region_id": world.region_a, "date": DAY.isoformat(), "care_worker_id": None}),
        ("admin", "read_worklist", "worklist",
         {"region_id": world.region_b, "date": datetime.now(UTC).astimezone(SEOUL).date().isoformat(),
          "care_worker_id": None}),
    ]


def test_the_sentences_have_both_languages() -> None:
    for table in (texts.SENTENCES, texts.METRIC_LABELS, texts.CHANNEL_LABELS, texts.SEVERITY_LABELS,
                  texts.STATUS_LABELS):
        for key, (korean, english) in table.items():
            assert korean.strip() and english.strip() and korean != english, key
    from dolbom.rules import CONDITION_MEASUREMENTS
    from store.contacts import CHANNELS
    assert {metric for metric, _ in CONDITION_MEASUREMENTS.values()} <= set(texts.METRIC_LABELS)
    assert set(CHANNELS) == set(texts.CHANNEL_LABELS)
    assert set(texts.SEVERITY_LABELS) == set(SEVERITY_WEIGHT)


@pytest.mark.parametrize(("lang", "header", "expected"), [
    (None, None, "ko"), ("en", "ko", "en"), (None, "en-GB", "en"), (None, "de, en;q=0.1, ko;q=0.2", "ko"),
    (None, "en;q=bad, ko;q=0.5", "ko"), (None, ",;,q=,", "ko"), (None, "EN", "en"), (None, "*", "ko"),
])
def test_pick_lang(lang: str | None, header: str | None, expected: str) -> None:
    assert texts.pick_lang(lang, header) == expected


def test_day_and_time_texts() -> None:
    near = date(2026, 11, 10)
    assert texts.day_text(date(2026, 1, 2), "ko", near=near) == "1월 2일"
    assert texts.day_text(date(2025, 12, 31), "ko", near=near) == "2025년 12월 31일"
    assert texts.day_text(date(2025, 12, 31), "en", near=near) == "Dec 31, 2025"
    instant = datetime(2026, 11, 9, 4, 5, tzinfo=UTC)
    assert texts.time_text(instant, LA, "en", near=near) == "Nov 8 20:05"
    assert texts.time_text(instant, SEOUL, "ko", near=near) == "11월 9일 13:05"
