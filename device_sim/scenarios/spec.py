"""Scenario files (TOML): a population by profile, and the conditions injected into it.

A scenario names groups of enrollees by profile (``device_sim.profiles``) and the conditions
injected into some of them. Times are relative to the *origin*, the local midnight of the first
simulated day (``day = 0``), or to the *live start* (``live_offset``) for demos that should
raise alerts while someone watches. ``parse`` validates a document, ``load`` reads a built-in
scenario or a file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from device_sim.errors import ScenarioError
from device_sim.model import InjectionSpec
from device_sim.profiles import PROFILES
from dolbom.alerts import AlertKind, Severity

SCENARIO_DIR = Path(__file__).parent
BUILTIN = ("demo", "evaluation", "load")


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
