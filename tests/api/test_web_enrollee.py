"""The enrollee page (issue 14): the contact card, the timeline, charts, one rule for time.

The enrollee lives in America/New_York: neither the server's zone (UTC) nor the programme's
fallback (Seoul), so a time shown in either would be caught.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.readings.models import ReadingBucket
from api.web.charts import line_chart, nice_scale
from api.web.i18n import translator
from dolbom.timefmt import LocalClock, when, zone_label
from tests.api import test_browser
from tests.api.conftest import PASSWORD, LiveServer, World, open_alert
from tests.api.test_browser import ARTIFACTS, CHROMIUM, TIMEOUT_MS, VIEWPORTS, PageWatch, _seed_history
from tests.factories import make_contact, make_device, make_reading, set_enrollee_timezone

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

browser = test_browser.browser  # the Chromium fixture, shared
NEW_YORK = ZoneInfo("America/New_York")
# A time as the rule writes it: HH:MM, or a span HH:MM–HH:MM, then the zone's label.
LABELLED = re.compile(r"\d{2}:\d{2}(?:–\d{2}:\d{2})? (?P<label>[A-Z]{2,5}|UTC[+-]\d{2}(?::\d{2})?)")
CLOCK = re.compile(r"(?<![\d.])\d{2}:\d{2}(?![\d])")


class _Text(HTMLParser):
    """The text a person reads: element text and SVG <title> tooltips, not scripts or attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


def assert_every_time_labelled(text: str, labels: set[str]) -> None:
    """Every HH:MM of ``text`` belongs to a labelled time, and every label is one of ``labels``."""
    spans = [(m.start(), m.end()) for m in LABELLED.finditer(text)]
    found = {m.group("label") for m in LABELLED.finditer(text)}
    assert found and found <= labels, found
    for m in CLOCK.finditer(text):
        assert any(a <= m.start() < b for a, b in spans), text[max(0, m.start() - 60):m.end() + 20]


@pytest.fixture
def new_yorker(world: World, db: psycopg.Connection) -> dict[str, object]:
    """Enrollee a1 in New York, heart failure and hypertension, with a phone, an address and
    two guardians; 10 days of weights (flat 64.2-64.6 kg, then a 2.5 kg jump), a resolved alert
    with its note, a contact, a fall and a door opened at night."""
    eid = world.enrollees["a1"]
    set_enrollee_timezone(db, eid, "America/New_York")
    db.execute(
        "UPDATE enrollees SET conditions = %s, phone = %s, address = %s, guardians = %s WHERE id = %s",
        (["heart_failure", "hypertension"], "010-1234-5678", "서울시 행복구 돌봄로 12",
         json.dumps([{"name": "이딸", "relation": "딸", "phone": "010 9876 5432"},
                     {"name": "Park Son", "relation": None, "phone": "+82-10-5555-0000"}]), eid))
    now = datetime.now(UTC)
    scale, _ = make_device(db, eid, "scale", device_id="sc-a1")
    door, _ = make_device(db, eid, "door_sensor", device_id="door-a1", room="entrance")
    for day in range(10, 0, -1):
        weight = 64.2 + 0.1 * (day % 5) if day > 1 else 67.1
        make_reading(db, scale, "weight", now - timedelta(days=day, hours=-1), weight)
    alert = open_alert(db, eid, kind="fall", severity="critical", summary="Fall detected by the wrist band")
    opened = now - timedelta(days=2, hours=5)
    evidence = {"event_type": "fall", "event_ts": (opened - timedelta(minutes=1)).isoformat(),
                "device_id": "w-a1", "device_kind": "wearable", "room": None}  # as ingest writes it
    db.execute("UPDATE alerts SET opened_at = %s, evidence = %s WHERE id = %s",
               (opened, json.dumps(evidence), alert.alert_id))
    db.execute("UPDATE alert_actions SET at = %s WHERE alert_id = %s", (opened, alert.alert_id))
    resolved = opened + timedelta(minutes=40)
    db.execute("UPDATE alerts SET status = 'resolved', resolved_at = %s, resolved_by = %s, outcome = 'called'"
               " WHERE id = %s", (resolved, world.ids["cw_a1"], alert.alert_id))
    db.execute("INSERT INTO alert_actions (alert_id, action, user_id, note, outcome, at)"
               " VALUES (%s, 'resolve', %s, %s, 'called', %s)",
               (alert.alert_id, world.ids["cw_a1"], "Called her daughter; she is fine", resolved))
    contacted = now - timedelta(days=1, hours=3)
    make_contact(db, eid, at=contacted, user_id=world.ids["cw_a1"], channel="visit",
                 note="Home visit: swollen ankles, weighed together")
    # A resolution as "visited" writes its contact with that outcome.
    db.execute("UPDATE contacts SET outcome = 'visited' WHERE enrollee_id = %s", (eid,))
    fall_at = now - timedelta(days=3)
    db.execute("INSERT INTO events (device, enrollee_id, type, ts) VALUES (%s, %s, 2, %s)",
               (world.devices["a1"][0], eid, fall_at))
    night = datetime.combine((now.astimezone(NEW_YORK) - timedelta(days=4)).date(),
                             datetime.min.time().replace(hour=2, minute=41), tzinfo=NEW_YORK)
    noon = night.replace(hour=13)  # a door in the day is not a key event
    for at in (night, noon):
        db.execute("INSERT INTO events (device, enrollee_id, type, ts) VALUES (%s, %s, 4, %s)",
                   (door, eid, at))
    seen = now - timedelta(hours=30)
    db.execute("UPDATE devices SET last_seen = %s, battery = 80, online = true WHERE id = %s",
               (seen, world.devices["a1"][0]))
    return {"eid": eid, "opened": opened, "resolved": resolved, "contacted": contacted,
            "fall": fall_at, "night_door": night, "seen": seen, "now": now}


def _page(client: TestClient, world: World, eid: object, lang: str, days: int = 30) -> str:
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    response = client.get(f"/app/enrollees/{eid}?days={days}&lang={lang}")
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_time_is_the_enrollees_with_its_label(
    client: TestClient, world: World, new_yorker: dict, lang: str
) -> None:
    page = _page(client, world, new_yorker["eid"], lang)
    text = visible_text(page)
    assert_every_time_labelled(text, {"EST", "EDT"})
    now = datetime.now(UTC)
    for key in ("opened", "resolved", "contacted", "fall", "night_door", "seen"):
        shown = when(new_yorker[key], NEW_YORK, lang, now=now)
        assert shown in text, (key, shown)
    assert f"America/New_York ({zone_label(NEW_YORK, now)})" in text
    # Seven days: hourly buckets, each with its span and label in the tooltip.
    assert_every_time_labelled(visible_text(_page(client, world, new_yorker["eid"], lang, days=7)),
                               {"EST", "EDT"})


def test_chart_ticks_have_the_decimals_the_range_needs(
    client: TestClient, world: World, new_yorker: dict
) -> None:
    assert nice_scale(64.2, 64.6).ticks == (64.2, 64.3, 64.4, 64.5, 64.6)
    assert nice_scale(120, 180).decimals == 0
    assert nice_scale(36.4, 36.9).decimals == 1
    page = _page(client, world, new_yorker["eid"], "ko")
    weight = re.search(r'data-metric="weight">(.*?)</figure>', page, re.S)
    assert weight is not None
    svg = weight.group(1)
    ticks = re.findall(r'<text class="axis" x="\d+" y="[\d.]+" text-anchor="end">([\d.]+)</text>', svg)
    assert len(ticks) >= 3 and len(set(ticks)) == len(ticks), ticks  # 64.2-67.1 kg: whole kg
    # Date ticks along the x axis: several local days, in Korean's short form.
    days = re.findall(r'text-anchor="middle">(\d{1,2}/\d{1,2})</text>', svg)
    assert len(days) >= 4, days
    # The heart-failure line (ESC) and the jump past it, with a hover text per bucket.
    assert 'class="gain"' in svg and "ESC 2021" in weight.group(1)
    assert 'class="pt over"' in svg
    assert "3일간 2 kg 넘게 증가" in svg
    titles = re.findall(r'class="hit"[^>]*><title>([^<]+)</title>', svg)
    assert len(titles) == 10 and all("kg" in t and "평균" in t for t in titles), titles
    assert "67.1" in titles[-1]


def test_a_flat_weight_chart_reads_decimals() -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    buckets = [ReadingBucket(bucket_start=start + timedelta(days=d), count=1, min=w, avg=w, max=w)
               for d, w in enumerate((64.2, 64.4, 64.6, 64.3))]
    labels = {**translator("ko"), "gain_line": "3일", "gain_over": "초과"}
    clock = LocalClock.of("America/New_York", "ko", start + timedelta(days=4))

    def ticks(gain: float | None) -> list[str]:
        chart = line_chart(buckets, start, start + timedelta(days=4), timedelta(days=1), [], None,
                           labels, clock, "kg", gain_limit=gain, precision=1)
        return re.findall(r'text-anchor="end">([\d.]+)</text>', chart.svg)

    assert ticks(None) == ["64.2", "64.3", "64.4", "64.5", "64.6"]
    # Heart failure: the gain line 2 kg above the lowest of the 3 days before widens the axis.
    assert ticks(2.0) == ["64.0", "64.5", "65.0", "65.5", "66.0", "66.5"]


def test_timeline_shows_contacts_alerts_their_notes_and_key_events(
    client: TestClient, world: World, new_yorker: dict
) -> None:
    text = visible_text(_page(client, world, new_yorker["eid"], "ko"))
    timeline = text[text.index("타임라인"):text.index("하루 활동")]
    for needle in ("연락: 방문", "Home visit: swollen ankles", "방문함", "알림 종료: 낙상",
                   "Called her daughter; she is fine", "전화함", "알림 발생: 낙상", "상태: 종료", "낙상 감지",
                   "밤에 문 열림", "문 열림 감지기 · 현관", "cw_a1"):
        assert needle in timeline, needle
    assert timeline.count("밤에 문 열림") == 1  # the door at 13:00 is not a key event
    # The alert's summary in Korean from its evidence (dolbom.summaries), its time New York's.
    fell = when(new_yorker["opened"] - timedelta(minutes=1), NEW_YORK, "ko", now=datetime.now(UTC))
    assert f"손목 밴드에서 낙상 감지 ({fell}): 바로 전화하거나 방문하세요" in timeline
    assert "Fall detected" not in timeline
    # Newest first: the contact (yesterday) before the resolution (two days ago) before the fall.
    assert timeline.index("Home visit") < timeline.index("Called her daughter") < timeline.index("낙상 감지")


def test_contact_card_shows_phone_and_guardians(client: TestClient, world: World, new_yorker: dict) -> None:
    page = _page(client, world, new_yorker["eid"], "ko")
    assert 'href="tel:010-1234-5678"' in page
    assert 'href="tel:01098765432"' in page and 'href="tel:+82-10-5555-0000"' in page
    text = visible_text(page)
    for needle in ("010-1234-5678", "서울시 행복구 돌봄로 12", "이딸", "(딸)", "Park Son", "010 9876 5432"):
        assert needle in text, needle


def test_korean_page_shows_no_english_labels(client: TestClient, world: World, new_yorker: dict) -> None:
    text = visible_text(_page(client, world, new_yorker["eid"], "ko"))
    for korean in ("심부전", "고혈압", "여", "손목 밴드", "체중계", "문 열림 감지기", "현관", "체중"):
        assert korean in text, korean
    words = set(re.findall(r"[A-Za-z_]+", text))
    english = {"heart_failure", "hypertension", "heart", "failure", "wearable", "scale", "door_sensor",
               "bp_monitor", "entrance", "F", "min", "beats", "Weight", "Average", "Usual", "kind"}
    assert not words & english, words & english
    assert "(분) (" not in text and "수면 시간(분)" not in text


def test_english_page_has_its_own_words(client: TestClient, world: World, new_yorker: dict) -> None:
    text = visible_text(_page(client, world, new_yorker["eid"], "en"))
    for english in ("heart failure", "female", "wrist band", "scale", "Resolved: Fall", "Visit", "Timeline"):
        assert english in text, english
    assert not re.search(r"[\uac00-\ud7a3]", text.replace("서울시 행복구 돌봄로 12", "").replace("이딸", "")
                         .replace("(딸)", "").replace("한국어", ""))


def test_the_page_audit_lists_contacts(client: TestClient, world: World, new_yorker: dict,
                                       db: psycopg.Connection) -> None:
    _page(client, world, new_yorker["eid"], "ko")
    detail = db.execute("SELECT detail FROM access_audit WHERE action = 'view_enrollee_page'"
                        " ORDER BY id DESC LIMIT 1").fetchone()
    assert detail is not None and "contacts" in detail[0]["read"]
    actions = {row[0] for row in db.execute("SELECT action FROM access_audit WHERE username = 'cw_a1'")}
    assert {"read_enrollee", "list_contacts", "view_enrollee_page"} <= actions


def test_a_care_worker_downloads_her_enrollees_summary(
    client: TestClient, world: World, new_yorker: dict, db: psycopg.Connection
) -> None:
    eid = new_yorker["eid"]
    page = _page(client, world, eid, "ko")
    link = re.search(r'id="summary-this_month" href="([^"]+)"', page)
    assert link is not None
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    pdf = client.get(link.group(1))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    assert db.execute("SELECT count(*) FROM access_audit WHERE action = 'read_enrollee_summary'"
                      " AND username = 'cw_a1' AND enrollee_id = %s", (eid,)).fetchone() == (1,)
    client.cookies.set("dolbom_token", world.token("cw_a2"))  # a colleague's enrollee
    assert client.get(link.group(1)).status_code == 404
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    assert client.get(f"/app/enrollees/{eid}/summary.pdf?period=2026-13").status_code == 422


# --- in a real browser -------------------------------------------------------------------

def _size(name: str) -> ViewportSize:
    return {"width": VIEWPORTS[name]["width"], "height": VIEWPORTS[name]["height"]}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not found (apt-get install chromium)")
def test_recording_a_contact_in_the_browser(
    browser: object, live_server: LiveServer, world: World, new_yorker: dict, db: psycopg.Connection
) -> None:
    """A care worker opens her enrollee, records a call, and sees it on the timeline (and
    after a reload, from the server), in Korean, with no CSP violation; screenshots at both
    sizes in tests/artifacts/."""
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    ARTIFACTS.mkdir(exist_ok=True)
    _seed_history(db, world)
    eid = new_yorker["eid"]
    context = browser.new_context(viewport=_size("desktop"), locale="ko-KR", timezone_id="Europe/Berlin")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch = PageWatch(page)
    page.goto(f"{live_server.url}/app/login?lang=ko")
    page.fill("input[name=username]", "cw_a1")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{live_server.url}/app")
    watch.problems.clear()  # the inbox is judged by tests/api/test_browser.py; this page from here

    page.goto(f"{live_server.url}/app/enrollees/{eid}?days=30")
    expect(page.locator("#contact-card a.tel").first).to_have_attribute("href", "tel:010-1234-5678")
    expect(page.locator("figure.chart-box[data-metric=weight] svg .gain")).to_be_attached()
    # Hover a weight bucket: its value shows under the chart.
    hit = page.locator("figure.chart-box[data-metric=weight] rect.hit").last
    hit.hover()
    expect(page.locator("figure.chart-box[data-metric=weight] output.readout")).to_contain_text("kg")
    for size in VIEWPORTS:
        page.set_viewport_size(_size(size))
        page.wait_for_timeout(150)
        page.screenshot(path=str(ARTIFACTS / f"enrollee_ko_{size}.png"), full_page=True)
    page.set_viewport_size(_size("desktop"))

    page.select_option("#contact-channel", "phone")
    page.select_option("#contact-outcome", "reached")
    page.fill("#contact-note", "통화: 발목 부종 줄었음, 내일 체중 다시 재기로")
    follow_up = (datetime.now(UTC).astimezone(NEW_YORK) + timedelta(days=3)).date()
    page.fill("#contact-follow-up", follow_up.isoformat())
    page.click("#contact-save")
    expect(page.locator("#contact-status")).to_have_text("연락 기록을 저장했습니다")
    first = page.locator("#timeline-body tr").first
    expect(first).to_contain_text("연락: 전화")
    expect(first).to_contain_text("통화: 발목 부종 줄었음")
    expect(first).to_contain_text("통화·만남")
    expect(first).to_contain_text("cw_a1")
    # The browser is in Berlin: the time shown is New York's, with its label.
    shown = when(datetime.now(UTC), NEW_YORK, "ko", now=datetime.now(UTC))
    expect(first.locator("td.when")).to_have_text(re.compile(rf"^\d{{2}}:\d{{2}} {shown.split()[-1]}$"))
    clock = LocalClock.of("America/New_York", "ko", datetime.now(UTC))
    expect(first).to_contain_text(f"다음 연락 {clock.day(follow_up)}")
    for size in VIEWPORTS:
        page.set_viewport_size(_size(size))
        page.wait_for_timeout(150)
        page.screenshot(path=str(ARTIFACTS / f"enrollee_contact_recorded_{size}.png"), full_page=True)
    page.set_viewport_size(_size("desktop"))
    browser_row = first.inner_text()

    page.reload()
    first = page.locator("#timeline-body tr").first
    expect(first).to_contain_text("통화: 발목 부종 줄었음")
    assert first.inner_text() == browser_row  # the browser wrote it as the server does
    page.goto(f"{live_server.url}/app/enrollees/{eid}?days=30&lang=en")
    expect(page.locator("#timeline-body tr").first).to_contain_text("Contact: Phone call")
    page.set_viewport_size(_size("phone"))
    page.wait_for_timeout(150)
    page.screenshot(path=str(ARTIFACTS / "enrollee_en_phone.png"), full_page=True)
    watch.assert_clean("enrollee page, contact recorded")
    row = db.execute("SELECT channel, note, outcome, follow_up, user_id FROM contacts"
                     " WHERE enrollee_id = %s ORDER BY id DESC LIMIT 1", (eid,)).fetchone()
    assert row == ("phone", "통화: 발목 부종 줄었음, 내일 체중 다시 재기로", "reached", follow_up,
                   world.ids["cw_a1"])
    context.close()
