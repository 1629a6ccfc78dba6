"""The pure generator: determinism, order, and payloads the project's validator accepts."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from device_sim import generate, population, scenarios
from device_sim.model import Population
from dolbom import wire
from tests.device_sim.conftest import START, window

decode_mod = pytest.importorskip("ingest.decode")


def test_same_seed_gives_identical_messages(demo: Population) -> None:
    start, end = window(2)
    first = list(generate.messages(demo, start, end, seed=1))
    second = list(generate.messages(population.build(scenarios.load("demo"), 1), start, end, 1))
    assert len(first) > 1000
    assert first == second


def test_another_seed_gives_other_messages(demo: Population) -> None:
    start, end = window(1)
    other = population.build(scenarios.load("demo"), seed=2)
    a = [m.payload for m in generate.messages(demo, start, end)]
    b = [m.payload for m in generate.messages(other, start, end)]
    assert a != b


def test_messages_are_in_send_order_within_the_window(demo: Population) -> None:
    start, end = window(3)
    sent = [m.sent_at for m in generate.messages(demo, start, end)]
    assert sent == sorted(sent)
    assert sent[0] >= start and sent[-1] < end


@pytest.mark.parametrize("backlog_days", [0, 2])
def test_normal_mode_is_accepted_by_the_validator(demo: Population, backlog_days: int) -> None:
    """Every payload, live (zigbee2mqtt) or backlog (timestamped arrays), decodes cleanly."""
    start, end = window(3)
    backlog = start + timedelta(days=backlog_days) if backlog_days else None
    kinds: Counter[str] = Counter()
    accepted = 0
    for m in generate.messages(demo, start, end, backlog_until=backlog,
                               live_start=end - timedelta(minutes=3)):
        decoded = decode_mod.decode(m.topic, m.payload, m.sent_at, m.sent_at)
        assert decoded.rejects == (), (m.topic, m.payload[:200], decoded.rejects)
        assert len(m.payload) <= wire.DEFAULT_MAX_PAYLOAD_BYTES
        kinds[str(decoded.kind)] += 1
        accepted += decoded.accepted
    assert accepted > 10_000
    expected = {"reading", "event", "status", "z2m_state", "z2m_availability"}
    assert expected <= set(kinds)


def test_every_injected_kind_is_accepted_too(evaluation: Population) -> None:
    """Injected conditions use plausible values: they must reach the analytics, not quarantine."""
    start, end = window(28)
    rejects = 0
    for m in generate.messages(evaluation, start, end):
        if "-e004" in m.topic or "-e006" in m.topic or "-e007" in m.topic:  # a third of homes
            rejects += len(decode_mod.decode(m.topic, m.payload, m.sent_at, m.sent_at).rejects)
    assert rejects == 0


def test_device_ids_are_deterministic_and_valid(demo: Population) -> None:
    again = population.build(scenarios.load("demo"), seed=1)
    ids = [d.device_id for p in demo.people for d in p.devices]
    assert ids == [d.device_id for p in again.people for d in p.devices]
    assert len(set(ids)) == len(ids)
    assert all(wire.DEVICE_ID_RE.match(i) for i in ids)
    other_seed = population.build(scenarios.load("demo"), seed=5)
    assert not set(ids) & {d.device_id for p in other_seed.people for d in p.devices}


def test_names_are_korean_and_distinct(evaluation: Population) -> None:
    names = [p.name for p in evaluation.people]
    assert len(set(names)) == len(names)
    assert all("가" <= n[0] <= "힣" for n in names)


def test_generation_starts_on_any_day(demo: Population) -> None:
    """A window starting mid-day still yields uploads of that morning's band data."""
    start = START + timedelta(hours=10, minutes=7)
    msgs = list(generate.messages(demo, start, start + timedelta(hours=2)))
    assert msgs and msgs[0].sent_at >= start


def test_a_subset_generates_the_same_days_for_its_people(demo: Population) -> None:
    start, end = window(1)
    keys = {demo.people[1].key, demo.people[4].key}
    sub = demo.subset(keys)
    prefixes = tuple(f"-e{p.index:04d}-" for p in sub.people)
    whole = [m for m in generate.messages(demo, start, end)
             if any(x in m.topic for x in prefixes)]
    assert whole == list(generate.messages(sub, start, end))
