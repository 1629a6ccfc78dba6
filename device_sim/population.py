"""Enrollees and their kits, drawn from a scenario and a seed (pure, deterministic)."""

from __future__ import annotations

import re

import numpy as np

from device_sim.model import Person, Population, SimDevice
from device_sim.profiles import PROFILES
from device_sim.scenarios.spec import Scenario
from dolbom.wire import DeviceKind, Room

SURNAMES = ("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "한", "오", "서", "신",
            "권", "황", "안", "송", "류", "홍")
GIVEN_F = ("영희", "순자", "정숙", "영숙", "명숙", "옥순", "순희", "말순", "정자", "영자",
           "춘자", "경자", "복순", "금순", "옥자", "숙자", "미자", "정희", "순옥", "영순")
GIVEN_M = ("영수", "철수", "정호", "상철", "영호", "종수", "병철", "광수", "성호", "만수",
           "용수", "재호", "기수", "동수", "명호", "창수", "춘식", "길수", "덕수", "봉수")

ROOMS_WITH_PIR = (Room.BEDROOM, Room.BATHROOM, Room.KITCHEN, Room.LIVING)


def _slug(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]", "", name.lower())[:10]
    return slug or "sim"


def kit(prefix: str) -> tuple[SimDevice, ...]:
    """The standard kit of one home (device ids deterministic from ``prefix``)."""
    devices = [
        SimDevice(f"{prefix}-wear", "wear", DeviceKind.WEARABLE),
        SimDevice(f"{prefix}-bp", "bp", DeviceKind.BP_MONITOR),
        SimDevice(f"{prefix}-glu", "glu", DeviceKind.GLUCOMETER),
        SimDevice(f"{prefix}-scale", "scale", DeviceKind.SCALE),
        SimDevice(f"{prefix}-bed", "bed", DeviceKind.BED_SENSOR, Room.BEDROOM),
        SimDevice(f"{prefix}-spk", "spk", DeviceKind.AI_SPEAKER, Room.LIVING),
        SimDevice(f"{prefix}-hub", "hub", DeviceKind.HUB, Room.OTHER),
        SimDevice(f"{prefix}-door", "door", DeviceKind.DOOR_SENSOR, Room.ENTRANCE, zigbee=True),
    ]
    for room in ROOMS_WITH_PIR:
        devices.append(SimDevice(f"{prefix}-pir-{room.value}", f"pir-{room.value}",
                                 DeviceKind.MOTION_SENSOR, room, zigbee=True))
    return tuple(devices)


def _names(rng: np.random.Generator, sexes: list[str]) -> list[str]:
    """Distinct Korean names (surname + given name) for everyone, in order."""
    pools = {
        "F": [s + g for s in SURNAMES for g in GIVEN_F],
        "M": [s + g for s in SURNAMES for g in GIVEN_M],
    }
    order = {sex: list(rng.permutation(len(pool))) for sex, pool in pools.items()}
    used = {"F": 0, "M": 0}
    names = []
    for sex in sexes:
        pool = pools[sex]
        i = used[sex]
        used[sex] += 1
        base = pool[order[sex][i % len(pool)]]
        names.append(base if i < len(pool) else f"{base}{i // len(pool) + 1}")
    return names


def build(scenario: Scenario, seed: int) -> Population:
    """The population of ``scenario``: people, habits, baselines and kits, from ``seed``."""
    rng = np.random.default_rng([seed, 7919])
    profiles = [g.profile for g in scenario.groups for _ in range(g.count)]
    # Most enrollees of the programme are women living alone (about 3 in 4).
    sexes = ["F" if rng.random() < 0.72 else "M" for _ in profiles]
    names = _names(rng, sexes)
    slug = _slug(scenario.name)
    people = []
    for index, (profile_name, sex, name) in enumerate(zip(profiles, sexes, names, strict=True)):
        p = PROFILES[profile_name]
        r = np.random.default_rng([seed, 104729, index])
        key = f"{slug}-e{index:04d}"
        weight = float(r.normal(57 if sex == "F" else 66, 7))
        if profile_name == "heart_failure":
            weight += 4
        people.append(Person(
            index=index,
            key=key,
            name=name,
            sex=sex,
            birth_year=int(r.integers(1934, 1958)),
            profile=profile_name,
            conditions=p.conditions,
            timezone=scenario.timezone,
            devices=kit(f"{slug}{seed}-e{index:04d}"),
            wake_h=float(np.clip(r.normal(6.2, 0.5), 5.0, 7.5)),
            bed_h=float(np.clip(r.normal(21.8, 0.5), 20.8, 23.0)),
            steps_per_day=float(p.steps_per_day * np.exp(r.normal(0, 0.2))),
            outing_prob=float(np.clip(p.outing_prob + r.normal(0, 0.08), 0.1, 0.8)),
            night_toilet_mean=float(np.clip(p.night_toilet + r.normal(0, 0.25), 0.6, 2.0)),
            checkin_h=float(r.choice([9.5, 10.0, 10.5, 11.0])),
            hr_rest=float(np.clip(p.hr_rest + r.normal(0, 4), 60, 82)),
            sbp=float(np.clip(p.sbp + r.normal(0, 5), 112, 150)),
            dbp=float(np.clip(p.dbp + r.normal(0, 3), 66, 92)),
            glucose_fasting=float(np.clip(p.glucose_fasting + r.normal(0, 8), 85, 160)),
            weight_kg=float(np.clip(weight, 38, 95)),
            spo2=float(np.clip(p.spo2 + r.normal(0, 0.6), 94.0, 98.5)),
            temp_c=float(np.clip(r.normal(36.5, 0.15), 36.2, 36.8)),
            wear_charge_days=int(r.integers(4, 7)),
            phase=int(r.integers(0, 30)),
        ))
    return Population(
        name=scenario.name,
        seed=seed,
        region=scenario.region,
        care_workers=scenario.care_workers,
        staff=scenario.staff,
        people=tuple(people),
        injections=scenario.injections,
        history_days=scenario.history_days,
    )
