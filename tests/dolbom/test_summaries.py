"""dolbom.summaries: every alert kind's one line in Korean and English, from evidence as ingest
and analytics write it (their own pure code builds it here), and never an exception, whatever
the evidence holds (issue 14)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.detectors import clock, trends
from analytics.detectors.features import FEATURES, INDEX
from analytics.detectors.person import PersonHistory, refit_person
from analytics.detectors.vitals import EnrolleeContext, VitalBatch, score_vitals
from analytics.detectors.weight import weight_findings
from api.web.i18n import TEXT
from dolbom.alerts import KIND_LABELS, AlertKind
from dolbom.summaries import fallback, summaries, summary
from dolbom.summaries import words as summary_words
from dolbom.wire import METRIC_BY_NAME
from ingest import critical

AUCKLAND = ZoneInfo("Pacific/Auckland")
SEOUL = ZoneInfo("Asia/Seoul")
# 02:00 on 4 Dec in Auckland (NZDT, UTC+13), 22:00 on 3 Dec in Seoul, 13:00 on 3 Dec in UTC
NOW = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Sample:
    """An alert as a component stores it: kind, severity, evidence, stored English summary."""

    name: str
    kind: AlertKind
    severity: str
    evidence: dict[str, Any]
    summary: str


def _person_days(n: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    usual = {"sleep_minutes": (420, 30), "bed_time_h": (-1.5, 0.4), "first_activity_h": (7, 0.4),
             "last_activity_h": (21.5, 0.4), "steps": (3500, 300), "active_minutes": (280, 40),
             "night_toilet_visits": (1.5, 0.7), "time_out_h": (1.5, 0.7), "checkins_answered": (1, 0.2),
             "mood": (4, 0.4), "longest_gap_h": (2, 0.5), "night_door_opens": (0, 0.1)}
    days = np.column_stack([rng.normal(*usual[name], n) for name in FEATURES])
    visits = INDEX["night_toilet_visits"]
    days[:, visits] = np.round(np.clip(days[:, visits], 0, None))
    return days


def _vital_batch(metric: str, values: list[float], t0: float, step_s: float = 60.0) -> VitalBatch:
    n = len(values)
    return VitalBatch(np.zeros(n, dtype=int), np.full(n, METRIC_BY_NAME[metric].code),
                      t0 + step_s * np.arange(n), np.array(values, dtype=float), np.ones(n, dtype=bool))


def _analytics_vitals(now: datetime) -> Iterator[Sample]:
    t0 = now.timestamp() - 3 * 3600
    cases = [("crisis_single", "systolic_bp", [186.0], 60.0, None),
             ("crisis_confirmed", "systolic_bp", [186.0, 192.0], 300.0, None),
             ("hypo_l2", "glucose", [48.0], 60.0, None), ("hypo_l1", "glucose", [62.0], 60.0, None),
             ("hyper", "glucose", [340.0], 60.0, None), ("spo2", "spo2", [86.0, 87.0], 60.0, None),
             ("brady", "heart_rate", [38.0, 37.0], 60.0, None),
             ("tachy_sustained", "heart_rate", [118.0] * 6, 300.0, None),
             ("fever", "body_temp", [38.4], 60.0, None), ("fever_rise", "body_temp", [37.4], 60.0, 36.1)]
    for name, metric, values, step, usual in cases:
        ctx = EnrolleeContext.defaults(1)
        if usual is not None:  # her own baseline (28 days): the IDSA rise rule applies
            code = METRIC_BY_NAME[metric].code
            ctx.baselines.median[0, code, :] = usual
            ctx.baselines.sigma[0, code, :] = 0.2
            ctx.baselines.days[0, code] = 28
        found, _ = score_vitals(_vital_batch(metric, values, t0, step), ctx)
        assert found, name
        f = found[0]
        yield Sample(f"analytics_{name}", f.kind, f.severity, f.evidence, f.summary)


def _ingest(now: datetime) -> Iterator[Sample]:
    at = now - timedelta(minutes=43)
    for kind, device, room in (("sos", "ai_speaker", "living"), ("fall", "bed_sensor", "bedroom")):
        evidence = critical.event_evidence(kind, at, f"{kind}-1", device, room, {"phrase": "help"})
        yield Sample(f"ingest_{kind}", AlertKind(kind), "critical", evidence,
                     critical.event_summary(kind, device, room, "12:17"))
    readings = [("systolic_bp", 186.0, 1, {"diastolic_bp": 95.0}), ("glucose", 48.0, None, None),
                ("spo2", 86.0, 2, None), ("heart_rate", 38.0, 1, None), ("heart_rate", 150.0, 2, None)]
    for metric, value, repeats, pair in readings:
        found = critical.breaches(metric, at, value, "dev-1", None)
        severity = critical.severity_for(found[0].kind, repeats or 1)
        yield Sample(f"ingest_{found[0].kind}", found[0].kind, severity,
                     critical.reading_evidence(found, repeats, pair),
                     critical.reading_summary(found[0], [], severity, "12:17", pair))


def _clock(now: datetime) -> Iterator[Sample]:
    t = now.timestamp()
    offset = SEOUL.utcoffset(now).total_seconds()  # type: ignore[union-attr]
    one = np.ones(1)
    state = clock.ActivityState(
        enrollee_id=np.array([7]), utc_offset_s=np.array([offset]), has_home_sensors=np.array([True]),
        has_speaker=np.array([True]), has_continuous=np.array([True]), last_data_ts=np.array([t - 600]),
        last_activity_ts=np.array([t - 5 * 3600]), last_door_ts=np.array([np.nan]),
        last_checkin_ts=np.array([t - 3600]), last_answered_ts=np.array([t - 80 * 3600]),
        unanswered_in_row=np.array([3]), wake_h=0 * one, sleep_h=24 * one, gap_p90_h=2.0 * one)
    silent = replace(state, last_data_ts=np.array([t - 20 * 3600]))
    devices = clock.DeviceState(
        enrollee=np.array([0, 0, 0]), device_id=["w-1", "d-1", "m-1"],
        kind=["wearable", "door_sensor", "motion_sensor"], online=np.array([1.0, 0.0, 1.0]),
        status_ts=np.array([t - 7200, t - 7200, t - 60]), battery=np.array([12.0, 4.0, 80.0]),
        last_ts=np.array([t - 8 * 3600, t - 7200, t - 60]))
    found = [*clock.inactivity(state, t)[0], *clock.no_data(silent, t)[0],
             *clock.missed_checkins(state, t)[0], *clock.devices(devices, state, t)[0],
             *clock.devices(devices, state, t)[1]]
    # night doors at 02:41 and 03:12 Seoul time, the last night before ``now`` (awake all day:
    # inactivity fires whenever ``now`` is)
    local = now.astimezone(SEOUL)
    day = local.date() if local.hour >= 4 else local.date() - timedelta(days=1)
    night = datetime(day.year, day.month, day.day, 2, 41, tzinfo=SEOUL).timestamp()
    doors = np.array([night, night + 31 * 60])
    found += clock.night_wandering(np.array([7, 7]), doors, np.full(2, offset), np.full(2, 0.05),
                                   np.full(2, 28))
    for f in found:
        yield Sample(f"clock_{f.kind}", f.kind, f.severity, f.evidence, f.summary)


def _nightly(now: datetime) -> Iterator[Sample]:
    days = _person_days(40)
    days[-2:, INDEX["night_toilet_visits"]] = 8
    days[-14:, INDEX["steps"]] = np.linspace(3000, 1200, 14)
    day_number = now.timestamp() / 86400.0 - 1
    weight_days = day_number + np.array([-3.0, -2.0, -1.0, 0.5])
    sbp_days = day_number - np.arange(28.0)[::-1]
    history = PersonHistory(days, weight_days, np.array([64.2, 64.4, 64.3, 66.9]),
                            sbp_days, 130 + 0.8 * np.arange(28.0))
    _, found, _ = refit_person(history, day_number)
    yesterday = (now.astimezone(SEOUL) - timedelta(days=1)).date().isoformat()
    for p in found:
        yield Sample(f"nightly_{p.kind}", p.kind, p.severity, {**p.evidence, "day": yesterday}, p.summary)
    for f in weight_findings(7, weight_days, np.array([64.2, 64.4, 64.3, 66.9]),
                             (day_number + 0.5) * 86400.0, 2.0):
        yield Sample("minute_rapid_weight_gain", f.kind, f.severity, f.evidence, f.summary)
    verdict = trends.weight_gain(weight_days, np.array([64.2, 64.4, 64.3, 66.9]), day_number + 1, 2.0)
    text, evidence, _ = trends.weight_finding(verdict, 2.0)
    yield Sample("nightly_weight_today", AlertKind.RAPID_WEIGHT_GAIN, "medium",
                 {**evidence, "day": now.astimezone(SEOUL).date().isoformat()}, text)


def samples(now: datetime = NOW) -> list[Sample]:
    """Alerts of every kind as ingest and analytics write them, as of ``now`` (Seoul times).
    tests/api/test_web_languages.py seeds its pages with these."""
    found = [*_ingest(now), *_analytics_vitals(now), *_clock(now), *_nightly(now)]
    return found


SAMPLES = samples()


def english_words() -> set[str]:
    """Every word the English side of the catalogues has and the Korean side does not
    (shared ones, "AI", "mmHg", "NEWS2", "KST", are in both): a Korean text holds none."""
    english: list[str] = [pair[1] for pair in TEXT.values()] + [pair[1] for pair in KIND_LABELS.values()]
    korean: list[str] = [pair[0] for pair in TEXT.values()] + [pair[0] for pair in KIND_LABELS.values()]
    for value in vars(summary_words).values():
        for pair in _pairs(value):
            korean.append(pair[0])
            english.append(pair[1])
    for sample in SAMPLES:  # what the renderer writes (zone labels are in both), the stored summaries
        for zone in (SEOUL, AUCKLAND):
            texts = summaries(sample.kind, sample.severity, sample.evidence, zone=zone, now=NOW)
            english.append(texts["en"])
            korean.append(texts["ko"])
        english.append(sample.summary)
    shared = {w.lower() for text in korean for w in LATIN_WORD.findall(text)}
    return {w.lower() for text in english for w in LATIN_WORD.findall(text)} - shared


def _pairs(value: object) -> Iterator[tuple[str, str]]:
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        yield value  # type: ignore[misc]
    elif isinstance(value, dict):
        for item in value.values():
            yield from _pairs(item)


ENGLISH = english_words()


def assert_korean(text: str) -> None:
    assert HANGUL.search(text), text
    words = {w.lower() for w in LATIN_WORD.findall(text)} & ENGLISH
    assert not words, (words, text)


def assert_english(text: str) -> None:
    assert not HANGUL.search(text), text


def test_every_kind_has_samples_from_the_components() -> None:
    assert {s.kind for s in SAMPLES} == set(AlertKind)
    assert {"ingest_sos", "analytics_fever_rise", "clock_night_wandering", "nightly_routine_change",
            "minute_rapid_weight_gain"} <= {s.name for s in SAMPLES}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
@pytest.mark.parametrize("zone", [SEOUL, AUCKLAND], ids=["seoul", "auckland"])
def test_every_kind_renders_from_its_evidence_in_both_languages(sample: Sample, zone: ZoneInfo) -> None:
    texts = summaries(sample.kind, sample.severity, sample.evidence, zone=zone, now=NOW,
                      stored=sample.summary)
    assert_korean(texts["ko"])
    assert_english(texts["en"])
    assert texts["ko"] != fallback(sample.kind, "ko")  # rendered, not the fallback
    assert texts["en"] != sample.summary
    assert "\n" not in texts["ko"] + texts["en"] and len(texts["ko"]) < 300 and len(texts["en"]) < 300


def _rendered(name: str, zone: ZoneInfo = SEOUL, now: datetime | None = NOW) -> dict[str, str]:
    sample = next(s for s in SAMPLES if s.name == name)
    return summaries(sample.kind, sample.severity, sample.evidence, zone=zone, now=now, stored=sample.summary)


def test_sos_names_the_device_and_room_and_what_to_do() -> None:
    assert _rendered("ingest_sos") == {
        "ko": "거실 AI 스피커에서 긴급 호출 (21:17 KST): 바로 전화하거나 방문하세요",
        "en": "SOS from AI speaker (living room) at 21:17 KST: call or visit now"}
    # the same alert read the next morning, and read in Auckland, where it is another day
    assert _rendered("ingest_sos", now=NOW + timedelta(hours=12))["ko"].startswith(
        "거실 AI 스피커에서 긴급 호출 (12월 3일 21:17 KST)")
    assert _rendered("ingest_sos", zone=AUCKLAND)["en"] == (
        "SOS from AI speaker (living room) at 01:17 NZDT: call or visit now")


def test_a_reading_shows_value_unit_line_source_and_confirmation() -> None:
    assert _rendered("ingest_hypertensive_crisis") == {
        "ko": "혈압 186/95 mmHg, 21:17 KST 측정 (기준 ≥ 180, AHA/ACC 2017): 다시 측정해 확인하세요",
        "en": "BP 186/95 mmHg at 21:17 KST (line ≥ 180, AHA/ACC 2017): repeat the measurement to confirm"}
    assert _rendered("ingest_low_spo2")["ko"] == (
        "산소포화도 86%, 21:17 KST 측정 (기준 ≤ 88, NEWS2; 15분 안에 2회 기준 넘음): "
        "바로 전화해 숨쉬기를 확인하세요")
    assert "confirmed on a repeat reading within 30 min" in _rendered("analytics_crisis_confirmed")["en"]
    assert "repeat the measurement" in _rendered("analytics_crisis_single")["en"]
    assert "sustained over 30 min" in _rendered("analytics_tachy_sustained")["en"]
    assert "heart rate at rest" in _rendered("analytics_tachy_sustained")["en"].lower()


def test_a_baseline_kind_shows_the_persons_usual() -> None:
    fever = _rendered("analytics_fever_rise")
    assert "1.3 °C over usual 36.1 °C" in fever["en"] and "IDSA 2008" in fever["en"]
    assert "평소 36.1 °C보다 1.3 °C 높음" in fever["ko"]
    assert "usual longest gap 2 h" in _rendered("clock_inactivity")["en"]
    routine = _rendered("nightly_routine_change")["ko"]
    assert routine.startswith("12월 2일 기준 지난밤 화장실 8회 (평소 1–2회)")


def test_night_wandering_lists_its_times_with_the_date_when_not_today() -> None:
    # 02:41 and 03:12 Seoul time on 3 Dec; ``NOW`` is 22:00 on 3 Dec there: the same day
    assert _rendered("clock_night_wandering")["ko"].startswith("밤에 문 열림: 02:41, 03:12 KST")
    next_day = _rendered("clock_night_wandering", now=NOW + timedelta(hours=3))
    assert next_day["ko"].startswith("밤에 문 열림: 12월 3일 02:41, 03:12 KST")
    assert next_day["en"].startswith("Door opened at night at 3 Dec 02:41, 03:12 KST")
    # In Auckland the openings were at 06:41 and 07:12 on 3 Dec, and it is 4 Dec there now.
    assert _rendered("clock_night_wandering", zone=AUCKLAND)["en"].startswith(
        "Door opened at night at 3 Dec 06:41, 07:12 NZDT")
    # a printed page (no "today") always dates, with the year
    assert "2026년 12월 3일 02:41, 03:12 KST" in _rendered("clock_night_wandering", now=None)["ko"]


def test_a_day_judged_nightly_is_dated_unless_today() -> None:
    assert _rendered("nightly_routine_change")["en"].startswith("On 2 Dec, toilet visits last night 8")
    assert "on 2 Dec" in _rendered("nightly_declining_activity")["en"]
    assert "on " not in _rendered("nightly_weight_today")["en"].split("(")[-1]


GARBAGE: list[object] = [
    None, True, 0, -1, 1e308, float("nan"), float("inf"), 10**400, "", "x" * 10_000, "2026-99-99",
    "2026-12-03T02:00:00", [], [None], [[[]]], {}, {"a": {"b": {"c": {}}}}, "<script>", "\x00\u2028",
    "ai_speaker", "living", "sbp_crisis", "personal", -2e12, 9e15,
]


def _mutations(evidence: object) -> Iterator[object]:
    """Every leaf and container of ``evidence`` replaced, one at a time, by each garbage value."""
    yield from GARBAGE
    if isinstance(evidence, dict):
        for key, value in evidence.items():
            for changed in _mutations(value):
                yield {**evidence, key: changed}
            yield {k: v for k, v in evidence.items() if k != key}
    elif isinstance(evidence, list) and evidence:
        for changed in _mutations(evidence[0]):
            yield [changed, *evidence[1:]]


def _deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"events": [value], "moved": [value], "devices": [value]}
    return value


@pytest.mark.parametrize("kind", [*AlertKind, "bogus", "", None, 3])
def test_garbage_evidence_never_raises(kind: Any) -> None:
    shapes = [s.evidence for s in SAMPLES if s.kind == kind] or [SAMPLES[0].evidence]
    for evidence in [*(m for shape in shapes for m in _mutations(shape)), _deep(500)]:
        for severity in ("critical", "low", None, 7):
            for lang in ("ko", "en", "xx"):
                text = summary(kind, severity, evidence, lang=lang, zone=AUCKLAND, now=NOW,  # type: ignore[arg-type]
                               stored=evidence if isinstance(evidence, str) else None)
                assert isinstance(text, str) and text
                if lang == "en" and not isinstance(evidence, str):
                    assert_english(text)
                elif lang != "en":
                    assert HANGUL.search(text), text


def test_fallback_is_the_stored_english_or_the_korean_kind_label() -> None:
    old = {"event": "sos"}  # what alerts carried before their evidence had fields
    assert summary("sos", "critical", old, lang="en", zone=SEOUL, now=NOW,
                   stored="SOS button pressed") == "SOS button pressed"
    assert summary("sos", "critical", old, lang="ko", zone=SEOUL, now=NOW,
                   stored="SOS button pressed") == "응급 호출 알림: 바로 전화하거나 방문하세요"
    assert summary("low_spo2", "high", {}, lang="en", zone=SEOUL, now=NOW) == (
        "Low SpO2 alert: call now and ask about breathing")
    assert summary("toaster", "high", {}, lang="ko", zone=SEOUL, now=None) == "알림: 내용을 확인하세요"
    long = "x" * 2000
    assert len(summary("sos", "critical", None, lang="en", zone=SEOUL, now=NOW, stored=long)) == 500


def test_every_kind_has_an_action_and_the_words_match_the_web_app() -> None:
    assert set(AlertKind) <= set(summary_words.ACTIONS)
    for table, prefix in ((summary_words.DEVICE_LABELS, "dev_"), (summary_words.ROOM_LABELS, "room_"),
                          (summary_words.METRIC_LABELS, "m_")):
        for key, pair in table.items():
            assert TEXT[prefix + key] == pair, key
    for pair in _pairs(vars(summary_words)):
        assert_english(pair[1])
