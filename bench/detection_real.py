"""Real-data replays for bench/detection.py: minimal readers of ../shared/data, read in place.

Ordóñez seat-pressure activations become a motion event every 10 min while occupied (a
presence sensor re-reports); other sensors give one event at each edge. Each data set is
shifted in time to start on REPLAY_START (timestamps are read as local time
in Asia/Seoul), stored with COPY (not through MQTT: these files are not device messages),
queued for scoring per enrollee and day, and replayed with ``analytics --once`` every hour.
These are ordinary lives: every alert is false, except glucose alerts that a reading below
or above the ADA line backs (they are checked against the labelled hypoglycemia symptoms).
"""

from __future__ import annotations

import csv
import gzip
import re
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from analytics.service import run_once
from command.system_jobs import PARTITIONS
from dolbom.wire import EVENT_CODES, METRIC_BY_NAME

SEOUL = ZoneInfo("Asia/Seoul")
REPLAY_START = datetime(2026, 1, 5, tzinfo=SEOUL)
MAX_DAYS = 31
STEP = timedelta(hours=1)
Reading = tuple[str, str, datetime, float]  # person, metric, ts, value
Event = tuple[str, str, str, datetime]  # person, device key, event type, ts


def _fitbit_time(text: str) -> datetime:
    return datetime.strptime(text, "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=SEOUL)


def read_fitbit(root: Path) -> tuple[list[Reading], dict[str, float]]:
    base = root / "fitbit_fitabase"
    readings: list[Reading] = []
    with gzip.open(base / "minuteStepsNarrow_merged.csv.gz", "rt") as handle:
        for row in csv.DictReader(handle):
            readings.append(
                (f"fitbit-{row['Id']}", "steps", _fitbit_time(row["ActivityMinute"]), float(row["Steps"]))
            )
    with gzip.open(base / "heartrate_seconds_merged.5of14subjects.csv.gz", "rt") as handle:
        for row in csv.DictReader(handle):
            readings.append(
                (f"fitbit-{row['Id']}", "heart_rate", _fitbit_time(row["Time"]), float(row["Value"]))
            )
    with (base / "sleepDay_merged.csv").open() as handle:
        for row in csv.DictReader(handle):
            day = _fitbit_time(row["SleepDay"]) + timedelta(hours=9)
            readings.append((f"fitbit-{row['Id']}", "sleep_minutes", day, float(row["TotalMinutesAsleep"])))
    with (base / "weightLogInfo_merged.csv").open() as handle:
        for row in csv.DictReader(handle):
            readings.append(
                (f"fitbit-{row['Id']}", "weight", _fitbit_time(row["Date"]), float(row["WeightKg"]))
            )
    first = min(r[2] for r in readings)
    return _shift(readings, {p: first for p in {r[0] for r in readings}}), {}


ORDONEZ_ROOMS = {
    "Bathroom": "bathroom",
    "Kitchen": "kitchen",
    "Bedroom": "bedroom",
    "Living": "living",
    "Entrance": "entrance",
}


def read_ordonez(root: Path) -> list[Event]:
    events: list[Event] = []
    for home in ("A", "B"):
        person = f"ordonez-{home}"
        lines = (root / "uci_adl_binary_ordonez" / f"Ordonez{home}_Sensors.txt").read_text().splitlines()[2:]
        for line in lines:
            parts = re.split(r"\t+", line.strip())
            if len(parts) < 5:
                continue
            start = datetime.strptime(parts[0].strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=SEOUL)
            end = datetime.strptime(parts[1].strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=SEOUL)
            location, kind, place = parts[2], parts[3], parts[4]
            device = f"{location}-{place}"
            if location == "Maindoor":
                events += [(person, device, "door_open", start), (person, device, "door_close", end)]
            elif location == "Bed":
                events += [(person, device, "bed_entry", start), (person, device, "bed_exit", end)]
            elif kind == "Flush":
                events.append((person, device, "toilet", start))
            elif location == "Seat":  # a presence (pressure) sensor re-reports while occupied
                ticks = int((end - start).total_seconds() // 600)
                events += [
                    (person, device, "motion", start + timedelta(minutes=10 * i)) for i in range(ticks + 1)
                ]
                events.append((person, device, "motion", end))
            else:
                events += [(person, device, "motion", start), (person, device, "motion", end)]
    firsts: dict[str, datetime] = {}
    for person, _, _, ts in events:
        firsts[person] = min(firsts.get(person, ts), ts)
    shifted = []
    for person, device, kind, ts in events:
        moved = ts - _midnight(firsts[person]) + REPLAY_START
        if moved < REPLAY_START + timedelta(days=MAX_DAYS):
            shifted.append((person, device, kind, moved))
    return shifted


GLUCOSE_CODES = {48, 57, 58, 59, 60, 61, 62, 63, 64}
HYPO_SYMPTOMS = 65


def read_kahn(root: Path) -> tuple[list[Reading], dict[str, list[datetime]]]:
    readings: list[Reading] = []
    symptoms: dict[str, list[datetime]] = defaultdict(list)
    for path in sorted((root / "uci_diabetes_kahn").glob("data-*")):
        person = f"kahn-{path.name[5:]}"
        rows = []
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) != 4:
                continue
            try:
                ts = datetime.strptime(f"{parts[0]} {parts[1]}", "%m-%d-%Y %H:%M").replace(tzinfo=SEOUL)
                code, value = int(parts[2]), float(parts[3])
            except ValueError:
                continue
            rows.append((ts, code, value))
        glucose = [(ts, v) for ts, c, v in rows if c in GLUCOSE_CODES and 10 <= v <= 1000]
        if not glucose:
            continue
        first = _midnight(min(ts for ts, _ in glucose))
        for ts, value in glucose:
            moved = ts - first + REPLAY_START
            if moved < REPLAY_START + timedelta(days=MAX_DAYS):
                readings.append((person, "glucose", moved, value))
        symptoms[person] = [ts - first + REPLAY_START for ts, c, _ in rows if c == HYPO_SYMPTOMS]
    return readings, symptoms


def _midnight(ts: datetime) -> datetime:
    return ts.replace(hour=0, minute=0, second=0, microsecond=0)


def _shift(readings: list[Reading], firsts: dict[str, datetime]) -> list[Reading]:
    out = []
    for person, metric, ts, value in readings:
        moved = ts - _midnight(firsts[person]) + REPLAY_START
        if moved < REPLAY_START + timedelta(days=MAX_DAYS):
            out.append((person, metric, moved, value))
    return out


DEVICE_KIND = {
    "steps": "wearable",
    "heart_rate": "wearable",
    "sleep_minutes": "wearable",
    "weight": "scale",
    "glucose": "glucometer",
}


def store(conn: psycopg.Connection, readings: list[Reading], events: list[Event]) -> dict[str, int]:
    """Enrollees, devices, readings, events and per-day scoring_queue rows; person -> enrollee id."""
    region = conn.execute("INSERT INTO regions (name) VALUES ('replay') RETURNING id").fetchone()[0]
    people = sorted({r[0] for r in readings} | {e[0] for e in events})
    ids: dict[str, int] = {}
    for person in people:
        ids[person] = conn.execute(
            "INSERT INTO enrollees (region_id, name, birth_year, sex) VALUES (%s, %s, 1950, 'F') "
            "RETURNING id",
            (region, person),
        ).fetchone()[0]
    devices: dict[tuple[str, str], int] = {}

    def device(person: str, key: str, kind: str, room: str | None) -> int:
        if (person, key) not in devices:
            wire = re.sub(r"[^A-Za-z0-9_-]", "-", f"{person}-{key}")[:64]
            devices[(person, key)] = conn.execute(
                "INSERT INTO devices (device_id, enrollee_id, kind, room) VALUES (%s, %s, %s, %s) "
                "RETURNING id",
                (wire, ids[person], kind, room),
            ).fetchone()[0]
        return devices[(person, key)]

    for person, metric, _, _ in readings:
        device(person, DEVICE_KIND[metric], DEVICE_KIND[metric], None)
    for person, key, kind, _ in events:
        place = key.split("-")[-1]
        dev_kind = (
            "door_sensor"
            if kind.startswith("door")
            else "bed_sensor"
            if kind.startswith("bed")
            else "motion_sensor"
        )
        device(person, key, dev_kind, ORDONEZ_ROOMS.get(place))
    # devices exist before COPY starts: no other statement may run on a connection inside COPY
    days: dict[tuple[int, datetime], list[datetime]] = defaultdict(list)
    seen = set()
    with conn.cursor() as cur, cur.copy("COPY readings (device, metric, ts, value) FROM STDIN") as copy:
        for person, metric, ts, value in readings:
            dev = devices[(person, DEVICE_KIND[metric])]
            key = (dev, metric, ts)
            if key in seen:
                continue
            seen.add(key)
            copy.write_row((dev, METRIC_BY_NAME[metric].code, ts, value))
            days[(ids[person], _midnight(ts))].append(ts)
    seen.clear()
    with conn.cursor() as cur, cur.copy("COPY events (device, enrollee_id, type, ts) FROM STDIN") as copy:
        for person, key, kind, ts in events:
            dev = devices[(person, key)]
            if (dev, kind, ts) in seen:
                continue
            seen.add((dev, kind, ts))
            copy.write_row((dev, ids[person], EVENT_CODES[kind], ts))
            days[(ids[person], _midnight(ts))].append(ts)
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO scoring_queue (enrollee_id, ts_min, ts_max) VALUES (%s, %s, %s)",
            [(e, min(v), max(v)) for (e, _), v in sorted(days.items(), key=lambda kv: kv[0][1])],
        )
    return ids


def evaluate(url: str, root: Path) -> dict[str, Any]:
    started = time.perf_counter()
    fitbit, _ = read_fitbit(root)
    ordonez = read_ordonez(root)
    kahn, symptoms = read_kahn(root)
    with psycopg.connect(url, autocommit=True) as conn:
        ids = store(conn, fitbit + kahn, ordonez)
        loaded = time.perf_counter() - started
        spans: dict[str, float] = {}
        last_data: dict[str, datetime] = {}
        for person, _, ts, _ in fitbit + kahn:
            last_data[person] = max(last_data.get(person, ts), ts)
        for person, _, _, ts in ordonez:
            last_data[person] = max(last_data.get(person, ts), ts)
        for person, _, ts, _ in fitbit + kahn:
            spans[person] = max(spans.get(person, 0.0), (ts - REPLAY_START).total_seconds() / 86400)
        for person, _, _, ts in ordonez:
            spans[person] = max(spans.get(person, 0.0), (ts - REPLAY_START).total_seconds() / 86400)
        now = REPLAY_START + STEP
        end = REPLAY_START + timedelta(days=MAX_DAYS, hours=1)
        t0 = time.perf_counter()
        while now <= end:
            run_once(url, now, system_jobs=[PARTITIONS])  # as `dolbom analytics --once`
            now += STEP
        replay_s = time.perf_counter() - t0
        alerts = conn.execute(
            "SELECT enrollee_id, kind, severity, onset_at, evidence->>'value' FROM alerts"
        ).fetchall()
    by_id = {v: k for k, v in ids.items()}
    result: dict[str, Any] = {"load_s": loaded, "replay_s": replay_s, "sets": {}}
    for name, prefix in (("fitbit", "fitbit-"), ("ordonez", "ordonez-"), ("kahn", "kahn-")):
        persons = [p for p in ids if p.startswith(prefix)]
        weeks = sum(max(spans.get(p, 0.0), 1.0) for p in persons) / 7
        ours = [a for a in alerts if by_id[a[0]].startswith(prefix)]
        # the data set ends before the replay does: what comes after its last record is an
        # artefact of the replay (no_data, inactivity of an empty file), reported apart
        mine = [a for a in ours if a[3] <= last_data[by_id[a[0]]]]
        glucose_true = [a for a in mine if a[1] in ("hypoglycemia", "hyperglycemia")]
        false = [a for a in mine if a[1] not in ("hypoglycemia", "hyperglycemia")]
        kinds: dict[str, int] = defaultdict(int)
        for a in mine:
            kinds[a[1]] += 1
        entry = {
            "after_end": len(ours) - len(mine),
            "people": len(persons),
            "person_weeks": weeks,
            "alerts": len(mine),
            "by_kind": dict(kinds),
            "false": len(false),
            "false_per_week": len(false) / weeks if weeks else 0.0,
            "all_per_week": len(mine) / weeks if weeks else 0.0,
            "glucose_alerts": len(glucose_true),
        }
        if name == "kahn":
            hypo = [a for a in mine if a[1] == "hypoglycemia"]
            labelled = 0
            for a in hypo:
                marks = symptoms.get(by_id[a[0]], [])
                labelled += any(abs((m - a[3]).total_seconds()) <= 3 * 3600 for m in marks)
            episodes = [
                (p, m)
                for p, ms in symptoms.items()
                if p in ids
                for m in ms
                if REPLAY_START <= m < REPLAY_START + timedelta(days=MAX_DAYS)
            ]
            caught = sum(
                any(
                    a[1] == "hypoglycemia" and a[0] == ids[p] and abs((m - a[3]).total_seconds()) <= 3 * 3600
                    for a in mine
                )
                for p, m in episodes
            )
            entry.update(
                {
                    "hypo_alerts": len(hypo),
                    "hypo_near_label": labelled,
                    "labelled_episodes": len(episodes),
                    "labelled_caught": caught,
                }
            )
        result["sets"][name] = entry
    return result


def print_report(result: dict[str, Any]) -> bool:
    ok = True
    print(f"real-data replays (load {result['load_s']:.0f} s, hourly replay {result['replay_s']:.0f} s)")
    print(
        "| data set | people | person-weeks | alerts | false alerts | false per person-week | by kind "
        "| after the data set ends (excluded) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, s in result["sets"].items():
        ok &= s["false_per_week"] <= 1.0
        print(
            f"| {name} | {s['people']} | {s['person_weeks']:.1f} | {s['alerts']} | {s['false']} | "
            f"{s['false_per_week']:.2f} | {s['by_kind']} | {s['after_end']} |"
        )
    k = result["sets"].get("kahn")
    if k:
        print(
            f"kahn: {k['hypo_alerts']} hypoglycemia alerts (each backed by a reading < 70 mg/dL, ADA), "
            f"{k['hypo_near_label']} within 3 h of a labelled symptom event; labelled episodes in the window "
            f"{k['labelled_episodes']}, with an alert within 3 h: {k['labelled_caught']}"
        )
    return ok
