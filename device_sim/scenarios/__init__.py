"""Scenario files (TOML) and the ground truth of their injections.

A scenario names a population (groups of enrollees by profile) and the conditions injected
into some of them. Times are relative to the *origin*, the local midnight of the first
simulated day (``day = 0``), or to the *live start* (``live_offset``) for demos that should
raise alerts while someone watches.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from device_sim.errors import ScenarioError
from device_sim.model import GroundTruth, Injection, InjectionSpec, Population
from dolbom.alerts import DEFAULT_SEVERITY, AlertKind, Severity
from dolbom.thresholds import CRITICAL_ON_ARRIVAL

SCENARIO_DIR = Path(__file__).parent
BUILTIN = ("demo", "evaluation", "load")

# Default duration (hours) of each injected condition, where the caller gives none.
DEFAULT_HOURS: dict[str, float] = {
    AlertKind.SOS: 0.0,
    AlertKind.FALL: 0.5,  # lies on the floor ~25 min, then gets up
    AlertKind.HYPERTENSIVE_CRISIS: 5 / 60,  # a reading and its re-measure a few minutes later
    AlertKind.HYPOGLYCEMIA: 0.25,  # low reading, re-check after 15 g carbohydrate (ADA)
    AlertKind.HYPERGLYCEMIA: 3.0,
    AlertKind.LOW_SPO2: 1.0,
    AlertKind.BRADYCARDIA: 0.75,
    AlertKind.TACHYCARDIA: 0.5,
    AlertKind.FEVER: 30.0,
    AlertKind.RAPID_WEIGHT_GAIN: 72.0,
    AlertKind.INACTIVITY: 4.5,
    AlertKind.NIGHT_WANDERING: 0.6,
    AlertKind.ROUTINE_CHANGE: 5 * 24.0,
    AlertKind.DECLINING_ACTIVITY: 21 * 24.0,
    AlertKind.MISSED_CHECKINS: 3 * 24.0,
    AlertKind.DEVICE_OFFLINE: 36.0,
    AlertKind.LOW_BATTERY: 20.0,
    AlertKind.NO_DATA: 30.0,
}
# Injected readings go past the critical lines that open an alert on arrival
# (dolbom.thresholds.CRITICAL_ON_ARRIVAL: SBP >= 180, glucose < 54, SpO2 <= 88, HR <= 40 or
# >= 140), so the expected severity of those kinds is critical, not the kind's default.
INJECTED_SEVERITY: dict[str, str] = {kind: Severity.CRITICAL.value
                                     for kind, _, _ in CRITICAL_ON_ARRIVAL}
DEFAULT_DEVICE: dict[str, str] = {
    AlertKind.DEVICE_OFFLINE: "pir-kitchen",
    AlertKind.LOW_BATTERY: "wear",
}


@dataclass(frozen=True, slots=True)
class Group:
    profile: str
    count: int


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    region: str
    timezone: str
    history_days: int
    care_workers: tuple[str, ...]
    staff: tuple[str, ...]
    groups: tuple[Group, ...]
    injections: tuple[InjectionSpec, ...]
    controls: tuple[int, ...]  # enrollee indexes that must stay clean (no injection)

    @property
    def size(self) -> int:
        return sum(g.count for g in self.groups)


def _duration_s(text: object, where: str) -> float:
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str) or not text:
        raise ScenarioError(f"{where}: expected a duration like '90s', '5m' or '2h'")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(text[:-1]) * units[text[-1]]
    except (KeyError, ValueError):
        raise ScenarioError(f"{where}: expected a duration like '90s', '5m' or '2h', "
                            f"not {text!r}") from None


def parse(data: dict[str, Any], source: str = "scenario") -> Scenario:
    """Validate a scenario document; raise ``ScenarioError`` with the first problem."""
    from device_sim.population import PROFILES

    head = data.get("scenario")
    if not isinstance(head, dict):
        raise ScenarioError(f"{source}: missing [scenario] table")
    groups = []
    for i, group in enumerate(data.get("group", [])):
        profile = group.get("profile")
        if profile not in PROFILES:
            raise ScenarioError(f"{source}: group {i}: unknown profile {profile!r} "
                                f"(one of {', '.join(PROFILES)})")
        count = group.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise ScenarioError(f"{source}: group {i}: count must be a positive integer")
        groups.append(Group(profile, count))
    if not groups:
        raise ScenarioError(f"{source}: no [[group]] of enrollees")
    size = sum(g.count for g in groups)
    kinds = {k.value for k in AlertKind}
    injections: list[InjectionSpec] = []
    for i, spec in enumerate(data.get("injection", [])):
        where = f"{source}: injection {i}"
        kind = spec.get("kind")
        if kind not in kinds:
            raise ScenarioError(f"{where}: unknown kind {kind!r}")
        enrollees = spec.get("enrollees", [spec.get("enrollee", 0)])
        for index in enrollees:
            if not isinstance(index, int) or not 0 <= index < size:
                raise ScenarioError(f"{where}: enrollee {index!r} is not in 0..{size - 1}")
        at = spec.get("at", "10:00")
        try:
            time.fromisoformat(at)
        except (TypeError, ValueError):
            raise ScenarioError(f"{where}: 'at' must be HH:MM, not {at!r}") from None
        live = spec.get("live_offset")
        day = spec.get("day")
        if (live is None) == (day is None):
            raise ScenarioError(f"{where}: give exactly one of 'day' or 'live_offset'")
        severity = spec.get("severity")
        if severity is not None and severity not in {s.value for s in Severity}:
            raise ScenarioError(f"{where}: unknown severity {severity!r}")
        hours = spec.get("hours")
        for index in enrollees:
            injections.append(InjectionSpec(
                kind=kind, enrollee=index, day=day, at=at,
                live_offset_s=None if live is None else _duration_s(live, where),
                hours=None if hours is None else float(hours),
                device=spec.get("device"), severity=severity,
            ))
    controls = tuple(head.get("controls", ()))
    clash = {s.enrollee for s in injections} & set(controls)
    if clash:
        raise ScenarioError(f"{source}: control enrollees {sorted(clash)} have injections")
    return Scenario(
        name=str(head.get("name", source)),
        description=str(head.get("description", "")),
        region=str(head.get("region", f"{head.get('name', source)} region")),
        timezone=str(head.get("timezone", "Asia/Seoul")),
        history_days=int(head.get("history_days", 7)),
        care_workers=tuple(head.get("care_workers", ["carer"])),
        staff=tuple(head.get("staff", ["staff"])),
        groups=tuple(groups),
        injections=tuple(injections),
        controls=controls,
    )


def load(name_or_path: str) -> Scenario:
    """A built-in scenario by name (``demo``, ``evaluation``, ``load``) or a TOML file path."""
    path = SCENARIO_DIR / f"{name_or_path}.toml" if name_or_path in BUILTIN else Path(name_or_path)
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ScenarioError(f"no scenario {name_or_path!r} (built-in: {', '.join(BUILTIN)}, "
                            "or a path to a .toml file)") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ScenarioError(f"cannot read scenario {path}: {error}") from None
    return parse(data, path.name)


def origin_for(start: datetime, tz_name: str) -> datetime:
    """The local midnight of the day holding ``start``: day 0 of a scenario."""
    from zoneinfo import ZoneInfo

    local = start.astimezone(ZoneInfo(tz_name))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def resolve(
    population: Population, origin: datetime, live_start: datetime | None = None
) -> list[Injection]:
    """Absolute times of every injection (``live_offset`` ones need ``live_start``)."""
    resolved: list[Injection] = []
    people = {p.index: p for p in population.people}
    for spec in population.injections:
        person = people.get(spec.enrollee)
        if person is None:  # not in this (sub-)population
            continue
        if spec.live_offset_s is not None:
            if live_start is None:
                continue
            start = live_start + timedelta(seconds=spec.live_offset_s)
        else:
            assert spec.day is not None
            hh, mm = (int(x) for x in spec.at.split(":")[:2])
            day0 = origin.astimezone(person.tz).date() + timedelta(days=spec.day)
            start = datetime(day0.year, day0.month, day0.day, hh, mm, tzinfo=person.tz)
        hours = spec.hours if spec.hours is not None else DEFAULT_HOURS[spec.kind]
        severity = (spec.severity or INJECTED_SEVERITY.get(spec.kind)
                    or DEFAULT_SEVERITY[AlertKind(spec.kind)].value)
        device = spec.device or DEFAULT_DEVICE.get(spec.kind)
        resolved.append(Injection(spec.kind, spec.enrollee, start,
                                  start + timedelta(hours=hours), device, severity))
    return resolved


_DETAIL = {
    AlertKind.SOS: "emergency phrase to the AI speaker",
    AlertKind.FALL: "wearable fall detection, then ~25 min on the floor",
    AlertKind.HYPERTENSIVE_CRISIS: "two BP readings >= 180 mmHg systolic a few minutes apart",
    AlertKind.HYPOGLYCEMIA: "glucose < 54 mg/dL, re-check after carbohydrate",
    AlertKind.HYPERGLYCEMIA: "two glucose readings > 300 mg/dL",
    AlertKind.LOW_SPO2: "SpO2 <= 88 % for about an hour",
    AlertKind.BRADYCARDIA: "heart rate <= 40 /min while resting",
    AlertKind.TACHYCARDIA: "heart rate >= 140 /min at rest",
    AlertKind.FEVER: "body temperature 38.1-38.8 C",
    AlertKind.RAPID_WEIGHT_GAIN: "weight +2.4 kg over 3 days",
    AlertKind.INACTIVITY: "no motion or steps at home during the day",
    AlertKind.NIGHT_WANDERING: "front door opened and left home at night",
    AlertKind.ROUTINE_CHANGE: "night toilet visits 6-8 instead of 1-2, broken sleep",
    AlertKind.DECLINING_ACTIVITY: "daily steps fall ~40 % over the window",
    AlertKind.MISSED_CHECKINS: "AI-speaker check-ins unanswered",
    AlertKind.DEVICE_OFFLINE: "device offline and silent",
    AlertKind.LOW_BATTERY: "wearable battery below 15 %",
    AlertKind.NO_DATA: "every device silent",
}


def ground_truth(
    population: Population,
    start: datetime,
    end: datetime,
    *,
    origin: datetime | None = None,
    live_start: datetime | None = None,
) -> list[GroundTruth]:
    """The labelled conditions whose window overlaps [start, end), in time order."""
    if origin is None:
        origin = origin_for(start, population.people[0].timezone)
    truths = []
    keys = {p.index: p.key for p in population.people}
    for inj in resolve(population, origin, live_start):
        if inj.end < start or inj.start >= end:
            continue
        detail = _DETAIL[AlertKind(inj.kind)]
        if inj.device:
            detail = f"{detail} ({inj.device})"
        truths.append(GroundTruth(keys[inj.enrollee], inj.kind, inj.start,
                                  inj.end, inj.severity, detail))
    truths.sort(key=lambda t: (t.start, t.enrollee, t.kind))
    return truths


def truth_record(truth: GroundTruth, enrollee_ids: dict[str, int] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "enrollee": truth.enrollee,
        "kind": truth.kind,
        "start": truth.start.isoformat(),
        "end": truth.end.isoformat(),
        "severity": truth.severity,
        "detail": truth.detail,
    }
    if enrollee_ids is not None and truth.enrollee in enrollee_ids:
        record["enrollee_id"] = enrollee_ids[truth.enrollee]
    return record


def write_jsonl(truths: Iterable[GroundTruth], out: IO[bytes],
                enrollee_ids: dict[str, int] | None = None) -> int:
    """Write ground truth as JSON lines; returns the number written."""
    count = 0
    for truth in truths:
        out.write(orjson.dumps(truth_record(truth, enrollee_ids)) + b"\n")
        count += 1
    return count


def read_jsonl(lines: Sequence[bytes] | IO[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in lines if line.strip()]
