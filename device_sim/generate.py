"""The pure message generator: a population over a time window, as devices would publish it.

No I/O and no clock: the same population, window and seed give the same messages, in the
order of their (simulated) send time. Analytics uses it to evaluate detection offline.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

import orjson

from device_sim.day import build_day
from device_sim.encode import Frame, encode_day
from device_sim.model import Injection, Population, SimMessage
from device_sim.scenarios.injections import origin_for, resolve
from dolbom import wire


def _to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("simulator times must be timezone-aware")
    return int(moment.timestamp() * 1000)


def frames(
    population: Population,
    start: datetime,
    end: datetime,
    seed: int | None = None,
    *,
    origin: datetime | None = None,
    live_start: datetime | None = None,
    backlog_until: datetime | None = None,
    extra: Iterable[Injection] = (),
) -> Iterator[Frame]:
    """Like ``messages`` but yields raw ``(sent_ms, topic, payload, qos, retain)`` tuples."""
    if seed is None:
        seed = population.seed
    if not population.people:
        return
    tz = population.people[0].tz
    origin = origin or origin_for(start, population.people[0].timezone)
    by_person: dict[int, list[Injection]] = defaultdict(list)
    for inj in resolve(population, origin, live_start):
        by_person[inj.enrollee].append(inj)
    # ``extra`` (the live demo's endless schedule) is read lazily, a day ahead, and forgotten
    # once it can no longer reach a day, so an endless run holds only a few days of it.
    later = _Lookahead(extra)
    recent: dict[int, list[Injection]] = defaultdict(list)
    start_ms, end_ms = _to_ms(start), _to_ms(end)
    backlog_ms = _to_ms(backlog_until) if backlog_until else None
    pending: list[Frame] = []
    # zigbee2mqtt announces each sensor's availability (retained) when it (re)starts.
    for person in population.people:
        for device in person.devices:
            if device.zigbee:
                pending.append((start_ms, wire.z2m_availability_topic(device.device_id),
                                orjson.dumps({"state": "online"}), 1, True))
    day = start.astimezone(tz).date() - timedelta(days=1)  # yesterday's night uploads today
    last = end.astimezone(tz).date()
    while day <= last:
        day_end = datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(days=1)
        day_end_ms = _to_ms(day_end)
        for inj in later.until(day_end):
            recent[inj.enrollee].append(inj)
        for index, kept in recent.items():
            recent[index] = [i for i in kept if i.end > day_end - timedelta(days=2)]
        for person in population.people:
            injections = [i for i in by_person.get(person.index, ())
                          if i.start < day_end and i.end > day_end - timedelta(days=2)]
            injections += recent.get(person.index, ())
            records = build_day(seed, person, day, injections)
            pending.extend(encode_day(person, records, backlog_ms))
        pending.sort(key=lambda f: f[0])
        cut = len(pending)
        for i, frame in enumerate(pending):
            if frame[0] >= day_end_ms:
                cut = i
                break
        for frame in pending[:cut]:
            if start_ms <= frame[0] < end_ms:
                yield frame
        pending = pending[cut:]
        day += timedelta(days=1)
    for frame in pending:
        if start_ms <= frame[0] < end_ms:
            yield frame


class _Lookahead:
    """Injections in start order, taken as far as a given time (one is read ahead)."""

    def __init__(self, injections: Iterable[Injection]) -> None:
        self._source = iter(injections)
        self._next = next(self._source, None)

    def until(self, end: datetime) -> Iterator[Injection]:
        while self._next is not None and self._next.start < end:
            yield self._next
            self._next = next(self._source, None)


def messages(
    population: Population,
    start: datetime,
    end: datetime,
    seed: int | None = None,
    *,
    origin: datetime | None = None,
    live_start: datetime | None = None,
    backlog_until: datetime | None = None,
    extra: Iterable[Injection] = (),
) -> Iterator[SimMessage]:
    """Every message the population's devices send in [start, end), in send-time order.

    ``origin`` is day 0 of the scenario's injections (default: local midnight of ``start``);
    ``live_start`` anchors ``live_offset`` injections; data older than ``backlog_until`` is
    framed as a device backlog (timestamped arrays) instead of live zigbee2mqtt states.
    ``extra``: more injections besides the scenario's, in start order (may be endless).
    """
    tz = population.people[0].tz if population.people else None
    for sent_ms, topic, payload, qos, retain in frames(
        population, start, end, seed, origin=origin, live_start=live_start,
        backlog_until=backlog_until, extra=extra,
    ):
        yield SimMessage(topic, payload, datetime.fromtimestamp(sent_ms / 1000, tz), qos, retain)
