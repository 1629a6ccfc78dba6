"""The live demo's rhythm: which condition, in whose home, and when, for as long as it runs.

A demo is watched from its first minutes and left open for hours, so its conditions come in
two phases: a *warm-up* with an immediate critical condition (SOS, fall, hypertensive crisis
with its confirming re-measure, severe hypoglycemia) every ~3 minutes, then a *steady* pace of
1-4 conditions an hour of mixed kinds and severities (about 40 % critical, more when the milder
kinds are spent, at night), each chosen where it is plausible (a
hypoglycemia in a diabetic, a crisis in a hypertensive, night wandering at local night in
someone with cognitive impairment, inactivity in the morning). A household rests between its
acute conditions, and the same condition of the same person comes back only hours later: one
condition of one person is one alert (DESIGN: alarm fatigue), so repeating it would only
update an alert already in the inbox.

Pure: no I/O and no clock. ``schedule`` yields ``Injection``s in start order, endlessly, from
a random stream of its own keyed by the seed; the same seed and start give the same schedule.
It holds a few numbers per (enrollee, kind), so it can run for days.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from device_sim.model import Injection, Person, Population
from device_sim.scenarios.injections import injection
from dolbom.alerts import AlertKind as K
from dolbom.alerts import Severity

_STREAM = 0x4C495645  # "LIVE": the schedule's random stream, apart from the days'


@dataclass(frozen=True, slots=True)
class Rhythm:
    """The pace of a live demo (seconds). ``DEMO`` is what ``dolbom up --demo`` runs."""

    first_after_s: tuple[int, int] = (45, 90)  # the first critical: ingest is up by then
    warmup_s: int = 15 * 60
    warmup_gap_s: tuple[int, int] = (150, 210)  # ~3 min between criticals
    steady_gap_s: tuple[int, int] = (15 * 60, 45 * 60)  # 1-4 an hour, 2 on average
    critical_share: float = 0.4  # of the steady conditions, when a milder one can be had
    repeat_after_s: int = 6 * 3600  # before the same condition of the same person comes again
    rest_s: int = 45 * 60  # after an acute condition ends, before that home's next one

    def describe(self, households: int) -> str:
        """What a demo on this rhythm does, in one clause (``dolbom up --demo`` prints it)."""
        gap_min = round(sum(self.warmup_gap_s) / 2 / 60)
        most = 3600 // self.steady_gap_s[0]
        least = 3600 // self.steady_gap_s[1]
        return (f"simulating {households} households live; a critical alert every ~{gap_min} min "
                f"for the first {self.warmup_s // 60} min, then a few alerts an hour "
                f"({least}-{most}, mixed kinds and severities)")


DEMO = Rhythm()


@dataclass(frozen=True, slots=True)
class Plausible:
    """Where a kind of condition may be injected: whom, at which local hours, how often."""

    weight: float  # share in its class (critical or milder) of the steady mix
    who: Callable[[Person], bool]
    local_hours: tuple[float, float] = (0.0, 24.0)  # when it may start, local [from, to)
    alongside: bool = False  # runs alongside a home's other conditions (a flat band, a fever)
    devices: tuple[str, ...] = ()  # one is chosen (device_offline)
    lasts_h: float | None = None  # None: the kind's default length (scenarios.DEFAULT_HOURS)


def _anyone(person: Person) -> bool:
    return True


def _having(condition: str) -> Callable[[Person], bool]:
    return lambda person: condition in person.conditions


def _frail_heart(person: Person) -> bool:
    return bool({"heart_failure", "frailty"} & set(person.conditions))


# Immediate, critical on arrival: an alert within seconds of the injection.
WARMUP_KINDS = (K.SOS, K.FALL, K.HYPERTENSIVE_CRISIS, K.HYPOGLYCEMIA)
# Slow kinds are left out: missed check-ins, routine change and declining activity take days to
# show, a rapid weight gain three days; no_data hides a home for 30 h.
PLAUSIBLE: dict[K, Plausible] = {
    K.SOS: Plausible(1.0, _anyone),
    K.FALL: Plausible(1.0, _anyone),
    K.HYPERTENSIVE_CRISIS: Plausible(1.0, _having("hypertension"), (7.0, 22.0)),
    K.HYPOGLYCEMIA: Plausible(0.8, _having("diabetes"), (6.0, 23.0)),
    K.LOW_SPO2: Plausible(0.6, _frail_heart),
    K.TACHYCARDIA: Plausible(0.5, _anyone),
    K.BRADYCARDIA: Plausible(0.4, _having("hypertension")),  # on beta-blockers
    K.HYPERGLYCEMIA: Plausible(1.0, _having("diabetes"), (8.0, 18.0)),
    K.FEVER: Plausible(1.0, _anyone, (8.0, 20.0), alongside=True),
    # A band left uncharged for the afternoon, then charged; a sensor whose battery is changed
    # after a few hours (shorter than a scenario's, so a demo's homes can have them again).
    K.LOW_BATTERY: Plausible(1.5, _anyone, (8.0, 20.0), alongside=True, lasts_h=6.0),
    K.DEVICE_OFFLINE: Plausible(0.8, _anyone, alongside=True,
                                devices=("pir-kitchen", "pir-living"), lasts_h=4.0),
    K.INACTIVITY: Plausible(1.5, _anyone, (8.0, 15.0)),  # 4.5 h at home, over by the evening
    K.NIGHT_WANDERING: Plausible(3.0, _having("cognitive_impairment"), (0.5, 4.5)),
}


_SEVERITY = {kind: injection(kind, 0, datetime(2000, 1, 1, tzinfo=UTC)).severity
             for kind in PLAUSIBLE}


class _Homes:
    """What the schedule remembers: when each home is free, when each condition last ended."""

    def __init__(self, rhythm: Rhythm) -> None:
        self.rhythm = rhythm
        self.free_at: dict[int, datetime] = {}
        self.ended: dict[tuple[int, K], datetime] = {}
        self.last_any: dict[int, datetime] = {}

    def eligible(self, kind: K, person: Person, at: datetime) -> bool:
        rule = PLAUSIBLE[kind]
        hour = at.astimezone(person.tz)
        h = hour.hour + hour.minute / 60
        if not (rule.who(person) and rule.local_hours[0] <= h < rule.local_hours[1]):
            return False
        if not rule.alongside and self.free_at.get(person.index, at) > at:
            return False
        ended = self.ended.get((person.index, kind))
        return ended is None or (at - ended).total_seconds() >= self.rhythm.repeat_after_s

    def take(self, inj: Injection) -> None:
        kind = K(inj.kind)
        self.ended[(inj.enrollee, kind)] = inj.end
        self.last_any[inj.enrollee] = inj.start
        if not PLAUSIBLE[kind].alongside:
            self.free_at[inj.enrollee] = inj.end + timedelta(seconds=self.rhythm.rest_s)


class _Mix:
    """Which kind a slot gets: the warm-up's critical kinds in turn, then the steady mix."""

    def __init__(self, rhythm: Rhythm, rng: np.random.Generator) -> None:
        self.rhythm = rhythm
        self.rng = rng
        self.warmup_done = {kind: 0 for kind in WARMUP_KINDS}
        self.owed = 0.0  # criticals owed to the steady mix (critical_share per condition)

    def warmup(self, kinds: list[K]) -> K:
        """Each critical kind in turn, so the first minutes show all of them."""
        fewest = min(self.warmup_done[k] for k in kinds)
        kinds = [k for k in kinds if self.warmup_done[k] == fewest]
        kind = kinds[int(self.rng.integers(len(kinds)))]
        self.warmup_done[kind] += 1
        return kind

    def steady(self, kinds: list[K]) -> K:
        """Critical or milder by the share owed, then a kind of that class by its weight."""
        critical = [k for k in kinds if _SEVERITY[k] == Severity.CRITICAL]
        milder = [k for k in kinds if k not in critical]
        self.owed += self.rhythm.critical_share
        kinds = (critical if self.owed >= 1 else milder) or critical or milder
        weights = np.array([PLAUSIBLE[k].weight for k in kinds])
        kind = kinds[int(self.rng.choice(len(kinds), p=weights / weights.sum()))]
        if kind in critical:  # one taken for want of a milder kind is paid back later
            self.owed = max(self.owed - 1, -1.0)
        return kind


def schedule(
    population: Population, start: datetime, seed: int | None = None, rhythm: Rhythm = DEMO
) -> Iterator[Injection]:
    """The live demo's injections from ``start``, in start order, without end.

    A slot whose conditions are all ruled out (every home resting) is skipped.
    """
    if seed is None:
        seed = population.seed
    people = population.people
    if not people:
        return
    rng = np.random.default_rng([seed, _STREAM])
    homes = _Homes(rhythm)
    mix = _Mix(rhythm, rng)
    offset_s = int(rng.integers(rhythm.first_after_s[0], rhythm.first_after_s[1] + 1))
    while True:  # whole seconds from the start: no rounding drifts over days
        at = start + timedelta(seconds=offset_s)
        warmup = offset_s < rhythm.warmup_s
        options = {kind: [p for p in people if homes.eligible(kind, p, at)]
                   for kind in (WARMUP_KINDS if warmup else PLAUSIBLE)}
        options = {kind: who for kind, who in options.items() if who}
        if options:
            kind = mix.warmup(list(options)) if warmup else mix.steady(list(options))
            # The home that waited longest; ties (never chosen yet) by the random stream.
            candidates = [options[kind][i] for i in rng.permutation(len(options[kind]))]
            person = min(candidates, key=lambda p: homes.last_any.get(p.index, start))
            devices = PLAUSIBLE[kind].devices
            device = devices[int(rng.integers(len(devices)))] if devices else None
            inj = injection(kind, person.index, at, device=device, hours=PLAUSIBLE[kind].lasts_h)
            homes.take(inj)
            yield inj
        warm_next = offset_s + rhythm.warmup_gap_s[0] < rhythm.warmup_s
        gaps = rhythm.warmup_gap_s if warm_next else rhythm.steady_gap_s
        offset_s += int(rng.integers(gaps[0], gaps[1] + 1))


def for_live_demo(population: Population) -> Population:
    """The population without its scenario's ``live_offset`` injections: the rhythm's warm-up
    takes their place (their days, and the history's injections, are unchanged)."""
    return replace(population, injections=tuple(
        spec for spec in population.injections if spec.live_offset_s is None))


def note(inj: Injection, population: Population) -> str:
    """One line for the console when an injection starts (the enrollee's key, not their name)."""
    person = next(p for p in population.people if p.index == inj.enrollee)
    where = f" ({inj.device})" if inj.device else ""
    local = inj.start.astimezone(person.tz).strftime("%H:%M:%S")
    return f"sim: live demo {local}: {inj.kind}{where}, {inj.severity}, at {person.key}"
