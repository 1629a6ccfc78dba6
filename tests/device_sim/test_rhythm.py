"""The live demo's rhythm: criticals every few minutes at first, then a few conditions an hour,
each where it is plausible, reproducible from the seed, and endless without piling up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from itertools import islice, pairwise, takewhile

import orjson
import pytest

from device_sim import generate
from device_sim.model import Injection, Population
from device_sim.scenarios import rhythm
from dolbom.alerts import AlertKind as K
from ingest.decode import decode
from tests.device_sim.conftest import SEOUL

MORNING = datetime(2026, 11, 2, 10, 7, 13, tzinfo=SEOUL)
NIGHT = datetime(2026, 11, 4, 2, 7, tzinfo=SEOUL)


def _first(population: Population, start: datetime, hours: float, seed: int = 1) -> list[Injection]:
    end = start + timedelta(hours=hours)
    return list(takewhile(lambda i: i.start < end, rhythm.schedule(population, start, seed)))


def _minutes(inj: Injection, start: datetime) -> float:
    return (inj.start - start).total_seconds() / 60


@pytest.mark.parametrize("start", [MORNING, NIGHT], ids=["morning", "night"])
def test_criticals_every_few_minutes_then_a_few_an_hour(demo: Population, start: datetime) -> None:
    injections = _first(demo, start, 3)
    warmup = [i for i in injections if _minutes(i, start) < 15]
    assert _minutes(injections[0], start) <= 2  # the first within a couple of minutes
    assert len(warmup) >= 4
    assert {i.severity for i in warmup} == {"critical"}
    assert {i.kind for i in warmup} <= set(rhythm.WARMUP_KINDS)
    gaps = [_minutes(b, start) - _minutes(a, start) for a, b in pairwise(warmup)]
    assert all(2 <= gap <= 4 for gap in gaps), gaps
    steady = Counter(int(_minutes(i, start) // 60) for i in injections if _minutes(i, start) >= 15)
    assert all(1 <= steady[hour] <= 6 for hour in (1, 2)), steady
    assert len({i.enrollee for i in warmup}) == len(warmup)  # a different home each time


def test_the_morning_warmup_shows_every_critical_kind(demo: Population) -> None:
    warmup = _first(demo, MORNING, 0.25)
    assert {i.kind for i in warmup[:4]} == set(rhythm.WARMUP_KINDS)


def test_the_steady_mix_has_every_severity_and_criticals_are_a_share(demo: Population) -> None:
    steady = [i for i in _first(demo, MORNING, 48) if _minutes(i, MORNING) >= 15]
    severities = Counter(i.severity for i in steady)
    assert set(severities) == {"critical", "high", "medium", "low"}
    assert 0.3 <= severities["critical"] / len(steady) <= 0.7, severities
    assert 1.2 <= len(steady) / 48 <= 3, len(steady)  # ~2 an hour over two days and nights
    assert len({i.kind for i in steady}) >= 10


def test_same_seed_same_schedule(demo: Population) -> None:
    one, again = _first(demo, MORNING, 6), _first(demo, MORNING, 6)
    other = _first(demo, MORNING, 6, seed=2)
    assert one == again
    assert [(i.kind, i.enrollee, i.start) for i in one] != [(i.kind, i.enrollee, i.start)
                                                             for i in other]


def test_conditions_are_plausible(demo: Population) -> None:
    injections = _first(demo, MORNING, 72)
    people = {p.index: p for p in demo.people}
    for inj in injections:
        person = people[inj.enrollee]
        local = inj.start.astimezone(SEOUL)
        if inj.kind == K.HYPOGLYCEMIA:
            assert "diabetes" in person.conditions
        if inj.kind == K.HYPERTENSIVE_CRISIS:
            assert "hypertension" in person.conditions and 7 <= local.hour < 22
        if inj.kind == K.NIGHT_WANDERING:
            assert "cognitive_impairment" in person.conditions and local.hour < 5
        if inj.kind == K.INACTIVITY:
            assert 8 <= local.hour < 15
    # A home's acute conditions never overlap, and one condition of one person comes back only
    # hours after it ended (it would only update the alert already open).
    for index in people:
        acute = [i for i in injections if i.enrollee == index
                 and not rhythm.PLAUSIBLE[K(i.kind)].alongside]
        for a, b in pairwise(acute):
            assert b.start >= a.end + timedelta(seconds=rhythm.DEMO.rest_s)
        for kind in rhythm.PLAUSIBLE:
            same = [i for i in injections if i.enrollee == index and i.kind == kind]
            for a, b in pairwise(same):
                assert (b.start - a.end).total_seconds() >= rhythm.DEMO.repeat_after_s


def test_the_schedule_is_endless_and_keeps_whole_seconds(demo: Population) -> None:
    week = _first(demo, MORNING, 24 * 7)
    assert len(week) > 7 * 24
    assert all((i.start - MORNING).total_seconds() % 1 == 0 for i in week)  # no drift
    assert week[-1].start > MORNING + timedelta(days=6, hours=20)


def test_a_short_rhythm_for_tests(demo: Population) -> None:
    short = rhythm.Rhythm(first_after_s=(1, 1), warmup_s=10, warmup_gap_s=(2, 2))
    starts = [_minutes(i, MORNING) * 60
              for i in islice(rhythm.schedule(demo, MORNING, 1, short), 4)]
    assert starts[:4] == [1, 3, 5, 7]


def test_the_line_says_what_the_demo_does() -> None:
    line = rhythm.DEMO.describe(6)
    assert line.startswith("simulating 6 households live; a critical alert every ~3 min for "
                           "the first 15 min, then a few alerts an hour")


def _live(population: Population, start: datetime, hours: float) -> Iterator[tuple[int, str, bytes]]:
    end = start + timedelta(hours=hours)
    population = rhythm.for_live_demo(population)
    schedule = rhythm.schedule(population, start, 1)
    for sent_ms, topic, payload, _, _ in generate.frames(
            population, start, end, live_start=start, backlog_until=start, extra=schedule):
        yield sent_ms, topic, payload


def test_the_injected_conditions_are_in_the_live_data(demo: Population) -> None:
    start = MORNING
    frames = list(_live(demo, start, 1))
    assert not [ms for ms, _, payload in frames  # the scenario's SOS at +20 s is not sent
                if b'"sos"' in payload and ms - start.timestamp() * 1000 < 30_000]
    injections = _first(demo, start, 1)
    homes = {p.index: {d.device_id for d in p.devices} for p in demo.people}
    for inj in (i for i in injections if _minutes(i, start) < 15):
        near = [(topic, orjson.loads(payload)) for ms, topic, payload in frames
                if topic.split("/")[-2] in homes[inj.enrollee]
                and 0 <= ms - inj.start.timestamp() * 1000 < 10_000]
        if inj.kind == K.SOS:
            assert any(body.get("type") == "sos" for _, body in near), inj
        elif inj.kind == K.FALL:
            assert any(body.get("type") == "fall" for _, body in near), inj
        elif inj.kind == K.HYPERTENSIVE_CRISIS:
            assert any(body.get("values", {}).get("systolic_bp", 0) >= 180
                       for topic, body in near if topic.endswith("-bp/reading")), inj
        elif inj.kind == K.HYPOGLYCEMIA:
            assert any(body.get("values", {}).get("glucose", 99) < 54
                       for topic, body in near if topic.endswith("-glu/reading")), inj
    # The homes go on with their day: the bands upload, the sensors report.
    assert sum(topic.endswith("-wear/reading") for _, topic, _ in frames) >= 4 * len(demo.people)
    assert sum(topic.startswith("zigbee2mqtt/") for _, topic, _ in frames) > 50


def test_live_demo_data_is_valid_on_the_wire(demo: Population) -> None:
    for sent_ms, topic, payload in _live(demo, NIGHT, 3):
        received = datetime.fromtimestamp(sent_ms / 1000, SEOUL)
        decoded = decode(topic, payload, received, received)
        assert decoded.rejects == (), (topic, payload[:120], decoded.rejects)


def test_an_endless_schedule_is_read_lazily(demo: Population) -> None:
    endless = generate.frames(demo, MORNING, MORNING + timedelta(days=3650), live_start=MORNING,
                              backlog_until=MORNING, extra=rhythm.schedule(demo, MORNING, 1))
    assert len(list(islice(endless, 2000))) == 2000
