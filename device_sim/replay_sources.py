"""Readers of the real public data sets in ../shared/data (read in place, never copied).

Each reader returns plain records in the data's own local wall-clock time (naive datetimes)
and counts the lines it had to skip (the originals have known quirks: impossible dates,
times like 56:35, zero glucose values). See each folder's SOURCE.md for the columns.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from device_sim.errors import ReplayDataError

FITBIT_BIN_MIN = 5  # the simulated band's interval: steps summed, heart rate averaged


@dataclass
class Skipped:
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, why: str) -> None:
        self.count += 1
        if len(self.examples) < 5:
            self.examples.append(why)


def _need(path: Path) -> Path:
    if not path.exists():
        raise ReplayDataError(f"{path} not found: --data-dir must be the data set's folder")
    return path


def _open_text(path: Path) -> io.TextIOWrapper:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


# -- Fitbit (Fitabase export): "4/12/2016 12:00:00 AM" -----------------------------------------
_date_cache: dict[str, date] = {}


def fitbit_time(text: str) -> datetime:
    """Parse Fitabase's ``M/D/YYYY h:mm:ss AM/PM`` quickly (1.3 M rows)."""
    day_text, clock, half = text.split(" ")
    day = _date_cache.get(day_text)
    if day is None:
        m, d, y = (int(x) for x in day_text.split("/"))
        day = _date_cache.setdefault(day_text, date(y, m, d))
    h, mi, s = (int(x) for x in clock.split(":"))
    if not (1 <= h <= 12 and 0 <= mi < 60 and 0 <= s < 60) or half not in ("AM", "PM"):
        raise ValueError(text)
    h = h % 12 + (12 if half == "PM" else 0)
    return datetime(day.year, day.month, day.day, h, mi, s)


@dataclass
class FitbitPerson:
    bins: dict[datetime, dict[str, float]] = field(default_factory=dict)  # 5-min bin start
    sleep: list[tuple[datetime, float]] = field(default_factory=list)
    weight: list[tuple[datetime, float]] = field(default_factory=list)


def read_fitbit(folder: Path, skipped: Skipped) -> dict[str, FitbitPerson]:
    steps_file = _need(folder / "minuteStepsNarrow_merged.csv.gz")
    people: dict[str, FitbitPerson] = defaultdict(FitbitPerson)

    def bin_of(moment: datetime) -> datetime:
        return moment.replace(minute=moment.minute - moment.minute % FITBIT_BIN_MIN, second=0)

    for row in _rows(steps_file, skipped):
        try:
            moment, steps = fitbit_time(row[1]), int(row[2])
        except (ValueError, IndexError):
            skipped.add(f"steps row {row!r}")
            continue
        values = people[row[0]].bins.setdefault(bin_of(moment), {})
        values["steps"] = values.get("steps", 0) + steps
    hr_file = folder / "heartrate_seconds_merged.5of14subjects.csv.gz"
    if hr_file.exists():
        sums: dict[tuple[str, datetime], list[float]] = defaultdict(lambda: [0.0, 0])
        for row in _rows(hr_file, skipped):
            try:
                moment, bpm = fitbit_time(row[1]), float(row[2])
            except (ValueError, IndexError):
                skipped.add(f"heart rate row {row!r}")
                continue
            acc = sums[(row[0], bin_of(moment))]
            acc[0] += bpm
            acc[1] += 1
        for (pid, start), (total, n) in sums.items():
            people[pid].bins.setdefault(start, {})["heart_rate"] = round(total / n)
    sleep_file = folder / "sleepDay_merged.csv"
    if sleep_file.exists():
        for row in _rows(sleep_file, skipped):
            try:
                # The night ending on SleepDay's morning; reported at 08:00 as the band would.
                people[row[0]].sleep.append((fitbit_time(row[1]) + timedelta(hours=8),
                                             float(row[3])))
            except (ValueError, IndexError):
                skipped.add(f"sleep row {row!r}")
    weight_file = folder / "weightLogInfo_merged.csv"
    if weight_file.exists():
        for row in _rows(weight_file, skipped):
            try:
                people[row[0]].weight.append((fitbit_time(row[1]), round(float(row[2]), 1)))
            except (ValueError, IndexError):
                skipped.add(f"weight row {row!r}")
    return dict(people)


def _rows(path: Path, skipped: Skipped) -> Iterator[list[str]]:
    with _open_text(path) as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or not header or header[0] != "Id":
            raise ReplayDataError(f"{path.name} does not start with the Fitabase header 'Id,...'")
        yield from reader


# -- Ordóñez ADL binary sensors -----------------------------------------------------------------
_ORDONEZ_ROW = re.compile(
    r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\S+)\s+(\S+)\s+(\S+)"
)


@dataclass(frozen=True, slots=True)
class SensorInterval:
    start: datetime
    end: datetime
    location: str  # Bed, Toilet, Maindoor, Basin, ...
    type: str  # PIR, Magnetic, Pressure, Flush, Electric
    place: str  # Bedroom, Bathroom, Kitchen, Living, Entrance


def read_ordonez(folder: Path, skipped: Skipped) -> dict[str, list[SensorInterval]]:
    homes: dict[str, list[SensorInterval]] = {}
    for home in ("A", "B"):
        path = folder / f"Ordonez{home}_Sensors.txt"
        if not path.exists():
            continue
        intervals = []
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[2:]:
            if not line.strip():
                continue
            match = _ORDONEZ_ROW.search(line)
            if match is None:
                skipped.add(f"Ordonez{home} line {line.strip()[:60]!r}")
                continue
            start, end = (datetime.fromisoformat(match.group(i)) for i in (1, 2))
            intervals.append(SensorInterval(start, end, *match.group(3, 4, 5)))
        homes[home] = intervals
    if not homes:
        raise ReplayDataError(f"no OrdonezA_Sensors.txt or OrdonezB_Sensors.txt in {folder}")
    return homes


# -- Kahn (AIM-94) diabetes records --------------------------------------------------------------
GLUCOSE_CODES = frozenset({48, 57, 58, 59, 60, 61, 62, 63, 64})
INSULIN_CODES = {33: "regular", 34: "nph", 35: "ultralente"}
HYPO_SYMPTOMS = 65


@dataclass(frozen=True, slots=True)
class KahnRecord:
    at: datetime
    code: int
    value: int


def read_kahn(folder: Path, skipped: Skipped) -> dict[str, list[KahnRecord]]:
    patients: dict[str, list[KahnRecord]] = {}
    for path in sorted(folder.glob("data-[0-9][0-9]")):
        records = []
        for line in path.read_text(encoding="ascii", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) != 4:
                skipped.add(f"{path.name}: {line[:40]!r}")
                continue
            try:
                at = datetime.strptime(f"{parts[0]} {parts[1]}", "%m-%d-%Y %H:%M")
                code, value = int(parts[2]), int(parts[3])
            except ValueError:
                skipped.add(f"{path.name}: {line[:40]!r}")  # e.g. 06-31-1991, 56:35
                continue
            records.append(KahnRecord(at, code, value))
        patients[path.name.split("-")[1]] = records
    if not patients:
        raise ReplayDataError(f"no data-NN files in {folder}")
    return patients
