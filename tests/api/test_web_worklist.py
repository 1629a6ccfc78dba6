"""Today's worklist page (issue 14): the items of GET /v1/worklist for the caller, highest
priority first, with their reasons in the page's language, the phone as a tel: link and one
tap for "called" / "visited" that records a contact through the API; and, in Chromium, a care
worker's round: find an enrollee on the caseload, see the phone, tap "called" on the worklist.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.web.i18n import translator
from dolbom.timefmt import LocalClock, zone_label
from tests.api import test_browser
from tests.api.conftest import PASSWORD, LiveServer, World, open_alert
from tests.api.test_browser import CHROMIUM, TIMEOUT_MS, VIEWPORTS, PageWatch
from tests.api.test_web_caseload import visible_text
from tests.factories import (
    make_contact,
    make_device,
    make_enrollee,
    make_reading,
    set_device_times,
    set_enrollee_phone,
    set_enrollee_timezone,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page, ViewportSize

browser = test_browser.browser  # the Chromium fixture, shared
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SEOUL = ZoneInfo("Asia/Seoul")
KO, EN = translator("ko"), translator("en")
LONG_AGO = datetime.now(UTC) - timedelta(days=30)


def _hypertensive(db: psycopg.Connection, world: World, name: str, worker: str = "cw_a1",
                  phone: str | None = None) -> tuple[int, int]:
    """A hypertensive enrollee of region A with a cuff provisioned a month ago."""
    enrollee = make_enrollee(db, world.region_a, world.ids[worker], name=name, conditions=["hypertension"])
    cuff, _ = make_device(db, enrollee, "bp_monitor")
    set_device_times(db, cuff, created_at=LONG_AGO)
    if phone:
        set_enrollee_phone(db, enrollee, phone)
    return enrollee, cuff


@pytest.fixture
def day_of_work(world: World, db: psycopg.Connection) -> dict[str, int]:
    """cw_a1's day: 박순자 has not measured her blood pressure for three days, 최영수's
    follow-up is due today, 이말순 measured this morning; cw_a2's 정미자 has not measured either."""
    now = datetime.now(UTC)
    missed, missed_cuff = _hypertensive(db, world, "박순자", phone="010 5555 0101")
    make_reading(db, missed_cuff, "systolic_bp", now - timedelta(days=3), 150)
    measured, measured_cuff = _hypertensive(db, world, "이말순")
    make_reading(db, measured_cuff, "systolic_bp", now - timedelta(minutes=1), 128)
    make_reading(db, measured_cuff, "systolic_bp", now - timedelta(days=1), 131)
    follow = make_enrollee(db, world.region_a, world.ids["cw_a1"], name="최영수")
    set_enrollee_phone(db, follow, "+82-10-7777-0000")
    today = now.astimezone(SEOUL).date()
    make_contact(db, follow, at=now - timedelta(days=3), user_id=world.ids["cw_a1"], channel="visit",
                 follow_up=today)
    colleague, _ = _hypertensive(db, world, "정미자", worker="cw_a2")
    return {"missed": missed, "measured": measured, "follow": follow, "colleague": colleague}


def _items(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li class="work-item[^"]*" id="item-(\d+)"', page)]


def _item(page: str, enrollee_id: int) -> str:
    end = r'</li>\s*(?=<li class="work|</ol>)'
    match = re.search(rf'<li class="work-item[^"]*" id="item-{enrollee_id}".*?{end}', page, re.S)
    assert match, f"enrollee {enrollee_id} not on the worklist"
    return match.group(0)


def _page(client: TestClient, world: World, handle: str, **params: Any) -> str:
    client.cookies.set("dolbom_token", world.token(handle))
    response = client.get("/app/worklist", params=params)
    assert response.status_code == 200, response.text
    return response.text


def test_the_worklist_lists_who_needs_attention_today(
    client: TestClient, world: World, db: psycopg.Connection, day_of_work: dict[str, int]
) -> None:
    page = _page(client, world, "cw_a1", lang="ko")
    listed = _items(page)
    assert set(listed) == {day_of_work["missed"], day_of_work["follow"]}
    assert listed == [day_of_work["follow"], day_of_work["missed"]]  # follow-up (60) before BP (40)
    missed = _item(page, day_of_work["missed"])
    assert "혈압 측정 없음" in visible_text(missed)  # the worklist's own sentence, in Korean
    assert 'href="tel:01055550101"' in missed and "010 5555 0101" in missed
    assert f'href="/app/enrollees/{day_of_work["missed"]}"' in missed
    follow = visible_text(_item(page, day_of_work["follow"]))
    assert "후속 연락 예정일" in follow and "+82-10-7777-0000" in follow
    assert KO["out_called"] in follow and KO["out_visited"] in follow
    english = visible_text(_page(client, world, "cw_a1", lang="en"))
    assert "No blood pressure reading" in english and "Follow-up due" in english
    assert not re.search(r"[\uac00-\ud7a3]", english.replace("한국어", "").replace("박순자", "")
                         .replace("최영수", "")), english
    # Her colleague's enrollee is hers alone, and the other way round.
    assert "정미자" not in page
    assert _items(_page(client, world, "cw_a2")) == [day_of_work["colleague"]]
    assert set(_items(_page(client, world, "staff_a"))) == {
        day_of_work["missed"], day_of_work["follow"], day_of_work["colleague"]}
    trail = db.execute("SELECT action, detail FROM access_audit WHERE username = 'cw_a1' "
                       "ORDER BY id").fetchall()
    actions = [action for action, _ in trail]
    assert actions[:2] == ["read_worklist", "view_worklist_page"]
    assert sorted(trail[1][1]["enrollee_ids"]) == sorted([day_of_work["missed"], day_of_work["follow"]])


def test_the_date_picker_is_the_regions_day_with_its_zone(
    client: TestClient, world: World, day_of_work: dict[str, int]
) -> None:
    now = datetime.now(UTC)
    today = now.astimezone(SEOUL).date()
    page = _page(client, world, "cw_a1", lang="en")
    assert f'<input type="date" id="date" name="date" value="{today.isoformat()}"' in page
    assert f"(Asia/Seoul, {zone_label(SEOUL, now)})" in visible_text(page)
    assert "<h1>Today&#39;s worklist</h1>" in page
    earlier = today - timedelta(days=5)  # before the follow-up was even set
    past = _page(client, world, "cw_a1", date=earlier.isoformat(), lang="en")
    assert day_of_work["follow"] not in _items(past) and day_of_work["missed"] in _items(past)
    assert LocalClock.of("Asia/Seoul", "en", now).day(earlier) in visible_text(past)
    assert 'id="back-today"' in past


def test_a_contact_marks_the_item_done(client: TestClient, world: World, day_of_work: dict[str, int]) -> None:
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    recorded = client.post(f"/v1/enrollees/{day_of_work['missed']}/contacts",
                           json={"channel": "phone", "note": ""}, headers={"origin": "http://testserver"})
    assert recorded.status_code == 201, recorded.text
    called = datetime.fromisoformat(recorded.json()["at"])
    page = _page(client, world, "cw_a1", lang="ko")
    item = _item(page, day_of_work["missed"])
    assert 'class="work-item done"' in item  # still listed (no reading yet), but called today
    assert f"✓ {KO['out_called']} · {called.astimezone(SEOUL):%H:%M} KST" in visible_text(item)
    # A visit on the follow-up day does the follow-up: the item leaves the list.
    visit = client.post(f"/v1/enrollees/{day_of_work['follow']}/contacts",
                        json={"channel": "visit", "note": "괜찮으심"}, headers={"origin": "http://testserver"})
    assert visit.status_code == 201
    assert day_of_work["follow"] not in _items(_page(client, world, "cw_a1"))


def test_an_admin_picks_a_region(client: TestClient, world: World, db: psycopg.Connection,
                                 day_of_work: dict[str, int]) -> None:
    picker = _page(client, world, "admin", lang="en")
    assert EN["wl_pick_region"] in picker
    assert f'href="/app/worklist?region={world.region_a}"' in picker
    assert f'href="/app/worklist?region={world.region_b}"' in picker
    region_a = _page(client, world, "admin", region=world.region_a)
    assert set(_items(region_a)) == {day_of_work["missed"], day_of_work["follow"], day_of_work["colleague"]}
    assert f'<input type="hidden" name="region" value="{world.region_a}">' in region_a
    assert _items(_page(client, world, "admin", region=world.region_b)) == []
    missing = client.get("/app/worklist", params={"region": 99999, "lang": "en"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    # Staff asking for another region get their own (the region is not theirs to pick).
    assert set(_items(_page(client, world, "staff_a", region=world.region_b))) == {
        day_of_work["missed"], day_of_work["follow"], day_of_work["colleague"]}


def test_an_alert_comes_first_and_another_zone_is_named(
    client: TestClient, world: World, db: psycopg.Connection, day_of_work: dict[str, int]
) -> None:
    faraway = make_enrollee(db, world.region_a, world.ids["cw_a1"], name="Lee Abroad")
    set_enrollee_timezone(db, faraway, "America/New_York")
    open_alert(db, faraway, kind="fall", severity="critical", summary="fall")
    page = _page(client, world, "cw_a1", lang="en")
    assert _items(page)[0] == faraway
    item = _item(page, faraway)
    assert 'class="work-item worst-critical"' in item and 'class="sev critical"' in item
    now = datetime.now(UTC)
    assert f"America/New_York ({zone_label(ZoneInfo('America/New_York'), now)})" in visible_text(item)
    assert "Asia/Seoul" not in visible_text(_item(page, day_of_work["missed"]))  # the region's zone


def _size(name: str) -> ViewportSize:
    return {"width": VIEWPORTS[name]["width"], "height": VIEWPORTS[name]["height"]}


def _screens(page: Page, name: str) -> None:
    """Full-page screenshots at 1280×900 and 390×844 into tests/artifacts/ (gitignored)."""
    for size in VIEWPORTS:
        page.set_viewport_size(_size(size))
        page.wait_for_timeout(200)
        page.screenshot(path=str(ARTIFACTS / f"{name}_{size}.png"), full_page=True)
    page.set_viewport_size(_size("desktop"))


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not found (apt-get install chromium)")
def test_a_care_workers_round_in_the_browser(
    browser: object, live_server: LiveServer, world: World, db: psycopg.Connection,
    day_of_work: dict[str, int]
) -> None:
    """Find 박순자 by name on the caseload, see her phone, tap "called" on the worklist: the
    contact is stored (GET /v1/enrollees/{id}/contacts), with no CSP violation."""
    from playwright.sync_api import Browser, expect

    assert isinstance(browser, Browser)
    ARTIFACTS.mkdir(exist_ok=True)
    missed = day_of_work["missed"]
    open_alert(db, day_of_work["follow"], kind="low_battery", severity="low", summary="battery")
    context = browser.new_context(viewport=_size("desktop"), locale="ko-KR", timezone_id="Europe/Berlin")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch = PageWatch(page)
    page.goto(f"{live_server.url}/app/enrollees")  # not logged in: the login, and back after it
    page.wait_for_url(f"{live_server.url}/app/login?next=%2Fapp%2Fenrollees")
    page.fill("input[name=username]", "cw_a1")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{live_server.url}/app/enrollees")  # back where she asked to go
    page.goto(f"{live_server.url}/app")
    watch.problems.clear()  # the inbox is judged by its own tests

    page.click("#nav-enrollees")
    page.wait_for_url(f"{live_server.url}/app/enrollees")
    expect(page.locator("tr.person")).to_have_count(4)  # Kim a1 and her three of day_of_work
    page.fill("#q", "순자")  # narrows as she types ...
    expect(page.locator("tr.person:visible")).to_have_count(1)
    page.press("#q", "Enter")  # ... and the server finds her
    page.wait_for_url(re.compile(r"/app/enrollees\?q=%EC%88%9C%EC%9E%90$"))
    row = page.locator(f"#enrollee-{missed}")
    expect(row).to_contain_text("박순자")
    expect(row.locator("a.tel")).to_have_attribute("href", "tel:01055550101")
    expect(row.locator("a.tel")).to_have_text("010 5555 0101")
    watch.assert_clean("caseload")
    page.click("#show-all")
    expect(page.locator("tr.person")).to_have_count(4)
    _screens(page, "caseload_ko")

    page.click("#nav-worklist")
    page.wait_for_url(f"{live_server.url}/app/worklist")
    item = page.locator(f"#item-{missed}")
    expect(item).to_contain_text("혈압 측정 없음")
    expect(item.locator("a.tel")).to_have_attribute("href", "tel:01055550101")
    _screens(page, "worklist_ko")
    item.locator("details.more summary").click()
    item.locator("textarea[name=note]").fill("통화함: 혈압계 건전지 교체 안내")
    follow_up = (datetime.now(UTC).astimezone(SEOUL) + timedelta(days=2)).date()
    item.locator("input[name=follow_up]").fill(follow_up.isoformat())
    item.locator("button.tap[data-channel=phone]").click()
    expect(item).to_have_class(re.compile(r"\bdone\b"))
    # The browser is in Berlin; the time written is Seoul's, with its label.
    expect(item.locator(".done-note")).to_have_text(re.compile(r"^✓ 전화함 · \d{2}:\d{2} KST$"))
    watch.assert_clean("worklist, called")
    _screens(page, "worklist_ko_called")

    stored = page.request.get(f"{live_server.url}/v1/enrollees/{missed}/contacts")
    assert stored.ok
    contacts = stored.json()["items"]
    assert len(contacts) == 1
    assert contacts[0]["channel"] == "phone" and contacts[0]["username"] == "cw_a1"
    assert contacts[0]["note"] == "통화함: 혈압계 건전지 교체 안내"
    assert contacts[0]["follow_up"] == follow_up.isoformat()
    page.reload()  # from the server now: still done
    expect(page.locator(f"#item-{missed}")).to_have_class(re.compile(r"\bdone\b"))

    page.click("#lang-en")
    expect(page.locator(f"#item-{missed}")).to_contain_text("No blood pressure reading")
    _screens(page, "worklist_en")
    page.goto(f"{live_server.url}/app/enrollees?sort=alerts")
    expect(page.locator("tr.person").first).to_contain_text("최영수")  # her open alert
    _screens(page, "caseload_en")
    watch.assert_clean("english pages")
    page.goto(f"{live_server.url}/app/enrollees/abc")
    expect(page.locator("#message")).to_have_text("Not found")
    _screens(page, "error_404_en")
    watch.assert_clean("404 page", page_status=404)
    actions = [row[0] for row in db.execute(
        "SELECT action FROM access_audit WHERE username = 'cw_a1' ORDER BY id").fetchall()]
    for action in ("view_caseload", "read_worklist", "view_worklist_page", "record_contact", "list_contacts"):
        assert action in actions, (action, actions)
    context.close()
