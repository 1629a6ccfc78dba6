"""The time axis of one simulated day: its minutes, their epoch times, and the injected windows.

A day is counted in minutes after local midnight (0 .. 1440). ``DayClock`` turns such a
minute into the epoch milliseconds a device stamps; ``Conditions`` holds the injections that
reach the day, each with its window in those minutes (a window may start before 0 or end
after 1440: it began the day before or goes on tomorrow).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from device_sim.model import Injection

MIN_PER_DAY = 1440

# An injection and its window in minutes of the day: (injection, start, end).
Window = tuple[Injection, float, float]


@dataclass(frozen=True, slots=True)
class DayClock:
    """Minutes of a local day as epoch milliseconds."""

    base_ms: int  # local midnight

    @classmethod
    def starting(cls, day_start: datetime) -> DayClock:
        return cls(int(day_start.timestamp() * 1000))

    def ms(self, minute: float) -> int:
        return self.base_ms + int(minute * 60_000)


@dataclass(frozen=True, slots=True)
class Conditions:
    """The injected conditions that reach a day, with their windows in its minutes."""

    windows: tuple[Window, ...]

    @classmethod
    def of_day(cls, injections: Iterable[Injection], day_start: datetime) -> Conditions:
        windows = []
        for inj in injections:
            s = (inj.start - day_start).total_seconds() / 60
            e = (inj.end - day_start).total_seconds() / 60
            windows.append((inj, s, e))
        return cls(tuple(windows))

    def active(self, kind: str) -> list[Window]:
        """The windows of ``kind`` that overlap this day."""
        return [(i, s, e) for i, s, e in self.windows if i.kind == kind and e > 0 and s < MIN_PER_DAY]

    def spans(self, kind: str) -> list[tuple[float, float]]:
        """(start, end) of the windows of ``kind`` that overlap this day."""
        return [(s, e) for _, s, e in self.active(kind)]

    def all_spans(self, kind: str) -> list[tuple[float, float]]:
        """(start, end) of every window of ``kind``, also those before or after this day.

        Slow conditions (a weight gain, a decline) still shape the days around their window.
        """
        return [(s, e) for i, s, e in self.windows if i.kind == kind]
