"""The worklist's sentences in Korean and English, in one catalogue (alert kinds' labels come
from ``dolbom.alerts.KIND_LABELS``, alert summaries from ``dolbom.summaries``). Dates and
times are shown in the enrollee's timezone. A key without both languages is a test failure
(tests/api/test_worklist.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo

from api.worklist.models import Lang
from dolbom.alerts import kind_label
from dolbom.summaries import summary

LANGS: Final[tuple[Lang, ...]] = ("ko", "en")
DEFAULT_LANG: Final[Lang] = "ko"

# key: (Korean, English); fields in braces are filled by ``say``.
SENTENCES: Final[dict[str, tuple[str, str]]] = {
    "open_alert": ("{kind} 알림 ({severity}, {status}): {since}부터",
                   "{kind} alert ({severity}, {status}) since {since}"),
    "open_alert_summary": ("{kind} 알림 ({severity}, {status}): {since}부터 — {summary}",
                           "{kind} alert ({severity}, {status}) since {since} — {summary}"),
    "not_measured": ("{metric} 측정 없음: {first}, {last} (마지막 측정 {last_at})",
                     "No {metric} reading on {first} or {last} (last {last_at})"),
    "not_measured_none": ("{metric} 측정 없음: {first}, {last} (최근 {days}일 동안 없음)",
                          "No {metric} reading on {first} or {last} (none in {days} days)"),
    "no_data": ("모든 기기에서 {hours}시간째 자료 없음 (마지막 수신 {last})",
                "No data from any device for {hours} h (last {last})"),
    "follow_up": ("후속 연락 예정일 {day} ({at} {channel} 연락 후)",
                  "Follow-up due {day} (after the {channel} contact of {at})"),
}

METRIC_LABELS: Final[dict[str, tuple[str, str]]] = {
    "systolic_bp": ("혈압", "blood pressure"),
    "glucose": ("혈당", "glucose"),
    "weight": ("체중", "weight"),
}
CHANNEL_LABELS: Final[dict[str, tuple[str, str]]] = {
    "phone": ("전화", "phone"),
    "visit": ("방문", "visit"),
    "message": ("메시지", "message"),
    "speaker": ("스피커", "speaker"),
    "video": ("영상통화", "video call"),
}
SEVERITY_LABELS: Final[dict[str, tuple[str, str]]] = {
    "critical": ("긴급", "critical"),
    "high": ("높음", "high"),
    "medium": ("보통", "medium"),
    "low": ("낮음", "low"),
}
STATUS_LABELS: Final[dict[str, tuple[str, str]]] = {
    "open": ("미확인", "open"),
    "acknowledged": ("확인됨", "acknowledged"),
    "resolved": ("종료", "resolved"),  # on a past day's worklist: resolved since
}
_MONTHS_EN: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if lang == "en" else pair[0]


def label(table: dict[str, tuple[str, str]], key: str, lang: Lang) -> str:
    """``key``'s label in ``lang`` from one of the tables above; an unknown key as it is."""
    pair = table.get(key)
    return _pick(pair, lang) if pair else key


def alert_kind(kind: str, lang: Lang) -> str:
    return kind_label(kind, lang)


def day_text(day: date, lang: Lang, *, near: date) -> str:
    """``12월 10일`` / ``Dec 10``; with the year when it is not ``near``'s."""
    if lang == "en":
        text = f"{_MONTHS_EN[day.month - 1]} {day.day}"
        return text if day.year == near.year else f"{text}, {day.year}"
    text = f"{day.month}월 {day.day}일"
    return text if day.year == near.year else f"{day.year}년 {text}"


def time_text(instant: datetime, zone: tzinfo, lang: Lang, *, near: date) -> str:
    """An instant as the enrollee's local day and time, ``12월 10일 14:05`` / ``Dec 10 14:05``."""
    local = instant.astimezone(zone)
    return f"{day_text(local.date(), lang, near=near)} {local:%H:%M}"


def say(key: str, lang: Lang, **fields: object) -> str:
    return _pick(SENTENCES[key], lang).format(**fields)


def open_alert(alert: Mapping[str, Any], zone: ZoneInfo, lang: Lang, *, near: date,
               now: datetime) -> str:
    """An open alert's sentence: its kind, severity, status and since when, and, when the
    alert comes with its ``evidence`` (and stored ``summary``), what it says in ``lang``
    (``dolbom.summaries``, times in ``zone`` as of ``now``)."""
    opened = alert["opened_at"]
    fields = {"kind": alert_kind(alert["kind"], lang),
              "severity": label(SEVERITY_LABELS, alert["severity"], lang),
              "status": label(STATUS_LABELS, alert["status"], lang),
              "since": time_text(opened if isinstance(opened, datetime) else datetime.fromisoformat(opened),
                                 zone, lang, near=near)}
    if "evidence" not in alert:
        return say("open_alert", lang, **fields)
    said = summary(alert["kind"], alert["severity"], alert["evidence"], lang=lang, zone=zone, now=now,
                   stored=alert.get("summary"))
    return say("open_alert_summary", lang, summary=said, **fields)


def pick_lang(lang: str | None, accept_language: str | None) -> Lang:
    """``lang`` if given, else the first of ko/en in ``Accept-Language`` by its q-values
    (``en-US,en;q=0.9,ko;q=0.8`` → en), else Korean."""
    if lang in LANGS:
        return lang  # type: ignore[return-value]
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((accept_language or "").split(",")[:32]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and (best is None or (-quality, position) < (-best[0], best[1])):
            best = (quality, position, primary)  # type: ignore[assignment]
    return best[2] if best else DEFAULT_LANG
