"""The simulator's data types: people, their devices, injected conditions and messages."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from dolbom.wire import DeviceKind, QuarantineReason, Room


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One MQTT publish: what a device sends, and when (simulated wall time)."""

    topic: str
    payload: bytes
    sent_at: datetime
    qos: int = 1
    retain: bool = False
    # Bad-input mode only: the quarantine reason the simulator means this payload to get,
    # and the fault it models (``duplicate`` and ``out_of_order`` are accepted on purpose).
    expect_reason: QuarantineReason | None = None
    fault: str | None = None


@dataclass(frozen=True, slots=True)
class SimDevice:
    """A device of an enrollee's kit; ``key`` names it within the kit (``wear``, ``pir-kitchen``)."""

    device_id: str
    key: str
    kind: DeviceKind
    room: Room | None = None
    zigbee: bool = False


@dataclass(frozen=True, slots=True)
class Person:
    """An enrollee's simulated self: profile, habits and baseline vitals (all drawn from the seed)."""

    index: int
    key: str  # stable external key, e.g. "demo-e0003"; the ground truth uses it
    name: str
    sex: str
    birth_year: int
    profile: str
    conditions: tuple[str, ...]
    timezone: str
    devices: tuple[SimDevice, ...]
    # habits (local clock, hours)
    wake_h: float
    bed_h: float
    steps_per_day: float
    outing_prob: float
    night_toilet_mean: float
    checkin_h: float
    # vitals baselines
    hr_rest: float
    sbp: float
    dbp: float
    glucose_fasting: float
    weight_kg: float
    spo2: float
    temp_c: float
    wear_charge_days: int
    phase: int  # day phase for periodic habits (charging, checkin-miss slots)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def device(self, key: str) -> SimDevice | None:
        for device in self.devices:
            if device.key == key:
                return device
        return None


@dataclass(frozen=True, slots=True)
class InjectionSpec:
    """An injection as a scenario file states it (times relative to the scenario's origin)."""

    kind: str
    enrollee: int
    day: int | None = None  # day offset from the origin's local midnight
    at: str = "10:00"  # local time of day
    live_offset_s: float | None = None  # or: seconds after the live start
    hours: float | None = None  # duration, where the kind has one
    device: str | None = None  # device key for device_offline / low_battery
    severity: str | None = None  # expected severity, if not the kind's default


@dataclass(frozen=True, slots=True)
class Injection:
    """An injection resolved to absolute times for one enrollee."""

    kind: str
    enrollee: int
    start: datetime
    end: datetime
    device: str | None
    severity: str


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """What an evaluator should find: one condition of one enrollee over a time window."""

    enrollee: str  # Person.key; provision() maps it to the database id
    kind: str
    start: datetime
    end: datetime
    severity: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Population:
    """A scenario's people and injections, ready for the generator (pure data)."""

    name: str
    seed: int
    region: str
    care_workers: tuple[str, ...]
    staff: tuple[str, ...]
    people: tuple[Person, ...]
    injections: tuple[InjectionSpec, ...] = field(default=())
    history_days: int = 7

    def subset(self, keys: set[str]) -> Population:
        """The same scenario restricted to some enrollees (their days are unchanged)."""
        people = tuple(p for p in self.people if p.key in keys)
        indexes = {p.index for p in people}
        return replace(self, people=people,
                       injections=tuple(i for i in self.injections if i.enrollee in indexes))

    def person(self, key: str) -> Person:
        for person in self.people:
            if person.key == key:
                return person
        raise KeyError(key)
