"""Injected conditions look like the real thing; controls look normal, day after day.

The evaluation scenario is decoded by the project's own validator, then each ground-truth
record is checked against the data of its enrollee, and the clean controls are checked for
the absence of anything an alert rule should fire on.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest

from device_sim import generate, scenarios
from device_sim.day import schedule
from device_sim.model import GroundTruth, Population
from dolbom.thresholds import defaults
from tests.device_sim.conftest import SEOUL, window

decode_mod = pytest.importorskip("ingest.decode")
pytestmark = pytest.mark.slow
T = defaults()
DAYS = 28


@dataclass
class Home:
    readings: list[tuple[datetime, str, str, float]] = field(default_factory=list)
    events: list[tuple[datetime, str, str, Any]] = field(default_factory=list)
    status: list[tuple[datetime, str, int | None, bool | None]] = field(default_factory=list)
    sent: list[tuple[datetime, str]] = field(default_factory=list)

    def values(self, metric: str, a: datetime, b: datetime) -> list[float]:
        return [v for ts, _, m, v in self.readings if m == metric and a <= ts < b]

    def typed(self, etype: str, a: datetime, b: datetime) -> list[tuple[datetime, Any]]:
        return [(ts, d) for ts, _, t, d in self.events if t == etype and a <= ts < b]


@dataclass
class Data:
    population: Population
    truths: list[GroundTruth]
    homes: dict[str, Home]


CONTROLS_CHECKED = 12


@pytest.fixture(scope="module")
def data(evaluation: Population) -> Data:
    start, end = window(DAYS)
    truths = scenarios.ground_truth(evaluation, start, end)
    scen = scenarios.load("evaluation")
    keys = {t.enrollee for t in truths}
    controls = [evaluation.people[i].key for i in scen.controls[:: max(1, len(scen.controls)
                                                                     // CONTROLS_CHECKED)]]
    keys |= set(controls)
    subset = evaluation.subset(keys)
    assert scenarios.ground_truth(subset, start, end) == truths  # a subset changes nobody's days
    owner = {d.device_id: p.key for p in subset.people for d in p.devices}
    homes: dict[str, Home] = defaultdict(Home)
    for m in generate.messages(subset, start, end):
        device = m.topic.split("/")[2 if m.topic.startswith("dolbom") else 1]
        key = owner.get(device)
        if key is None:
            continue
        home = homes[key]
        home.sent.append((m.sent_at, device))
        d = decode_mod.decode(m.topic, m.payload, m.sent_at, m.sent_at)
        assert not d.rejects
        home.readings += [(r.ts, device, r.metric, r.value) for r in d.readings]
        home.events += [(e.ts, device, e.type, e.data) for e in d.events]
        if d.status:
            home.status.append((d.status.ts, device, d.status.battery, d.status.online))
    return Data(evaluation, truths, homes)


def _local_days() -> list[datetime]:
    start, _ = window(DAYS)
    return [start + timedelta(days=i) for i in range(DAYS)]


def test_controls_stay_inside_clinical_thresholds(data: Data) -> None:
    controls = [k for k in data.homes if k not in {t.enrollee for t in data.truths}]
    assert len(controls) >= 10
    start, end = window(DAYS)
    for key in controls:
        h = data.homes[key]
        assert all(v < T["sbp_crisis"] for v in h.values("systolic_bp", start, end))
        assert all(v < T["dbp_crisis"] for v in h.values("diastolic_bp", start, end))
        glucose = h.values("glucose", start, end)
        assert all(T["glucose_low_l1"] <= v <= T["glucose_high"] for v in glucose)
        assert all(v > T["spo2_low"] for v in h.values("spo2", start, end))
        hr = h.values("heart_rate", start, end)
        assert hr and all(T["hr_low"] <= v < T["hr_high"] for v in hr)
        assert all(v < T["fever"] for v in h.values("body_temp", start, end))
        weights = [(ts, v) for ts, _, m, v in h.readings if m == "weight"]
        for ts, v in weights:
            before = [w for t2, w in weights if ts - timedelta(days=3) <= t2 < ts]
            assert not before or v - min(before) < T["weight_gain_3d"]
        assert all(b is None or b >= 15 for _, _, b, _ in h.status)


def test_controls_live_a_normal_routine(data: Data) -> None:
    controls = [k for k in data.homes if k not in {t.enrollee for t in data.truths}]
    for key in controls:
        h = data.homes[key]
        person = data.population.person(key)
        daily_steps = []
        for day in _local_days():
            nxt = day + timedelta(days=1)
            # Nobody opens the front door between midnight and 5 am.
            assert not h.typed("door_open", day, day + timedelta(hours=5))
            # One or two night toilet visits (between midnight and getting up), at most three.
            wake = day + timedelta(minutes=schedule(data.population.seed, person,
                                                    day.date()).wake_min)
            assert len(h.typed("toilet", day, wake)) <= 3
            # Motion every waking hour or two; every device heard from each day.
            motion = sorted(ts for ts, _ in h.typed("motion", day + timedelta(hours=9),
                                                     day + timedelta(hours=19)))
            home_gaps = np.diff([day.timestamp() + 9 * 3600, *[t.timestamp() for t in motion],
                                 day.timestamp() + 19 * 3600])
            assert motion and home_gaps.max() < 3.5 * 3600
            heard = {d for t, d in h.sent if day <= t < nxt}
            assert {d.device_id for d in person.devices if d.key != "glu"} <= heard
            daily_steps.append(sum(h.values("steps", day, nxt)))
        # Weekday/weekend variation but no multi-week decline.
        assert np.mean(daily_steps[-7:]) > 0.75 * np.mean(daily_steps[:7])
        assert 0.05 < np.std(daily_steps) / np.mean(daily_steps) < 0.6
        answered = [bool(d.get("answered")) for _, d in h.typed("checkin", *window(DAYS))]
        assert len(answered) == DAYS
        assert not any(not a and not b for a, b in itertools.pairwise(answered))


def _check(truth: GroundTruth, h: Home, population: Population) -> None:
    a, b = truth.start, truth.end
    kind = truth.kind
    if kind in ("sos", "fall"):
        assert [ts for ts, _ in h.typed(kind, a - timedelta(seconds=1), a + timedelta(minutes=1))]
    elif kind == "hypertensive_crisis":
        sbp = h.values("systolic_bp", a, a + timedelta(minutes=10))
        assert len(sbp) == 2 and min(sbp) >= T["sbp_crisis"]  # a reading and its re-measure
    elif kind == "hypoglycemia":
        assert min(h.values("glucose", a, b)) < T["glucose_low_l2"]
    elif kind == "hyperglycemia":
        assert len([v for v in h.values("glucose", a, b) if v > T["glucose_high"]]) >= 2
    elif kind == "low_spo2":
        assert max(h.values("spo2", a, b)) <= T["spo2_critical"]
    elif kind == "bradycardia":
        assert max(h.values("heart_rate", a + timedelta(minutes=5), b)) <= T["hr_critical_low"]
    elif kind == "tachycardia":
        assert min(h.values("heart_rate", a + timedelta(minutes=5), b)) >= T["hr_critical_high"]
    elif kind == "fever":
        assert len([v for v in h.values("body_temp", a, b) if v > T["fever"]]) >= 2
    elif kind == "rapid_weight_gain":
        before = h.values("weight", a - timedelta(days=4), a)
        during = h.values("weight", a, b + timedelta(days=1))
        assert max(during) - np.mean(before) > T["weight_gain_3d"]
    elif kind == "inactivity":
        assert not h.typed("motion", a + timedelta(minutes=1), b)
        assert sum(h.values("steps", a + timedelta(minutes=5), b)) == 0
        assert h.values("heart_rate", a, b)  # the band is worn: the person is there
    elif kind == "night_wandering":
        opened = h.typed("door_open", a, b)
        assert opened and all(2 <= ts.astimezone(SEOUL).hour < 4 for ts, _ in opened)
    elif kind == "routine_change":
        night = a.replace(hour=1) + timedelta(days=1)
        assert len(h.typed("toilet", night, night + timedelta(hours=4))) >= 5
    elif kind == "declining_activity":
        first = [sum(h.values("steps", a - timedelta(days=i + 1), a - timedelta(days=i)))
                 for i in range(7)]
        last = [sum(h.values("steps", b - timedelta(days=i + 1), b - timedelta(days=i)))
                for i in range(5)]
        assert np.mean(last) < 0.75 * np.mean(first)
    elif kind == "missed_checkins":
        checkins = h.typed("checkin", a, b)
        assert len(checkins) >= 2 and not any(d.get("answered") for _, d in checkins)
    elif kind == "device_offline":
        device = population.person(truth.enrollee).device(truth.detail.split("(")[-1][:-1])
        assert device is not None
        said = [o for ts, d, _, o in h.status if d == device.device_id and abs(ts - a) < timedelta(
            minutes=1)]
        assert False in said
        assert not [t for t, d in h.sent if d == device.device_id and a + timedelta(
            minutes=1) < t < b]
    elif kind == "low_battery":
        assert [bat for ts, _, bat, _ in h.status if a <= ts < b and bat is not None and bat < 15]
    elif kind == "no_data":
        assert not [t for t, _ in h.sent if a + timedelta(seconds=1) < t < b]
        assert not [ts for ts, *_ in h.readings + h.events if a + timedelta(seconds=1) < ts < b]
        assert (b - a) > timedelta(hours=24)
    else:  # pragma: no cover - a new kind needs a check here
        raise AssertionError(f"no check for {kind}")


def test_each_injected_condition_looks_like_the_real_thing(data: Data) -> None:
    assert len(data.truths) >= 36
    for truth in data.truths:
        try:
            _check(truth, data.homes[truth.enrollee], data.population)
        except (AssertionError, ValueError) as error:
            raise AssertionError(f"{truth.kind} of {truth.enrollee} at {truth.start}") from error
