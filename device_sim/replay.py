"""``dolbom sim replay``: real data sets mapped onto enrollees and devices, shifted to recent days.

Timestamps keep their local wall-clock time and weekday: each person's data is moved by a whole
number of weeks so that their last day falls in the past week, and what would then be older
than the ingest limit (30 days) is left out. Data are framed as the devices' backlog uploads
(timestamped arrays), published as fast as the broker takes them (or ``--speed`` times faster
than real time).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from device_sim.encode import Frame
from device_sim.errors import ReplayDataError
from device_sim.model import GroundTruth, Person, Population, SimDevice
from device_sim.population import GIVEN_F, SURNAMES
from device_sim.replay_sources import (
    GLUCOSE_CODES,
    HYPO_SYMPTOMS,
    INSULIN_CODES,
    Skipped,
    read_fitbit,
    read_kahn,
    read_ordonez,
)
from dolbom import wire
from dolbom.config import Settings
from dolbom.wire import DeviceKind, Room

TZ = ZoneInfo("Asia/Seoul")
UPLOAD_MS = 3600_000
MAX_AGE = wire.MAX_PAST_AGE - timedelta(days=1)


@dataclass
class Replay:
    population: Population
    frames: list[Frame]
    truths: list[GroundTruth]
    skipped: Skipped


def _person(index: int, key: str, profile: str, conditions: tuple[str, ...],
            devices: tuple[SimDevice, ...]) -> Person:
    """An enrollee standing for a real data set's subject (ages are not in the data)."""
    name = SURNAMES[index % len(SURNAMES)] + GIVEN_F[(index * 7) % len(GIVEN_F)]
    return Person(
        index=index, key=key, name=name, sex="F", birth_year=1950, profile=profile,
        conditions=conditions, timezone="Asia/Seoul", devices=devices,
        wake_h=0, bed_h=0, steps_per_day=0, outing_prob=0, night_toilet_mean=0, checkin_h=0,
        hr_rest=0, sbp=0, dbp=0, glucose_fasting=0, weight_kg=0, spo2=0, temp_c=0,
        wear_charge_days=1, phase=0,
    )


def _dev(prefix: str, key: str, kind: DeviceKind, room: Room | None = None) -> SimDevice:
    return SimDevice(f"{prefix}-{key}", key, kind, room)


class _Shifter:
    """Moves one person's data by whole weeks so their last day is within the past week."""

    def __init__(self, last: datetime, days: int, now: datetime) -> None:
        yesterday = now.astimezone(TZ).date() - timedelta(days=1)
        weeks = (yesterday - last.date()).days // 7
        self.delta = timedelta(weeks=weeks)
        self.first = datetime.combine(last.date() - timedelta(days=days - 1), datetime.min.time())
        self.oldest = now - MAX_AGE
        self.now = now

    def ms(self, local: datetime) -> int | None:
        """Epoch ms of a shifted local time, or None when outside the replayed days."""
        if local < self.first:
            return None
        moment = (local + self.delta).replace(tzinfo=TZ)
        if not self.oldest <= moment <= self.now:
            return None
        return int(moment.timestamp() * 1000)


def _upload(frames: list[Frame], topic: str, items: list[tuple[int, dict[str, Any]]]) -> None:
    """Hourly backlog arrays of up to 1000 items."""
    by_hour: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ts, item in sorted(items, key=lambda x: x[0]):
        by_hour[(ts // UPLOAD_MS + 1) * UPLOAD_MS].append({"ts": ts, **item})
    for due, batch in by_hour.items():
        for i in range(0, len(batch), wire.MAX_BATCH_ITEMS):
            frames.append((due, topic, orjson.dumps(batch[i: i + wire.MAX_BATCH_ITEMS]), 1, False))


def fitbit(folder: Path, days: int, now: datetime) -> Replay:
    skipped = Skipped()
    people: list[Person] = []
    frames: list[Frame] = []
    data = read_fitbit(folder, skipped)
    for index, (pid, record) in enumerate(sorted(data.items())):
        moments = list(record.bins) + [t for t, _ in record.sleep]
        if not moments:
            continue
        shift = _Shifter(max(moments), days, now)
        prefix = f"fb{pid}"
        kit = (_dev(prefix, "wear", DeviceKind.WEARABLE), _dev(prefix, "scale", DeviceKind.SCALE))
        people.append(_person(index, f"fitbit-{pid}", "healthy", (), kit))
        items = []
        for start, values in record.bins.items():
            ts = shift.ms(start + timedelta(minutes=5))
            if ts is not None:
                items.append((ts, {"values": values}))
        for moment, minutes in record.sleep:
            ts = shift.ms(moment)
            if ts is not None:
                items.append((ts, {"values": {"sleep_minutes": minutes}}))
        _upload(frames, wire.reading_topic(kit[0].device_id), items)
        for moment, kg in record.weight:
            ts = shift.ms(moment)
            if ts is not None:
                frames.append((ts + 1500, wire.reading_topic(kit[1].device_id),
                               orjson.dumps({"ts": ts, "values": {"weight": kg}}), 1, False))
    return _replay("fitbit", people, frames, [], skipped)


_ROOMS = {"Bedroom": Room.BEDROOM, "Bathroom": Room.BATHROOM, "Kitchen": Room.KITCHEN,
          "Living": Room.LIVING, "Entrance": Room.ENTRANCE}


def ordonez(folder: Path, days: int, now: datetime) -> Replay:
    skipped = Skipped()
    people: list[Person] = []
    frames: list[Frame] = []
    for index, (home, intervals) in enumerate(sorted(read_ordonez(folder, skipped).items())):
        if not intervals:
            continue
        prefix = f"ordonez{home}"
        kit = [_dev(prefix, "door", DeviceKind.DOOR_SENSOR, Room.ENTRANCE),
               _dev(prefix, "bed", DeviceKind.BED_SENSOR, Room.BEDROOM),
               _dev(prefix, "hub", DeviceKind.HUB, Room.OTHER)]
        kit += [_dev(prefix, f"pir-{room.value}", DeviceKind.MOTION_SENSOR, room)
                for room in _ROOMS.values()]
        ids = {d.key: d.device_id for d in kit}
        people.append(_person(index, f"ordonez-{home}", "healthy", (), tuple(kit)))
        shift = _Shifter(max(i.end for i in intervals), days, now)
        events: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)

        def add(key: str, local: datetime, etype: str, data: dict[str, Any] | None = None,
                events: dict[str, list[tuple[int, dict[str, Any]]]] = events,
                shift: _Shifter = shift) -> None:
            ts = shift.ms(local)
            if ts is not None:
                events[key].append((ts, {"type": etype} | ({"data": data} if data else {})))

        for i in intervals:
            if i.location == "Bed":
                add("bed", i.start, "bed_entry")
                add("bed", i.end, "bed_exit")
            elif i.location == "Toilet":
                add("hub", i.start, "toilet", {"room": "bathroom"})
            elif i.location == "Maindoor":
                add("door", i.start, "door_open")
                add("door", i.end, "door_close")
            elif i.place in _ROOMS:
                # Any binary sensor firing in a room (PIR, cupboard, appliance) is activity there.
                add(f"pir-{_ROOMS[i.place].value}", i.start, "motion")
            else:
                skipped.add(f"Ordonez{home}: unknown place {i.place!r}")
        for key, items in events.items():
            _upload(frames, wire.event_topic(ids[key]), items)
    return _replay("ordonez", people, frames, [], skipped)


def kahn(folder: Path, days: int, now: datetime) -> Replay:
    skipped = Skipped()
    people: list[Person] = []
    frames: list[Frame] = []
    truths: list[GroundTruth] = []
    glucose = wire.METRIC_BY_NAME["glucose"]
    for index, (number, records) in enumerate(sorted(read_kahn(folder, skipped).items())):
        if not records:
            continue
        prefix = f"kahn{number}"
        kit = (_dev(prefix, "glu", DeviceKind.GLUCOMETER), _dev(prefix, "spk", DeviceKind.AI_SPEAKER,
                                                                Room.LIVING))
        person = _person(index, f"kahn-{number}", "diabetic", ("diabetes",), kit)
        people.append(person)
        shift = _Shifter(max(r.at for r in records), days, now)
        for r in records:
            ts = shift.ms(r.at)
            if ts is None:
                continue
            when = datetime.fromtimestamp(ts / 1000, TZ)
            if r.code in GLUCOSE_CODES:
                if not glucose.low <= r.value <= glucose.high:
                    skipped.add(f"kahn-{number}: glucose {r.value} at {r.at}")
                    continue
                frames.append((ts + 1500, wire.reading_topic(kit[0].device_id), orjson.dumps(
                    {"ts": when.isoformat(), "values": {"glucose": r.value}}), 1, False))
            elif r.code in INSULIN_CODES:
                frames.append((ts + 1500, wire.event_topic(kit[1].device_id), orjson.dumps(
                    {"ts": when.isoformat(), "type": "medication_taken",
                     "data": {"insulin": INSULIN_CODES[r.code], "units": r.value}}), 1, False))
            elif r.code == HYPO_SYMPTOMS:
                truths.append(GroundTruth(person.key, "hypoglycemia", when,
                                          when + timedelta(hours=1), "high",
                                          "patient-reported hypoglycemic symptoms (code 65)"))
    truths.sort(key=lambda t: (t.start, t.enrollee))
    return _replay("kahn", people, frames, truths, skipped)


def _replay(name: str, people: list[Person], frames: list[Frame], truths: list[GroundTruth],
            skipped: Skipped) -> Replay:
    frames.sort(key=lambda f: f[0])
    population = Population(name=f"replay-{name}", seed=0, region=f"replay {name} region",
                            care_workers=(f"replay-{name}-carer",), staff=(),
                            people=tuple(people), history_days=0)
    return Replay(population, frames, truths, skipped)


LOADERS: dict[str, Callable[[Path, int, datetime], Replay]] = {
    "fitbit": fitbit, "ordonez": ordonez, "kahn": kahn,
}


def run_replay(args: argparse.Namespace, settings: Settings) -> int:
    from device_sim import publish, scenarios
    from device_sim.provision import provision

    folder: Path = args.data_dir
    if not folder.is_dir():
        raise ReplayDataError(f"--data-dir {folder} is not a folder (e.g. "
                              "../shared/data/fitbit_fitabase)")
    replay = LOADERS[args.dataset](folder, args.days, datetime.now(TZ))
    if not replay.frames:
        raise ReplayDataError(f"nothing to replay from {folder}")
    mapping = provision(settings.database_url, replay.population) if args.provision else None
    print(f"sim: replaying {args.dataset}: {len(replay.population.people)} enrollees, "
          f"{len(replay.frames):,} messages ({replay.skipped.count} source records skipped)",
          file=sys.stderr)
    if args.ground_truth:
        with args.ground_truth.open("wb") as out:
            count = scenarios.write_jsonl(replay.truths, out, mapping)
        print(f"sim: wrote {count} labelled episodes to {args.ground_truth}", file=sys.stderr)
    return publish.publish_to_broker(settings.mqtt, f"dolbom-replay-{args.dataset}", replay.frames,
                                     speed=args.speed, tz=TZ)



