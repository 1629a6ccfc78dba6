"""The caseload page ("My enrollees", issue 14) and the web app's error pages.

The caseload: scoped like the API (a care worker never sees a colleague's enrollee), audited
as a read of health and contact data, searchable by name on the server, sortable; per person
the phone as a tel: link, the newest readings that matter, open alerts, measured today, the
last contact, every time in the enrollee's timezone with its label.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.errors import Forbidden
from api.web.errors import safe_next
from api.web.i18n import translator
from dolbom.timefmt import when
from tests.api.conftest import World, open_alert
from tests.factories import (
    make_contact,
    make_device,
    make_enrollee,
    make_reading,
    set_enrollee_phone,
    set_enrollee_timezone,
)

KO, EN = translator("ko"), translator("en")


class _Text(HTMLParser):
    """The text a person reads (no scripts, styles or attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "\n".join(parser.parts)


# --- error pages under /app (api/web/errors.py): HTML, never the API's JSON


def test_a_bad_path_and_an_unknown_page_are_html_404(client: TestClient, world: World) -> None:
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    for path in ("/app/enrollees/abc", "/app/enrollees/0", "/app/enrollees/99999999999", "/app/nope",
                 "/app/enrollees/1/nope"):
        response = client.get(path + "?lang=en")
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert '<h1 id="message">Not found</h1>' in response.text, path
        assert 'href="/app/worklist"' in response.text  # the menu, to go on
        assert "default-src 'self'" in response.headers["content-security-policy"]
    korean = client.get("/app/nope?lang=ko")
    assert KO["not_found"] in korean.text and korean.headers["cache-control"] == "no-store"
    not_allowed = client.post("/app/region")
    assert not_allowed.status_code == 405 and not_allowed.headers["content-type"].startswith("text/html")
    # The API's answers stay JSON.
    assert client.get("/v1/nope").json() == {"detail": "Not Found"}
    assert client.get("/v1/enrollees/abc", headers=world.headers("cw_a1")).status_code == 422
    assert client.get("/static/nope.js").json() == {"detail": "Not Found"}


def test_a_bad_query_is_an_html_400(client: TestClient, world: World) -> None:
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    response = client.get(f"/app/enrollees/{world.enrollees['a1']}?days=many&lang=en")
    assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
    assert EN["err_bad_request"] in response.text


def test_forbidden_is_an_html_403(client: TestClient, world: World) -> None:
    async def staff_only() -> None:
        raise Forbidden("this needs the center_staff role or higher")

    client.app.add_api_route("/app/test-forbidden", staff_only)  # type: ignore[attr-defined]
    client.app.add_api_route("/v1/test-forbidden", staff_only)  # type: ignore[attr-defined]
    client.cookies.set("dolbom_token", world.token("cw_a1"))
    page = client.get("/app/test-forbidden?lang=en")
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert EN["forbidden"] in page.text and EN["forbidden_hint"] in visible_text(page.text)
    assert client.get("/v1/test-forbidden").json() == {"detail": "this needs the center_staff role or higher"}


def test_a_failure_is_an_html_page_and_stays_json_for_the_api(client: TestClient, world: World) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    async def database_down() -> None:
        raise psycopg.OperationalError("connection refused")

    for prefix in ("/app", "/v1"):
        client.app.add_api_route(f"{prefix}/test-broken", broken)  # type: ignore[attr-defined]
        client.app.add_api_route(f"{prefix}/test-down", database_down)  # type: ignore[attr-defined]
    served = TestClient(client.app, raise_server_exceptions=False)  # type: ignore[arg-type]
    served.cookies.set("dolbom_token", world.token("cw_a1"))
    bug = served.get("/app/test-broken?lang=en")
    assert bug.status_code == 500 and bug.headers["content-type"].startswith("text/html")
    assert EN["err_other"] in bug.text and "a bug" not in bug.text
    down = served.get("/app/test-down?lang=en")
    assert down.status_code == 503 and down.headers["retry-after"] == "5"
    assert EN["err_unavailable"] in down.text
    assert served.get("/v1/test-broken").json() == {"detail": "internal error"}
    assert served.get("/v1/test-down").status_code == 503
    assert "detail" in served.get("/v1/test-down").json()


def test_without_a_login_a_page_goes_to_the_login_and_back(client: TestClient, world: World) -> None:
    for path, location in (
        ("/app", "/app/login"),
        ("/app/region", "/app/login?next=%2Fapp%2Fregion"),
        (f"/app/enrollees/{world.enrollees['a1']}?days=7",
         f"/app/login?next=%2Fapp%2Fenrollees%2F{world.enrollees['a1']}%3Fdays%3D7"),
        ("/app/enrollees/abc", "/app/login?next=%2Fapp%2Fenrollees%2Fabc"),
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == location, path
    client.cookies.set("dolbom_token", world.token("cw_a1") + "x")  # expired or forged: the same
    response = client.get("/app/region", follow_redirects=False)
    assert response.headers["location"] == "/app/login?next=%2Fapp%2Fregion"
    # An unknown page needs no login to say it is unknown (nothing about anyone is in it).
    client.cookies.clear()
    assert client.get("/app/nope").status_code == 404


@pytest.mark.parametrize(("value", "expected"), [
    ("/app", "/app"),
    ("/app/enrollees?q=%EA%B9%80", "/app/enrollees?q=%EA%B9%80"),
    ("/app/worklist?date=2026-11-10&region=3", "/app/worklist?date=2026-11-10&region=3"),
    ("/app/login", None), ("/app/logout", None), ("/application", None), ("/v1/alerts", None),
    ("https://evil.example/app", None), ("//evil.example/app", None), ("/app//evil.example", None),
    ("/app\\..\\evil", None), ("app/enrollees", None), ("/app/x#frag", None), ("/app/\n", None),
    ("javascript:alert(1)", None), ("", None), (None, None), ("/app/" + "x" * 2000, None),
])
def test_safe_next_is_a_local_app_path(value: str | None, expected: str | None) -> None:
    assert safe_next(value) == expected


# --- the caseload (api/web/pages/caseload.py)


SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")


def _row(page: str, enrollee_id: int) -> str:
    """The caseload's row (a card on a phone) of one enrollee."""
    match = re.search(rf'<tr id="enrollee-{enrollee_id}".*?</tr>', page, re.S)
    assert match, f"enrollee {enrollee_id} not listed"
    return match.group(0)


def _listed(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="enrollee-(\d+)"', page)]


def _page(client: TestClient, world: World, handle: str, **params: Any) -> str:
    client.cookies.set("dolbom_token", world.token(handle))
    response = client.get("/app/enrollees", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def _today_at(zone: ZoneInfo, minutes_ago: int = 5) -> datetime:
    """A moment earlier today in ``zone`` (just after midnight if it is not yet that late)."""
    now = datetime.now(UTC)
    midnight = datetime.combine(now.astimezone(zone).date(), time(0, 1), tzinfo=zone)
    return max(now - timedelta(minutes=minutes_ago), midnight)


@pytest.fixture
def glance(world: World, db: psycopg.Connection) -> dict[str, Any]:
    """Enrollee a1: hypertensive and in heart failure, with a cuff (a reading today), a scale
    (a weight three days ago), a wrist band counting steps, two open alerts and a call
    yesterday. a2 (cw_a2's) has a phone too; b1 is another region's."""
    eid = world.enrollees["a1"]
    db.execute("UPDATE enrollees SET conditions = %s, birth_year = 1941, sex = 'F' WHERE id = %s",
               (["hypertension", "heart_failure"], eid))
    set_enrollee_phone(db, eid, "010 1234 5678")
    set_enrollee_phone(db, world.enrollees["a2"], "010-2222-3333")
    cuff, _ = make_device(db, eid, "bp_monitor", device_id="bp-a1")
    scale, _ = make_device(db, eid, "scale", device_id="sc-a1")
    bp_at = _today_at(SEOUL)
    make_reading(db, cuff, "systolic_bp", bp_at, 132)
    make_reading(db, cuff, "diastolic_bp", bp_at, 84)
    make_reading(db, cuff, "systolic_bp", bp_at - timedelta(days=1), 150)  # older: not shown
    weighed = datetime.now(UTC) - timedelta(days=3)
    make_reading(db, scale, "weight", weighed, 64.25)
    band = world.devices["a1"][0]
    make_reading(db, band, "steps", _today_at(SEOUL, 30), 1200)
    make_reading(db, band, "steps", _today_at(SEOUL, 20), 2100)
    make_reading(db, band, "steps", datetime.now(UTC) - timedelta(days=2), 9999)  # not today
    open_alert(db, eid, kind="low_battery", severity="low", summary="battery")
    open_alert(db, eid, kind="fall", severity="critical", summary="fall")
    called = datetime.now(UTC) - timedelta(days=1, hours=2)
    make_contact(db, eid, at=called, user_id=world.ids["cw_a1"], channel="phone")
    return {"eid": eid, "bp_at": bp_at, "weighed": weighed, "called": called}


def test_a_care_worker_sees_her_own_enrollees_at_a_glance(
    client: TestClient, world: World, db: psycopg.Connection, glance: dict[str, Any]
) -> None:
    page = _page(client, world, "cw_a1", lang="ko")
    assert _listed(page) == [glance["eid"]]  # not a2 (a colleague's), not b1 (another region)
    row = _row(page, glance["eid"])
    text = visible_text(row)
    now = datetime.now(UTC)
    assert f'<a class="name" href="/app/enrollees/{glance["eid"]}">Kim a1</a>' in row
    assert 'href="tel:01012345678"' in row and "010 1234 5678" in text  # one tap to call
    assert f"{now.astimezone(SEOUL).year - 1941}세" in text and "여" in text
    assert "132/84" in text and "mmHg" in text
    assert when(glance["bp_at"], SEOUL, "ko", now=now) in text  # "08:15 KST", today: no date
    assert "64.3" in text or "64.2" in text  # one decimal for a weight
    assert when(glance["weighed"], SEOUL, "ko", now=now) in text  # with its date: not today
    assert "3,300" in text  # steps since the local midnight, not the day before yesterday's
    assert KO["cl_measured_yes"] in text
    assert 'class="sev critical"' in row and re.search(r'<b class="n">2</b>', row)
    contact = visible_text(re.search(r'<td class="contact".*?</td>', row, re.S).group(0))  # type: ignore[union-attr]
    assert contact == f"{KO['ch_phone']} ·\n{when(glance['called'], SEOUL, 'ko', now=now)}"
    assert text.index(KO["cl_bp"]) < text.index(KO["m_weight"]) < text.index(KO["cl_steps_today"])
    assert "150" not in text  # only the newest blood pressure
    audit = db.execute("SELECT detail FROM access_audit WHERE action = 'view_caseload' "
                       "AND username = 'cw_a1'").fetchall()
    assert len(audit) == 1
    detail = audit[0][0]
    assert detail["enrollee_ids"] == [glance["eid"]]
    assert set(detail["read"]) == {"phone", "readings", "alerts", "contacts"}


def test_staff_see_their_region_and_an_admin_every_region(
    client: TestClient, world: World, glance: dict[str, Any]
) -> None:
    a1, a2, b1 = (world.enrollees[k] for k in ("a1", "a2", "b1"))
    staff = _page(client, world, "staff_a", lang="en")
    assert sorted(_listed(staff)) == sorted([a1, a2])
    assert "cw_a2" in visible_text(_row(staff, a2))  # whose enrollee it is
    assert sorted(_listed(_page(client, world, "admin"))) == sorted([a1, a2, b1])
    only_b = _page(client, world, "admin", region=world.region_b)
    assert _listed(only_b) == [b1]
    assert f'href="/app/regions/{world.region_b}"' in only_b  # the region's own page
    # Another region's id in the URL changes nothing for centre staff: their scope holds.
    assert sorted(_listed(_page(client, world, "staff_a", region=world.region_b))) == sorted([a1, a2])
    assert _listed(_page(client, world, "cw_a2")) == [a2]


def test_search_by_name_on_the_server(client: TestClient, world: World, db: psycopg.Connection) -> None:
    people = {name: make_enrollee(db, world.region_a, world.ids["cw_a1"], name=name)
              for name in ("김영희", "이영희", "박순자", "Young Park", "100% Kim")}
    def found(q: str) -> set[int]:
        return set(_listed(_page(client, world, "cw_a1", q=q)))

    assert found("영희") == {people["김영희"], people["이영희"]}
    assert found("  김영희 ") == {people["김영희"]}  # trimmed
    assert found("young") == {people["Young Park"]}  # case-insensitive
    assert found("KIM") == {people["100% Kim"], world.enrollees["a1"]}
    assert found("%") == {people["100% Kim"]}  # a % is a percent sign, not a wildcard
    assert found("_") == set()
    empty = _page(client, world, "cw_a1", q="없는사람", lang="ko")
    assert KO["cl_no_match"].format(q="없는사람") in visible_text(empty)
    assert found("Kim a2") == set()  # a colleague's enrollee is never found
    assert client.get("/app/enrollees", params={"q": "x" * 101}).status_code == 400


def test_sorted_by_name_alerts_and_last_contact(client: TestClient, world: World,
                                                db: psycopg.Connection) -> None:
    worker = world.ids["cw_a1"]
    now = datetime.now(UTC)
    ga = make_enrollee(db, world.region_a, worker, name="가나다")
    ha = make_enrollee(db, world.region_a, worker, name="하늘")
    na = make_enrollee(db, world.region_a, worker, name="나무")
    a1 = world.enrollees["a1"]  # "Kim a1": Latin sorts before Hangul
    open_alert(db, ha, kind="fall", severity="critical")
    open_alert(db, na, kind="low_battery", severity="low")
    open_alert(db, na, kind="no_data", severity="medium")
    make_contact(db, ga, at=now - timedelta(days=10))
    make_contact(db, ha, at=now - timedelta(hours=1))
    make_contact(db, na, at=now - timedelta(days=3))
    assert _listed(_page(client, world, "cw_a1")) == [a1, ga, na, ha]
    assert _listed(_page(client, world, "cw_a1", sort="alerts")) == [ha, na, a1, ga]
    assert _listed(_page(client, world, "cw_a1", sort="contact")) == [a1, ga, na, ha]  # never first
    assert _listed(_page(client, world, "cw_a1", sort="bogus")) == [a1, ga, na, ha]
    page = _page(client, world, "cw_a1", sort="alerts", q="나")
    assert 'id="sort-alerts" class="on"' in page
    assert 'href="/app/enrollees?q=%EB%82%98"' in page  # the sort links keep the search


def test_times_in_the_enrollees_zone_with_its_label(client: TestClient, world: World,
                                                    db: psycopg.Connection) -> None:
    eid = world.enrollees["a1"]
    set_enrollee_timezone(db, eid, "America/New_York")
    db.execute("UPDATE enrollees SET conditions = '{diabetes}' WHERE id = %s", (eid,))
    meter, _ = make_device(db, eid, "glucometer")
    measured = datetime.now(UTC) - timedelta(days=2)
    make_reading(db, meter, "glucose", measured, 112)
    called = datetime.now(UTC) - timedelta(minutes=1)
    make_contact(db, eid, at=called, channel="visit")
    text = visible_text(_row(_page(client, world, "cw_a1", lang="en"), eid))
    now = datetime.now(UTC)
    shown = when(measured, NEW_YORK, "en", now=now)
    assert shown in text and re.search(r"\d{2}:\d{2} E[SD]T", shown)
    assert when(called, NEW_YORK, "en", now=now) in text
    assert "112" in text and "mg/dL" in text and EN["cl_measured_no"] in text  # not today (New York)
    assert "KST" not in text and "UTC" not in text


def test_korean_page_has_no_english_and_english_page_no_hangul(
    client: TestClient, world: World, glance: dict[str, Any]
) -> None:
    korean = visible_text(_page(client, world, "staff_a", lang="ko"))
    # What may be Latin on the Korean page: names and usernames, units, zone labels.
    allowed = {"Kim", "a1", "a2", "cw_a1", "cw_a2", "staff_a", "mmHg", "kg", "KST", "English", "mg", "dL"}
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", korean)) - allowed
    assert not words, words
    english = visible_text(_page(client, world, "staff_a", lang="en"))
    assert not re.search(r"[\uac00-\ud7a3]", english.replace("한국어", "")), english


def test_nav_menu_by_role(client: TestClient, world: World) -> None:
    care = _page(client, world, "cw_a1", lang="en")
    menu = re.search(r'<nav class="menu".*?</nav>', care, re.S)
    assert menu and 'href="/app/worklist"' in menu.group(0) and 'href="/app/region"' not in menu.group(0)
    assert 'aria-current="page">My enrollees' in menu.group(0)
    staff = _page(client, world, "staff_a", lang="en")
    assert 'href="/app/region"' in staff
    admin = _page(client, world, "admin", lang="en")
    assert 'href="/app/regions"' in admin
    regions = client.get("/app/regions")
    assert regions.status_code == 200
    for region in (world.region_a, world.region_b):
        assert f'href="/app/regions/{region}"' in regions.text
        assert f'href="/app/worklist?region={region}"' in regions.text
    client.cookies.set("dolbom_token", world.token("staff_a"))
    mine = client.get("/app/regions", follow_redirects=False)
    assert mine.status_code == 303 and mine.headers["location"] == "/app/region"


def test_language_links_keep_the_page_query(client: TestClient, world: World) -> None:
    page = _page(client, world, "cw_a1", q="Kim", sort="alerts")
    assert 'href="?q=Kim&amp;sort=alerts&amp;lang=en"' in page
