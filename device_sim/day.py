"""One simulated day of one enrollee: where they are minute by minute, and what it causes.

Pure and deterministic: everything random comes from a generator keyed by (seed, enrollee,
date), so the same day is the same whatever window it is generated in. Injected conditions
(``Injection``) bend the day: they are applied here, where the routine is made, so an
injected condition looks like the real thing (no motion, a door at night, low readings).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from device_sim import vitals
from device_sim.model import Injection, Person
from device_sim.profiles import on_medication
from device_sim.records import DayRecords
from device_sim.timeline import MIN_PER_DAY, Conditions, DayClock
from dolbom.alerts import AlertKind as K

BEDROOM, BATHROOM, KITCHEN, LIVING, AWAY = 0, 1, 2, 3, 5
PIR_KEY = {BEDROOM: "pir-bedroom", BATHROOM: "pir-bathroom", KITCHEN: "pir-kitchen",
           LIVING: "pir-living"}
# Chance per minute that a room's PIR sees movement while the person is in it and awake.
MOTION_P = {BEDROOM: 0.25, BATHROOM: 0.7, KITCHEN: 0.45, LIVING: 0.13}
PIR_TIMEOUT_S = 90  # zigbee2mqtt occupancy_timeout: occupancy false after 90 s without motion


@dataclass(frozen=True, slots=True)
class Schedule:
    wake_min: float  # minutes after local midnight
    bed_min: float
    weekend: bool


def _rng(seed: int, person: Person, day: date, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, person.index, day.toordinal(), stream])


def schedule(seed: int, person: Person, day: date) -> Schedule:
    """Wake and bed times of a day (cheap, so the previous night can be looked up)."""
    r = _rng(seed, person, day, 1)
    weekend = day.weekday() >= 5
    late_night = day.weekday() in (4, 5)  # Friday and Saturday: a little later to bed
    wake = person.wake_h + r.normal(0, 0.3) + (0.4 if weekend else 0.0)
    bed = person.bed_h + r.normal(0, 0.3) + (0.3 if late_night else 0.0)
    return Schedule(float(np.clip(wake, 4.5, 9.0)) * 60, float(np.clip(bed, 20.0, 23.7)) * 60,
                    weekend)


class DayBuilder:
    """Builds one person-day. Use ``build()``; the methods are the steps of a day."""

    def __init__(self, seed: int, person: Person, day: date, injections: list[Injection]) -> None:
        self.seed = seed
        self.p = person
        self.day = day
        self.start = datetime(day.year, day.month, day.day, tzinfo=person.tz)
        self.clock = DayClock.starting(self.start)
        self.r = _rng(seed, person, day, 2)
        self.sched = schedule(seed, person, day)
        self.prev = schedule(seed, person, day - timedelta(days=1))
        self.conditions = Conditions.of_day(injections, self.start)
        self.out = DayRecords()
        self.loc = np.full(MIN_PER_DAY, LIVING, dtype=np.int8)
        self.asleep = np.zeros(MIN_PER_DAY, dtype=bool)
        self.still = np.zeros(MIN_PER_DAY, dtype=bool)  # at home but not moving (injected)
        self.worn = np.ones(MIN_PER_DAY, dtype=bool)
        self.bathroom_visits: list[tuple[float, float, bool]] = []  # (start, end, night)

    # -- helpers ---------------------------------------------------------------------------
    def ms(self, minute: float) -> int:
        return self.clock.ms(minute)

    def blocked(self, minute: float) -> bool:
        """True while the person cannot do their routine (injected immobility or no data)."""
        m = int(minute)
        return 0 <= m < MIN_PER_DAY and bool(self.still[m] or self.loc[m] == AWAY)

    def paint(self, a: float, b: float, room: int) -> None:
        ia, ib = max(0, int(a)), min(MIN_PER_DAY, math.ceil(b))
        if ib > ia:
            self.loc[ia:ib] = room

    # -- the day -----------------------------------------------------------------------------
    def build(self) -> DayRecords:
        self.routine()
        self.apply_timeline_injections()
        steps = self.motion_and_steps()
        self.home_events()
        self.wearable(steps)
        self.measurements()
        self.speaker()
        self.device_reports()
        self.apply_silence()
        return self.out

    def routine(self) -> None:
        r, s = self.r, self.sched
        wake, bed = s.wake_min, s.bed_min
        self.paint(0, wake, BEDROOM)
        self.asleep[: int(wake)] = True
        self.paint(bed, MIN_PER_DAY, BEDROOM)
        self.asleep[int(bed):] = True
        # Night toilet visits (nocturia), after midnight; counts of 1-2 are usual at this age.
        n_night = int(r.integers(6, 9)) if self.disrupted_night() else min(
            3, int(r.poisson(self.p.night_toilet_mean)))
        for t in np.sort(r.uniform(60, max(90, wake - 25), n_night)):
            dur = float(r.uniform(4, 8))
            self.bathroom_visits.append((float(t), float(t) + dur, True))
        # Morning: toilet, wash, breakfast.
        self.bathroom_visits.append((wake + 1, wake + 1 + r.uniform(8, 14), False))
        self.breakfast = wake + r.uniform(25, 40)
        self.paint(self.breakfast, self.breakfast + r.uniform(25, 35), KITCHEN)
        self.lunch = 12 * 60 + r.normal(0, 15)
        self.paint(self.lunch, self.lunch + r.uniform(30, 45), KITCHEN)
        self.dinner = 18 * 60 + r.normal(0, 20)
        self.paint(self.dinner, self.dinner + r.uniform(35, 50), KITCHEN)
        # Short kitchen trips (tea, snacks) and daytime toilet visits.
        for t in r.uniform(wake + 90, bed - 30, int(r.integers(3, 7))):
            self.paint(t, t + r.uniform(3, 10), KITCHEN)
        for t in r.uniform(wake + 60, bed - 20, int(r.integers(4, 7))):
            self.bathroom_visits.append((float(t), float(t) + float(r.uniform(3, 6)), False))
        self.bathroom_visits.append((bed - 12, bed - 4, False))
        if r.random() < 0.5:  # an afternoon nap in the bedroom: asleep, so hardly any motion
            nap = r.uniform(13.3 * 60, 15 * 60)
            nap_end = nap + r.uniform(25, 55)
            self.paint(nap, nap_end, BEDROOM)
            self.asleep[int(nap) + 3: int(nap_end)] = True
        # Going out: senior centre, market, a walk; less at weekends and for frail people.
        decline = self.decline_factor()
        p_out = self.p.outing_prob * (0.7 if s.weekend else 1.0) * (0.4 + 0.6 * decline)
        self.outings: list[tuple[float, float]] = []
        if r.random() < p_out:
            a = r.uniform(9 * 60, 10 * 60)
            self.outings.append((a, min(a + r.uniform(50, 120), 11.7 * 60)))
        if r.random() < p_out * 0.7:
            a = r.uniform(14 * 60, 16 * 60)
            self.outings.append((a, a + r.uniform(40, 100)))
        for a, b in self.outings:
            self.paint(a, b, AWAY)
            self.asleep[max(0, int(a)): min(MIN_PER_DAY, math.ceil(b))] = False
        for a, b, night_visit in self.bathroom_visits:
            if not self.blocked(a):
                self.paint(a, b, BATHROOM)
                self.asleep[int(a): math.ceil(b) + (3 if night_visit else 0)] = False
        # Shower every other day, morning: the band comes off.
        if (self.day.toordinal() + self.p.phase) % 2 == 0:
            t = wake + 15
            self.paint(t, t + 20, BATHROOM)
            self.worn[int(t): int(t + 25)] = False
        # Charging the band: one evening every few days, off the wrist for ~80 minutes.
        if self.charge_day():
            t = int(19 * 60 + r.uniform(0, 60))
            self.worn[t: t + 80] = False

    def disrupted_night(self) -> bool:
        """True when a routine_change window covers the night ending this morning."""
        return any(s <= self.sched.wake_min and e >= 60
                   for _, s, e in self.conditions.active(K.ROUTINE_CHANGE))

    def charge_day(self) -> bool:
        return (self.day.toordinal() + self.p.phase) % self.p.wear_charge_days == 0

    def decline_factor(self) -> float:
        """1.0 normally; falls to 0.6 across a declining_activity window and stays there."""
        noon = 12 * 60
        factor = 1.0
        for s, e in self.conditions.all_spans(K.DECLINING_ACTIVITY):
            if noon >= s:
                factor = min(factor, 1.0 - 0.4 * min(1.0, (noon - s) / max(1.0, e - s)))
        return factor

    def apply_timeline_injections(self) -> None:
        for _, s, e in self.conditions.active(K.INACTIVITY) + self.conditions.active(K.FALL):
            a, b = max(0, int(s)), min(MIN_PER_DAY, math.ceil(e))
            here = self.loc[a] if self.loc[a] != AWAY else LIVING
            self.loc[a:b] = here
            self.still[a:b] = True
            self.asleep[a:b] = False
        for _, s, e in self.conditions.active(K.NIGHT_WANDERING):
            a, b = max(0, int(s)), min(MIN_PER_DAY, math.ceil(e))
            self.asleep[a:b] = False
            self.loc[a: a + 2] = BEDROOM
            self.loc[a + 2: b - 3] = AWAY
            self.loc[b - 3: b - 1] = LIVING
            self.loc[b - 1: b] = BEDROOM
        for _, s, e in self.conditions.active(K.NO_DATA):
            a, b = max(0, int(s)), min(MIN_PER_DAY, math.ceil(e))
            self.loc[a:b] = AWAY  # in hospital; the home is empty and every device is silent
            self.asleep[a:b] = False

    def motion_and_steps(self) -> np.ndarray:
        """zigbee2mqtt occupancy messages per room, door contacts, and steps per minute."""
        r, loc = self.r, self.loc
        awake_home = (~self.asleep) & (loc != AWAY) & (~self.still)
        p = np.zeros(MIN_PER_DAY)
        for room, prob in MOTION_P.items():
            p[loc == room] = prob
        p[self.asleep] = 0.003
        p[self.still] = 0.0
        entries = np.flatnonzero(np.diff(loc, prepend=loc[0]) != 0)
        trig = r.random(MIN_PER_DAY) < p
        trig[entries] = True
        trig &= (loc != AWAY) & (~self.still)
        offsets = r.integers(0, 60, MIN_PER_DAY)
        battery = vitals.zigbee_battery(self.day, self.p.devices)
        for room, key in PIR_KEY.items():
            minutes = np.flatnonzero(trig & (loc == room))
            if minutes.size == 0:
                continue
            # A run of motion minutes keeps occupancy true; z2m sends true once, false after.
            breaks = np.flatnonzero(np.diff(minutes) > 1)
            starts = minutes[np.r_[0, breaks + 1]]
            ends = minutes[np.r_[breaks, minutes.size - 1]]
            lq = int(r.integers(60, 160))
            for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
                t_on = self.ms(a) + int(offsets[a]) * 1000
                t_off = self.ms(b) + int(offsets[b]) * 1000 + PIR_TIMEOUT_S * 1000
                state = {"occupancy": True, "battery": battery[key], "linkquality": lq}
                self.out.z2m.append((key, t_on, state))
                self.out.z2m.append((key, t_off, {"occupancy": False, "battery": battery[key],
                                                   "linkquality": lq}))
        # Door: leaving and coming home.
        away = (loc == AWAY).astype(np.int8)
        change = np.diff(away, prepend=away[0])
        for m in np.flatnonzero(change != 0).tolist():
            t = self.ms(m) - 30_000
            self.out.z2m.append(("door", t, {"contact": False, "battery": battery["door"],
                                             "linkquality": 110}))
            self.out.z2m.append(("door", t + int(r.integers(8, 25)) * 1000,
                                 {"contact": True, "battery": battery["door"],
                                  "linkquality": 110}))
        # Steps per minute, scaled to the day's target (weekday, weather, decline).
        target = self.p.steps_per_day * float(np.exp(r.normal(0, 0.15))) * self.decline_factor()
        if self.sched.weekend:
            target *= 0.85
        steps = np.zeros(MIN_PER_DAY)
        home_w = np.where(trig & awake_home, r.uniform(0.5, 1.5, MIN_PER_DAY), 0.0)
        out_minutes = loc == AWAY
        walking = out_minutes & (r.random(MIN_PER_DAY) < 0.55)
        hw = home_w.sum()
        # A day at home is a quieter day, not a still one: more pottering about the house.
        home_share = 0.45 if out_minutes.any() else 0.75
        if hw > 0:
            steps += home_w / hw * target * home_share
        out_total = target * 0.55 * min(1.2, 0.5 + out_minutes.sum() / 200.0)
        if walking.any():
            w = np.where(walking, r.uniform(0.7, 1.3, MIN_PER_DAY), 0.0)
            steps += w / w.sum() * out_total
        for _, s, e in self.conditions.active(K.NIGHT_WANDERING):
            a, b = max(0, int(s)), min(MIN_PER_DAY, int(e))
            steps[a:b] = np.where(loc[a:b] == AWAY, r.uniform(30, 70, b - a), 0)
        if self.conditions.active(K.NO_DATA):
            steps[loc == AWAY] = 0.0
        steps[self.still] = 0.0
        return np.minimum(np.round(steps), 130)

    def home_events(self) -> None:
        """Bed sensor (bed_exit / bed_entry) and toilet flushes via the hub."""
        r, ev = self.r, self.out.events
        wake, bed = self.sched.wake_min, self.sched.bed_min
        ev.append(("bed", self.ms(wake), "bed_exit", None))
        ev.append(("bed", self.ms(bed), "bed_entry", None))
        for a, b, night in self.bathroom_visits:
            if self.blocked(a) or self.loc[min(int(a), MIN_PER_DAY - 1)] != BATHROOM:
                continue
            if night:
                ev.append(("bed", self.ms(a - 1), "bed_exit", None))
                ev.append(("bed", self.ms(b + 1), "bed_entry", None))
            ev.append(("hub", self.ms(b - r.uniform(0.2, 1.0)), "toilet", {"room": "bathroom"}))
        for _, s, e in self.conditions.active(K.NIGHT_WANDERING):
            ev.append(("bed", self.ms(s), "bed_exit", None))
            ev.append(("bed", self.ms(e), "bed_entry", None))
        for _, s, _ in self.conditions.active(K.FALL):
            if 0 <= s < MIN_PER_DAY:  # the band's fall detection; the person then lies still
                ev.append(("wear", self.ms(s), "fall",
                           {"confidence": round(float(r.uniform(0.85, 0.99)), 2)}))

    def wearable(self, steps: np.ndarray) -> None:
        """The band's samples of the day (heart rate, steps, SpO2, temperature, sleep)."""
        self.out.stream.extend(vitals.wearable(
            person=self.p, rng=self.r, clock=self.clock, conditions=self.conditions, steps=steps,
            asleep=self.asleep, worn=self.worn, wake_min=self.sched.wake_min,
            prev_bed_min=self.prev.bed_min, disrupted_night=self.disrupted_night()))

    def measurements(self) -> None:
        """BP cuff, glucometer and scale, in that order (they share the day's random stream)."""
        blocked = self.still | (self.loc == AWAY)  # as ``blocked()``, for every minute
        p, r, clock, conditions, wake = self.p, self.r, self.clock, self.conditions, self.sched.wake_min
        self.out.readings.extend(vitals.bp_readings(
            person=p, rng=r, clock=clock, conditions=conditions, wake_min=wake, blocked=blocked))
        self.out.readings.extend(vitals.glucose_readings(
            person=p, rng=r, clock=clock, conditions=conditions, day=self.day, wake_min=wake,
            bed_min=self.sched.bed_min, lunch_min=self.lunch, dinner_min=self.dinner,
            blocked=blocked))
        self.out.readings.extend(vitals.scale_readings(
            person=p, rng=r, clock=clock, conditions=conditions, day=self.day, wake_min=wake,
            blocked=blocked))

    def device_reports(self) -> None:
        """Status with battery, zigbee heartbeats and the living-room sensor's climate."""
        self.out.status.extend(vitals.device_status(
            person=self.p, clock=self.clock, conditions=self.conditions, day=self.day,
            worn=self.worn))
        self.out.z2m.extend(vitals.zigbee_reports(
            person=self.p, rng=self.r, clock=self.clock, day=self.day))

    def speaker(self) -> None:
        """Daily check-in conversation, medication reminders, and the emergency phrase."""
        r, p = self.r, self.p
        missed = bool(self.conditions.active(K.MISSED_CHECKINS)) and any(
            s <= p.checkin_h * 60 + 180 and e >= p.checkin_h * 60
            for _, s, e in self.conditions.active(K.MISSED_CHECKINS))
        t0 = p.checkin_h * 60 + r.uniform(0, 5)
        answered_at = None
        if not missed:
            for attempt in range(3):  # the speaker retries hourly while nobody answers
                t = t0 + 60 * attempt
                if not self.blocked(t) and not self.asleep[int(t)]:
                    answered_at = t
                    break
        # A person may not feel like talking one day; never two days running.
        if answered_at is not None and (self.day.toordinal() + p.phase) % 3 == 0 \
                and r.random() < 0.05:
            answered_at = None
        if answered_at is not None:
            mood = int(r.choice([3, 4, 4, 4, 5, 5])) if p.profile != "cognitive" else int(
                r.choice([2, 3, 3, 4, 4, 5]))
            data: dict[str, Any] = {"answered": True, "mood": mood,
                                    "duration_s": int(r.integers(40, 240))}
            self.out.events.append(("spk", self.ms(answered_at), "checkin", data))
        elif not self.blocked(t0 + 120) or missed:
            self.out.events.append(("spk", self.ms(t0 + 121), "checkin", {"answered": False}))
        if on_medication(p):
            adherence = 0.85 if p.profile == "cognitive" else 0.96
            for slot, t in (("morning", self.breakfast + 35), ("evening", self.dinner + 50)):
                if self.blocked(t):
                    continue
                kind = "medication_taken" if r.random() < adherence else "medication_missed"
                self.out.events.append(("spk", self.ms(t + r.uniform(0, 10)), kind,
                                        {"slot": slot}))
        for _inj, s, _ in self.conditions.active(K.SOS):
            if 0 <= s < MIN_PER_DAY:
                self.out.events.append(("spk", self.ms(s), "sos",
                                        {"source": "voice", "phrase": "help me"}))

    def apply_silence(self) -> None:
        for _, s, e in self.conditions.active(K.NO_DATA):
            self.out.silent.append(("*", self.ms(s), self.ms(e)))
        for inj, s, e in self.conditions.active(K.DEVICE_OFFLINE):
            key = inj.device or "pir-kitchen"
            self.out.silent.append((key, self.ms(s) + 1, self.ms(e)))
            device = self.p.device(key)
            zigbee = device is not None and device.zigbee
            if 0 <= s < MIN_PER_DAY:
                if zigbee:
                    self.out.availability.append((key, self.ms(s), "offline"))
                else:  # the broker publishes the device's last will
                    self.out.status.append((key, self.ms(s), {"online": False}))
            if 0 <= e < MIN_PER_DAY:
                if zigbee:
                    self.out.availability.append((key, self.ms(e) + 1000, "online"))
                else:
                    self.out.status.append((key, self.ms(e) + 1000, {"online": True}))


def build_day(seed: int, person: Person, day: date, injections: list[Injection]) -> DayRecords:
    """Records of ``person`` on local ``day`` (``injections`` already filtered to them)."""
    return DayBuilder(seed, person, day, injections).build()
