"""One catalogue, two languages (issue 14): in Korean no word of the English catalogue appears
on the inbox, worklist, caseload or enrollee pages, and in English no Hangul.

A region is seeded with alerts of every kind, their evidence as ingest and analytics write it
(tests/dolbom/test_summaries.py builds it with their own code), two enrollees (one in Seoul,
one in Auckland), resolved alerts with a call recorded. Each page is rendered in both
languages and scanned: HTML text nodes, the attributes people read (title, aria-label,
placeholder, alt, a button's value) and the human strings of the pages' JSON data blocks
(what the scripts put on screen). The people's own data (names, usernames, the region's
name, device ids) is taken out first: it is what it is in either language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.alerts.models import Alert, summary_text
from api.alerts.stream import frame
from api.worklist import texts
from dolbom.alerts import AlertKind
from store.alerts import raise_alert
from tests.api.conftest import SECRET
from tests.dolbom.test_summaries import ENGLISH, HANGUL, LATIN_WORD, samples
from tests.factories import make_device, make_enrollee, make_region, make_user, set_enrollee_timezone

READ_ATTRIBUTES = frozenset({"title", "aria-label", "aria-description", "placeholder", "alt", "label"})
BUTTON_TYPES = frozenset({"submit", "button", "reset"})
# Strings of a data block that are codes, not words: identifiers, ISO times, paths.
CODE = re.compile(r"[a-z0-9_.:/+\-]*|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?")
PAGES = ("/app", "/app?status=resolved", "/app/worklist", "/app/enrollees", "/app/enrollees/{seoul}",
         "/app/enrollees/{auckland}")
KOREAN_PAGES = list(PAGES)


class _Visible(HTMLParser):
    """Text a person reads: text nodes (not script or style), the attributes people read, and
    the JSON data blocks' strings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.blocks: list[str] = []
        self._in: str | None = None  # "skip", "json" or None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if value and name in READ_ATTRIBUTES:
                self.parts.append(value)
        if tag == "input" and values.get("type") in BUTTON_TYPES and values.get("value"):
            self.parts.append(str(values["value"]))
        if tag == "script":
            self._in = "json" if values.get("type") == "application/json" else "skip"
        elif tag == "style":
            self._in = "skip"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "json":
            self.blocks.append(data)
        elif self._in is None and data.strip():
            self.parts.append(data.strip())


def _human_strings(value: Any, lang: str, parent: dict[str, Any] | None = None,
                   key: str | None = None) -> Iterator[str]:
    """The strings of a data block a script may put on screen: not codes, not the stored
    English ``summary`` beside its ``summary_text`` (the page shows that one), and of a
    ``summary_text`` only the page's language."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name == "summary" and "summary_text" in value:
                continue
            if name == "summary_text" and isinstance(item, dict):
                yield from _human_strings(item.get(lang), lang, value, name)
                continue
            yield from _human_strings(item, lang, value, name)
    elif isinstance(value, list):
        for item in value:
            yield from _human_strings(item, lang, parent, key)
    elif isinstance(value, str) and not CODE.fullmatch(value):
        yield value


def visible(html: str, lang: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    found = list(parser.parts)
    for block in parser.blocks:
        found.extend(_human_strings(json.loads(block), lang))
    return found


@dataclass
class Region:
    seoul: int
    auckland: int
    token: str
    data: set[str] = field(default_factory=set)  # the people's own words, taken out before a scan


@pytest.fixture
def region(db: psycopg.Connection, settings: Any) -> Region:
    from api.principal import Principal
    from api.security.tokens import issue_token

    region_id = make_region(db, "강북구 보건소 Gangbuk")
    worker = make_user(db, "care_worker", region_id, username="carer_kim")
    seoul = make_enrollee(db, region_id, worker, name="김순자", conditions=["hypertension", "diabetes"])
    auckland = make_enrollee(db, region_id, worker, name="Park Youngsu", conditions=["heart_failure"])
    set_enrollee_timezone(db, auckland, "Pacific/Auckland")
    # the language choice is written in its own language on every page
    data = {"강북구 보건소 Gangbuk", "carer_kim", "김순자", "Park Youngsu", "한국어", "English"}
    for enrollee, prefix in ((seoul, "s"), (auckland, "a")):
        for kind, room in (("ai_speaker", "living"), ("bed_sensor", "bedroom"), ("wearable", None),
                           ("bp_monitor", None), ("door_sensor", "entrance"), ("scale", None)):
            device_id = f"{prefix}{len(data)}"
            make_device(db, enrollee, kind, device_id=device_id, room=room)
            data.add(device_id)
    now = datetime.now(UTC)
    for i, sample in enumerate(samples(now - timedelta(hours=2))):
        with db.transaction():
            raise_alert(db, enrollee_id=(seoul, auckland)[i % 2], kind=sample.kind,
                        severity=sample.severity, summary=sample.summary, evidence=sample.evidence,
                        data_ts=now - timedelta(hours=2), source="analytics")
    token = issue_token(Principal(worker, "carer_kim", "care_worker", region_id), SECRET, 30)
    return Region(seoul, auckland, token, data)


def _resolve_some(client: TestClient, region: Region) -> None:
    """Two alerts resolved with a call (a contact on the timeline, the resolved history)."""
    headers = {"Authorization": f"Bearer {region.token}"}
    alerts = client.get("/v1/alerts", params={"limit": 500}, headers=headers).json()["items"]
    for kind in (AlertKind.FEVER, AlertKind.LOW_BATTERY):
        alert = next(a for a in alerts if a["kind"] == kind)
        answer = client.post(f"/v1/alerts/{alert['id']}/resolve", headers=headers,
                             json={"note": "통화함 called", "outcome": "called"})
        assert answer.status_code == 200, answer.text
    region.data.add("통화함 called")  # a note is what the care worker wrote


def _page(client: TestClient, region: Region, path: str, lang: str) -> list[str] | None:
    url = path.format(seoul=region.seoul, auckland=region.auckland)
    client.cookies.set("dolbom_token", region.token)
    response = client.get(url, params={"lang": lang})
    if response.status_code == 404 and "{" not in path:
        return None  # the page does not exist (yet)
    assert response.status_code == 200, (url, response.status_code)
    text = visible(response.text, lang)
    for data in sorted(region.data, key=len, reverse=True):
        text = [t.replace(data, " ") for t in text]
    return text


@pytest.mark.parametrize("path", KOREAN_PAGES)
def test_korean_pages_hold_no_english_word(client: TestClient, region: Region, path: str) -> None:
    _resolve_some(client, region)
    text = _page(client, region, path, "ko")
    if text is None:
        pytest.skip(f"{path} is not served (the page is not there yet)")
    found = {(word, line) for line in text for word in LATIN_WORD.findall(line) if word.lower() in ENGLISH}
    assert not found, "\n".join(f"{word}: {line}" for word, line in sorted(found)[:30])
    assert any(HANGUL.search(line) for line in text)


@pytest.mark.parametrize("path", PAGES)
def test_english_pages_hold_no_hangul(client: TestClient, region: Region, path: str) -> None:
    _resolve_some(client, region)
    text = _page(client, region, path, "en")
    if text is None:
        pytest.skip(f"{path} is not served (the page is not there yet)")
    found = [line for line in text if HANGUL.search(line)]
    assert not found, found[:20]


def test_the_alert_object_carries_its_summary_in_both_languages(client: TestClient, region: Region) -> None:
    """GET /v1/alerts and the stream's frame: ``summary`` as stored (English, for clients that
    read it) and ``summary_text`` rendered from the evidence, times in the enrollee's zone."""
    headers = {"Authorization": f"Bearer {region.token}"}
    items = client.get("/v1/alerts", params={"limit": 500}, headers=headers).json()["items"]
    assert {item["kind"] for item in items} == set(AlertKind)
    for item in items:
        assert Alert.model_validate(item).summary_text.en == item["summary_text"]["en"]  # the schema's shape
        assert set(item["summary_text"]) == {"ko", "en"}
        assert HANGUL.search(item["summary_text"]["ko"]) and not HANGUL.search(item["summary_text"]["en"])
        assert not {w.lower() for w in LATIN_WORD.findall(item["summary_text"]["ko"])} & ENGLISH
    sos = next(item for item in items if item["kind"] == "sos")
    assert sos["summary"].startswith("SOS from AI speaker (living room)")  # as stored
    assert sos["summary_text"]["ko"].startswith("거실 AI 스피커에서 긴급 호출 (")
    row = {**sos, "opened_at": datetime.fromisoformat(sos["opened_at"])}
    del row["summary_text"]
    message = frame(7, row).decode()
    sent = json.loads(message.split("data: ", 1)[1])
    assert sent["summary_text"] == summary_text(row)
    assert Alert.model_validate(row).summary_text.ko == sent["summary_text"]["ko"]


def test_summary_text_is_in_the_enrollees_zone_when_the_row_names_it() -> None:
    evidence = {"event_type": "sos", "event_ts": "2026-12-03T13:17:00+00:00", "device_kind": "ai_speaker",
                "room": "living"}
    row = {"kind": "sos", "severity": "critical", "evidence": evidence, "summary": "SOS"}
    now = datetime(2026, 12, 3, 14, tzinfo=UTC)
    assert summary_text(row, now)["en"] == "SOS from AI speaker (living room) at 22:17 KST: call or visit now"
    auckland = summary_text({**row, "enrollee_timezone": "Pacific/Auckland"}, now)
    assert auckland["ko"] == "거실 AI 스피커에서 긴급 호출 (02:17 NZDT): 바로 전화하거나 방문하세요"
    later = summary_text({**row, "enrollee_timezone": "Pacific/Auckland"}, now + timedelta(hours=22))
    assert later["en"] == "SOS from AI speaker (living room) at 4 Dec 02:17 NZDT: call or visit now"


def test_the_worklists_open_alert_sentence_says_the_summary_when_given_the_evidence() -> None:
    opened = datetime(2026, 12, 3, 13, 17, tzinfo=UTC)
    alert: dict[str, Any] = {"kind": "sos", "severity": "critical", "status": "open", "opened_at": opened}
    seoul, near = ZoneInfo("Asia/Seoul"), opened.date()
    now = opened + timedelta(minutes=5)
    assert texts.open_alert(alert, seoul, "ko", near=near, now=now) == (
        "응급 호출 알림 (긴급, 미확인): 12월 3일 22:17부터")
    alert["evidence"] = {"event_ts": opened.isoformat(), "device_kind": "ai_speaker", "room": "living"}
    assert texts.open_alert(alert, seoul, "ko", near=near, now=now) == (
        "응급 호출 알림 (긴급, 미확인): 12월 3일 22:17부터 — "
        "거실 AI 스피커에서 긴급 호출 (22:17 KST): 바로 전화하거나 방문하세요")
    assert texts.open_alert(alert, seoul, "en", near=near, now=now).endswith(
        "— SOS from AI speaker (living room) at 22:17 KST: call or visit now")
