"""The alert inbox (issue 14): filters and search in SQL, scoping kept through them, the
resolved history with who did what and the notes, snooze lengths, local times; and in
Chromium at 390×844 a critical alert arriving live, the banner jumping to it and clearing
when someone else takes it, undo within the delay, an action sent when the page is left,
under the CSP. Screenshots of the inbox go to tests/artifacts/ (gitignored)."""

from __future__ import annotations

import re
import time as clock
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from api.web.i18n import translator
from api.web.pages import inbox as inbox_page
from dolbom.timefmt import LocalClock
from tests.api.conftest import PASSWORD, LiveServer, World, open_alert

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SEOUL, LOS_ANGELES = ZoneInfo("Asia/Seoul"), ZoneInfo("America/Los_Angeles")


def _shown(page: httpx.Response) -> list[int]:
    """The alert ids of the page's cards, in their order."""
    assert page.status_code == 200, page.text
    return [int(found) for found in re.findall(r'<li class="alert [^"]*" id="alert-(\d+)"', page.text)]


def _card(page: str, alert_id: int) -> str:
    """One card of a page's list: from its <li> to the next card or the list's end."""
    start = page.index(f'id="alert-{alert_id}"')
    ends = [i for i in (page.find('<li class="alert ', start), page.find("</ul>", start)) if i >= 0]
    return page[start:min(ends)]


def _login(client: TestClient, world: World, handle: str) -> None:
    client.cookies.set("dolbom_token", world.token(handle))


def _resolve(client: TestClient, world: World, handle: str, alert_id: int, note: str,
             outcome: str = "called") -> None:
    answer = client.post(f"/v1/alerts/{alert_id}/resolve", headers=world.headers(handle),
                         json={"note": note, "outcome": outcome})
    assert answer.status_code == 200, answer.text


def test_filters_and_search_are_applied_by_the_server(client: TestClient, world: World,
                                                       db: psycopg.Connection) -> None:
    a1, a2 = world.enrollees["a1"], world.enrollees["a2"]
    db.execute("UPDATE enrollees SET name = '박순자' WHERE id = %s", (a2,))
    sos = open_alert(db, a1, kind="sos", severity="critical").alert_id
    fever = open_alert(db, a1, kind="fever", severity="medium").alert_id
    battery = open_alert(db, a1, kind="low_battery", severity="low").alert_id
    fall = open_alert(db, a2, kind="fall", severity="critical").alert_id
    done = open_alert(db, a1, kind="inactivity", severity="high").alert_id
    _resolve(client, world, "cw_a1", done, "she was at the market")
    client.post(f"/v1/alerts/{fever}/acknowledge", headers=world.headers("cw_a1"), json={})
    _login(client, world, "staff_a")

    assert _shown(client.get("/app")) == [sos, fall, fever, battery]  # critical first, oldest first
    assert _shown(client.get("/app?severity=critical")) == [sos, fall]
    assert _shown(client.get("/app?kind=fever")) == [fever]
    assert _shown(client.get("/app?status=open")) == [sos, fall, battery]
    assert _shown(client.get("/app?status=acknowledged")) == [fever]
    assert _shown(client.get("/app?status=resolved")) == [done]
    assert _shown(client.get(f"/app?enrollee_id={a2}")) == [fall]
    assert _shown(client.get("/app?q=kim")) == [sos, fever, battery]  # part of the name, any case
    assert _shown(client.get("/app?q=%EC%88%9C%EC%9E%90")) == [fall]  # 순자
    assert _shown(client.get("/app?q=%25")) == []  # a % typed is a %, not "anything"
    assert _shown(client.get("/app?q=_")) == []
    assert _shown(client.get("/app?severity=critical&q=KIM+A1")) == [sos]
    assert _shown(client.get("/app?status=resolved&q=%EB%B0%95")) == []  # 박: no resolved alert
    # A value outside the choices is ignored, not refused: a shared link still opens.
    assert _shown(client.get("/app?severity=urgent&kind=bogus&enrollee_id=x1&status=closed")) == \
        [sos, fall, fever, battery]
    assert _shown(client.get(f"/app?enrollee_id={2**40}")) == [sos, fall, fever, battery]
    assert _shown(client.get("/app?enrollee_id=" + "9" * 5000)) == [sos, fall, fever, battery]
    assert _shown(client.get("/app?q=%00K%E2%80%8Bim%0A")) == [sos, fever, battery]  # no NUL reaches SQL
    page = client.get("/app?severity=critical&q=kim")
    assert '<option value="critical" selected>' in page.text  # the form shows what is applied
    assert 'name="q" value="kim"' in page.text
    assert 'href="/app?status=resolved&amp;severity=critical&amp;q=kim"' in page.text  # tabs keep filters

    audit = db.execute("SELECT action, detail FROM access_audit WHERE username = 'staff_a' "
                       "ORDER BY id").fetchall()
    assert {row[0] for row in audit} == {"view_inbox", "view_alert_history"}
    assert audit[1][1] == {"filters": {"severity": "critical"}}
    assert {"severity": "critical", "name": "kim"} in [row[1]["filters"] for row in audit]


def test_filters_never_show_another_care_workers_alert(client: TestClient, world: World,
                                                       db: psycopg.Connection) -> None:
    a1, a2, b1 = world.enrollees["a1"], world.enrollees["a2"], world.enrollees["b1"]
    mine = open_alert(db, a1, kind="sos").alert_id
    colleague = open_alert(db, a2, kind="sos").alert_id
    other_region = open_alert(db, b1, kind="sos").alert_id
    resolved = [open_alert(db, eid, kind="fall").alert_id for eid in (a1, a2, b1)]
    for alert_id, handle in zip(resolved, ("cw_a1", "cw_a2", "cw_b1"), strict=True):
        _resolve(client, world, handle, alert_id, f"note by {handle}")
    _login(client, world, "cw_a1")

    for query in ("", f"?enrollee_id={a2}", f"?enrollee_id={b1}", "?q=Kim", "?q=a2",
                  "?severity=critical", "?kind=sos", "?status=resolved",
                  f"?status=resolved&enrollee_id={a2}", "?status=resolved&q=b1"):
        page = client.get(f"/app{query}")
        shown = set(_shown(page))
        assert not shown & {colleague, other_region, resolved[1], resolved[2]}, query
        assert "Kim a2" not in page.text and "Kim b1" not in page.text, query  # not in the choices either
        assert "note by cw_a2" not in page.text and "note by cw_b1" not in page.text, query
    assert set(_shown(client.get("/app?q=Kim"))) >= {mine}
    assert client.get(f"/app/inbox/alerts/{mine}").status_code == 200
    for alert_id in (colleague, other_region, resolved[1]):
        assert client.get(f"/app/inbox/alerts/{alert_id}").status_code == 404
    _login(client, world, "staff_a")
    assert set(_shown(client.get("/app?severity=critical"))) == {mine, colleague}


def test_resolved_history_shows_who_did_what_and_the_note(
        client: TestClient, world: World, db: psycopg.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    eid = world.enrollees["a1"]
    db.execute("UPDATE users SET display_name = '김간호' WHERE id = %s", (world.ids["cw_a1"],))
    first = open_alert(db, eid, kind="fall", summary="Fall detected by the wrist band").alert_id
    client.post(f"/v1/alerts/{first}/acknowledge", headers=world.headers("cw_a1"),
                json={"note": "calling now"})
    client.post(f"/v1/alerts/{first}/snooze", headers=world.headers("cw_a1"), json={"minutes": 30})
    _resolve(client, world, "staff_a", first, "Visited; bruised knee, no fracture", outcome="visited")
    later = []
    for kind in ("sos", "fever", "inactivity"):
        alert_id = open_alert(db, eid, kind=kind).alert_id
        _resolve(client, world, "cw_a1", alert_id, f"{kind}: all well", outcome="false_alarm")
        later.append(alert_id)
    still_open = open_alert(db, eid, kind="no_data", severity="medium").alert_id

    _login(client, world, "cw_a1")
    page = client.get("/app?status=resolved&lang=en")
    assert _shown(page) == [*reversed(later), first]  # newest first
    assert still_open not in _shown(page)
    card = _card(page.text, first)
    for seen in ("Acknowledged", "김간호", "calling now", "Snoozed", "30 min", "Resolved", "staff_a",
                 "Outcome: Visited", "Visited; bruised knee, no fracture"):
        assert seen in card, seen
    assert card.index("Acknowledged") < card.index("Snoozed") < card.index("Outcome: Visited")
    assert 'class="ack"' not in card and "resolve-open" not in card  # nothing left to do
    ko = client.get("/app?status=resolved&lang=ko").text
    for seen in ("알림 확인", "알림 종료", "결과: 방문함", "결과: 오경보", "종료 이력"):
        assert seen in ko, seen

    # Paginated with the list's cursor, each alert once; a cursor edited by hand: page one.
    monkeypatch.setattr(inbox_page, "HISTORY_PAGE", 3)
    page_one = client.get("/app?status=resolved")
    assert _shown(page_one) == [*reversed(later)]
    older = re.search(r'<a href="(/app\?[^"]+)" id="older"', page_one.text)
    assert older is not None
    page_two = client.get(older.group(1).replace("&amp;", "&"))
    assert _shown(page_two) == [first] and 'id="older"' not in page_two.text
    assert 'id="newest"' in page_two.text
    assert _shown(client.get("/app?status=resolved&cursor=bm90LWEtY3Vyc29y")) == [*reversed(later)]


def test_times_are_the_enrollees_local_time_labelled(client: TestClient, world: World,
                                                     db: psycopg.Connection) -> None:
    eid = world.enrollees["a1"]
    db.execute("UPDATE enrollees SET timezone = 'America/Los_Angeles' WHERE id = %s", (eid,))
    alert_id = open_alert(db, eid, kind="fall").alert_id
    old = datetime.now(UTC) - timedelta(days=3)
    db.execute("UPDATE alerts SET opened_at = %s WHERE id = %s", (old, alert_id))
    _login(client, world, "cw_a1")
    card = client.get(f"/app/inbox/alerts/{alert_id}?lang=en").text
    opened = LocalClock.of("America/Los_Angeles", "en", datetime.now(UTC)).when(old)
    label = old.astimezone(LOS_ANGELES).tzname()
    assert label in ("PST", "PDT") and opened.endswith(label) and opened in card
    assert re.search(rf"Opened <time [^>]*>\d+ \w{{3}} \d\d:\d\d {label}</time>", card)  # not today: the date
    assert "KST" not in card
    ko = client.get(f"/app/inbox/alerts/{alert_id}?lang=ko").text
    assert re.search(rf"발생 <time [^>]*>\d+월 \d+일 \d\d:\d\d {label}</time>", ko)


def test_snooze_lengths() -> None:
    """30 min, 1 h, 4 h, and "until morning": the next 08:00 of the enrollee's zone at least
    30 min ahead, in minutes the API takes (5 to 1440)."""
    text = translator("en")
    at = datetime(2026, 12, 10, 2, 0, tzinfo=SEOUL)  # the middle of the night: this morning
    assert inbox_page.morning_after(SEOUL, at) == datetime(2026, 12, 10, 8, 0, tzinfo=SEOUL)
    choices = inbox_page.snooze_choices(LocalClock.of("Asia/Seoul", "en", at), text, at)
    assert [(c.key, c.minutes) for c in choices] == [
        ("m30", 30), ("m60", 60), ("m240", 240), ("morning", 360)]
    assert choices[-1].label == "Until 08:00 this morning"
    afternoon = datetime(2026, 12, 10, 14, 0, tzinfo=SEOUL)
    morning = inbox_page.snooze_choices(LocalClock.of("Asia/Seoul", "ko", afternoon), translator("ko"),
                                        afternoon)[-1]
    assert (morning.minutes, morning.until, morning.label) == (
        18 * 60, datetime(2026, 12, 11, 8, 0, tzinfo=SEOUL), "내일 아침 08:00까지")
    almost = datetime(2026, 12, 10, 7, 50, tzinfo=SEOUL)  # too close to this morning: tomorrow's,
    assert inbox_page.morning_after(SEOUL, almost) == datetime(2026, 12, 11, 8, 0, tzinfo=SEOUL)
    assert inbox_page.snooze_minutes(inbox_page.morning_after(SEOUL, almost), almost) == 1440  # at most a day
    # In the enrollee's zone, not the server's: 23:00 UTC is 15:00 in Los Angeles, 08:00 in Seoul.
    utc_evening = datetime(2026, 12, 10, 23, 0, tzinfo=UTC)
    la_morning = inbox_page.morning_after(LOS_ANGELES, utc_evening)
    assert la_morning == datetime(2026, 12, 11, 8, 0, tzinfo=LOS_ANGELES)
    assert inbox_page.snooze_minutes(la_morning, utc_evening) == 17 * 60
    # Across the change to summer time, the wall clock's 08:00 (8 March 2026 in Los Angeles).
    saturday = datetime(2026, 3, 7, 20, 0, tzinfo=LOS_ANGELES)
    assert inbox_page.snooze_minutes(inbox_page.morning_after(LOS_ANGELES, saturday), saturday) == 11 * 60
    assert inbox_page.snooze_minutes(at + timedelta(seconds=30), at) == 5


def test_snooze_buttons_are_what_the_api_takes(client: TestClient, world: World,
                                               db: psycopg.Connection) -> None:
    eid = world.enrollees["a1"]
    alert_id = open_alert(db, eid, kind="fever", severity="medium").alert_id
    _login(client, world, "cw_a1")
    card = client.get(f"/app/inbox/alerts/{alert_id}").text
    minutes = [int(m) for m in re.findall(r'class="snooze" data-minutes="(\d+)"', card)]
    assert minutes[:3] == [30, 60, 240] and 5 <= minutes[3] <= 1440 and 'data-until="' in card
    for length in minutes:
        before = datetime.now(UTC)
        snoozed = client.post(f"/v1/alerts/{alert_id}/snooze", headers=world.headers("cw_a1"),
                              json={"minutes": length})
        assert snoozed.status_code == 200, snoozed.text
        until = datetime.fromisoformat(snoozed.json()["snoozed_until"])
        assert abs((until - before) - timedelta(minutes=length)) < timedelta(seconds=5)
    card = client.get(f"/app/inbox/alerts/{alert_id}?lang=en").text
    assert "snoozed" in card.split('"', 2)[1] and "Snoozed until" in card
    assert card.count("act-snooze") == 4


def test_korean_labels(client: TestClient, world: World, db: psycopg.Connection) -> None:
    """Kinds, severities, statuses and outcomes in Korean; only the stored summary is not."""
    eid = world.enrollees["a1"]
    alert_id = open_alert(db, eid, kind="hypertensive_crisis", summary="summary as stored").alert_id
    client.post(f"/v1/alerts/{alert_id}/acknowledge", headers=world.headers("cw_a1"), json={})
    _login(client, world, "cw_a1")
    page = client.get("/app?lang=ko").text
    card = _card(page, alert_id)
    text = re.sub(r"<[^>]+>", " ", card[card.index(">") + 1:])
    for stored in ("summary as stored", "Kim a1", "cw_a1", "KST"):  # data, not the catalogue's words
        text = text.replace(stored, "")
    assert "고혈압 위기" in text and "긴급" in text and "확인됨" in text and "알림 확인" in text
    assert not re.search(r"[A-Za-z]", text), text
    english = translator("en")
    for key in ("snooze_for", "resolve", "search_name", "filters", "inbox_unresolved", "resolved_history"):
        assert english[key] not in page


# --- in Chromium ---------------------------------------------------------------------------

from tests.api.test_browser import CHROMIUM, PageWatch  # noqa: E402

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
TIMEOUT_MS = 15_000


@pytest.fixture
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        pytest.skip("Debian chromium not found (apt-get install chromium)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield instance
        finally:
            instance.close()


def _screens(page: object, name: str) -> None:
    """Full-page screenshots at 1280×900 and 390×844 into tests/artifacts/, each of the page
    loaded at that size (the filters fold on a phone), back at the phone's size after."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    ARTIFACTS.mkdir(exist_ok=True)
    for size, box in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(box)
        page.reload()
        expect(page.locator("#live")).to_have_class("pill on")
        page.screenshot(path=str(ARTIFACTS / f"inbox_{name}_{size}.png"), full_page=True)


def _wait_for(db: psycopg.Connection, query: str, params: tuple[object, ...],
              seconds: float = 10) -> list[tuple[object, ...]]:
    deadline = clock.monotonic() + seconds
    while True:
        rows = db.execute(query, params).fetchall()
        if rows or clock.monotonic() > deadline:
            return rows
        clock.sleep(0.1)


@pytest.mark.browser
@pytest.mark.slow
def test_inbox_on_a_phone(chromium: object, live_server: LiveServer, world: World,
                          db: psycopg.Connection) -> None:
    from playwright.sync_api import Browser, expect

    assert isinstance(chromium, Browser)
    eid = world.enrollees["a1"]
    db.execute("UPDATE users SET display_name = '김간호' WHERE id = %s", (world.ids["cw_a1"],))
    for kind in ("sos", "fall", "hypoglycemia", "low_spo2"):  # four critical alerts waiting: the fold
        open_alert(db, eid, kind=kind, severity="critical", summary=f"{kind} earlier")
    fever = open_alert(db, eid, kind="fever", severity="medium", summary="37.9 °C, usual 36.5").alert_id
    battery = open_alert(db, eid, kind="low_battery", severity="low", summary="Wrist band 12 %").alert_id
    history = open_alert(db, eid, kind="inactivity", severity="high",
                         summary="No motion since 09:10").alert_id
    with httpx.Client(base_url=live_server.url, headers=world.headers("cw_a1")) as api:
        api.post(f"/v1/alerts/{history}/acknowledge", json={"note": "전화 안 받음, 방문 예정"})
        api.post(f"/v1/alerts/{history}/resolve",
                 json={"note": "방문함: 낮잠 중이셨음. 괜찮으심", "outcome": "visited"})

    context = chromium.new_context(viewport=PHONE, locale="ko-KR", has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch = PageWatch(page)
    page.goto(f"{live_server.url}/app/login")
    page.fill("input[name=username]", "cw_a1")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login")
    page.wait_for_url(f"{live_server.url}/app")
    expect(page.locator("#live")).to_have_class("pill on")
    expect(page.locator("li.alert")).to_have_count(6)
    _screens(page, "default")
    watch.assert_clean("inbox")

    # A new critical alert arrives live, below the fold on a phone (four criticals wait before it).
    new = open_alert(db, eid, kind="bradycardia", severity="critical", summary="Heart rate 38/min").alert_id
    card = page.locator(f"#alert-{new}")
    expect(card).to_be_attached()
    expect(page.locator("#banner")).to_be_visible()
    expect(page.locator("#banner")).to_contain_text("서맥")
    assert page.locator("li.alert").nth(4).get_attribute("id") == f"alert-{new}"  # its place in the order
    page.evaluate("window.scrollTo(0, 0)")
    expect(card).not_to_be_in_viewport()
    banner = page.locator("#banner").bounding_box()
    assert banner is not None  # at the bottom, within the thumb's reach
    assert banner["y"] + banner["height"] > PHONE["height"] - 120
    page.screenshot(path=str(ARTIFACTS / "inbox_banner_phone.png"))
    page.click("#banner-go")
    expect(card).to_be_in_viewport()
    # Someone else takes it through the API: the banner clears, the card says so.
    with httpx.Client(base_url=live_server.url, headers=world.headers("staff_a")) as api:
        assert api.post(f"/v1/alerts/{new}/acknowledge", json={"note": "센터에서 전화"}).status_code == 200
    expect(page.locator("#banner")).to_be_hidden()
    expect(card).to_have_class(re.compile(r"\bst-acknowledged\b"))
    expect(card.locator(".trail")).to_contain_text("staff_a")
    watch.assert_clean("live critical")

    # Undo within the delay: nothing is sent.
    fever_card = page.locator(f"#alert-{fever}")
    fever_card.locator("button.ack").click()
    expect(fever_card.locator(".undo-bar")).to_be_visible()
    expect(fever_card.locator(".undo-text")).to_contain_text("초 후 저장")
    expect(fever_card.locator("button.ack")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "inbox_undo_phone.png"))
    fever_card.locator("button.undo").click()
    expect(fever_card.locator(".undo-bar")).to_have_count(0)
    page.wait_for_timeout(6000)
    assert db.execute("SELECT count(*) FROM alert_actions WHERE alert_id = %s AND action = 'acknowledge'",
                      (fever,)).fetchone() == (0,)
    expect(fever_card).to_have_class(re.compile(r"\bst-open\b"))
    # Not undone: sent after the delay.
    fever_card.locator("button.ack").click()
    expect(fever_card).to_have_class("alert sev-medium st-acknowledged", timeout=10_000)
    # A snooze of a chosen length.
    fever_card.locator(".snooze-menu summary").click()
    fever_card.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "inbox_snooze_phone.png"))
    fever_card.locator("button.snooze[data-minutes='240']").click()
    expect(fever_card.locator(".meta .snooze-until")).to_be_visible(timeout=10_000)
    snoozed = db.execute("SELECT snoozed_until - now() FROM alerts WHERE id = %s", (fever,)).fetchone()
    assert snoozed is not None and timedelta(minutes=239) < snoozed[0] <= timedelta(minutes=240)
    watch.assert_clean("undo and snooze")

    # Resolve, then leave the page at once: the action is sent on the way out, and the call
    # is in the contact log.
    battery_card = page.locator(f"#alert-{battery}")
    battery_card.locator("button.resolve-open").click()
    battery_card.locator("textarea[name=note]").fill("통화함: 충전기 꽂아 드리기로")
    battery_card.locator("select[name=outcome]").select_option("called")
    page.screenshot(path=str(ARTIFACTS / "inbox_resolve_phone.png"))
    battery_card.locator("button.resolve-save").click()
    expect(battery_card.locator(".undo-bar")).to_be_visible()
    page.goto(f"{live_server.url}/app?status=resolved")
    assert _wait_for(db, "SELECT 1 FROM alert_actions WHERE alert_id = %s AND action = 'resolve'", (battery,))
    contact = db.execute("SELECT channel, note FROM contacts WHERE alert_id = %s", (battery,)).fetchall()
    assert contact == [("phone", "통화함: 충전기 꽂아 드리기로")]

    # The resolved history: who did what, the outcome, the note.
    page.reload()
    resolved = page.locator(f"#alert-{history}")
    for seen in ("알림 확인", "김간호", "전화 안 받음, 방문 예정", "알림 종료", "결과: 방문함",
                 "낮잠 중이셨음"):
        expect(resolved).to_contain_text(seen)
    expect(page.locator(f"#alert-{battery}")).to_contain_text("충전기")
    _screens(page, "history")
    watch.assert_clean("history")

    # Filtered: an alert outside the filters does not pop in, a new critical one still rings.
    page.goto(f"{live_server.url}/app?severity=critical&kind=sos")
    expect(page.locator("li.alert")).to_have_count(1)
    _screens(page, "filtered")
    quiet = open_alert(db, eid, kind="no_data", severity="medium", summary="No data for 16 h").alert_id
    loud = open_alert(db, eid, kind="tachycardia", severity="critical", summary="Heart rate 142/min").alert_id
    expect(page.locator("#banner")).to_contain_text("빈맥")
    page.wait_for_timeout(1000)
    expect(page.locator(f"#alert-{quiet}")).to_have_count(0)
    expect(page.locator(f"#alert-{loud}")).to_have_count(0)
    expect(page.locator("li.alert")).to_have_count(1)
    page.click("#banner-go")  # not on this filtered page: the whole inbox, at the alert
    page.wait_for_url(re.compile(rf"/app#alert-{loud}$"))
    expect(page.locator(f"#alert-{loud}")).to_be_in_viewport()
    watch.assert_clean("filtered")
    context.close()
