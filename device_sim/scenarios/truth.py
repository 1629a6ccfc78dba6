"""The ground truth of a scenario: one labelled condition per injection, and its JSON lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import chain, takewhile
from typing import IO, Any

import orjson

from device_sim.model import GroundTruth, Injection, Population
from device_sim.scenarios.injections import origin_for, resolve
from dolbom.alerts import AlertKind

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
    extra: Iterable[Injection] = (),
) -> list[GroundTruth]:
    """The labelled conditions whose window overlaps [start, end), in time order.

    ``extra``: more injections besides the scenario's, in start order (the live demo's
    schedule, which is endless: it is read only up to ``end``).
    """
    if origin is None:
        origin = origin_for(start, population.people[0].timezone)
    truths = []
    keys = {p.index: p.key for p in population.people}
    for inj in chain(resolve(population, origin, live_start),
                     takewhile(lambda i: i.start < end, extra)):
        if inj.end < start or inj.start >= end or inj.enrollee not in keys:
            continue
        detail = _DETAIL[AlertKind(inj.kind)]
        if inj.device:
            detail = f"{detail} ({inj.device})"
        truths.append(GroundTruth(keys[inj.enrollee], inj.kind, inj.start,
                                  inj.end, inj.severity, detail))
    truths.sort(key=lambda t: (t.start, t.enrollee, t.kind))
    return truths


def truth_record(truth: GroundTruth, enrollee_ids: dict[str, int] | None = None) -> dict[str, Any]:
    """One labelled condition as a JSON object (with ``enrollee_id`` when the key is mapped)."""
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
    """Ground truth written by ``write_jsonl``, back as JSON objects (blank lines skipped)."""
    return [orjson.loads(line) for line in lines if line.strip()]
