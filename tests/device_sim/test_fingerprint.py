"""Pins the simulator's seeded output, byte for byte.

The detection benchmark (``bench/detection.py``) scores analytics against the ``evaluation``
scenario with seed 1: its ground truth, and the messages that should raise each alert, are
this output. These digests were computed before the device_sim refactor of issue 13 (import
cycles) and must not move under a refactor. A change that means to alter the simulated data
updates them in the same commit and says so; the benchmark's figures then need re-running.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import astuple
from datetime import datetime, timedelta

from device_sim import generate, scenarios
from device_sim.encode import Frame
from device_sim.model import Population
from tests.device_sim.conftest import SEOUL, START

# Enrollees of the evaluation scenario that, between them, carry every injected kind in the
# 28 days from START, and two controls.
EVALUATION_KEYS = {f"evaluation-e{i:04d}" for i in (
    0, 17, 18, 19, 21, 22, 23, 24, 30, 43, 60, 62, 74, 78, 85, 87, 88, 99)}
BENCH_START = datetime(2026, 9, 1, tzinfo=SEOUL)  # bench/detection.py


def _frames_digest(frames: Iterable[Frame]) -> tuple[int, str]:
    digest = hashlib.sha256()
    count = 0
    for sent_ms, topic, payload, qos, retain in frames:
        digest.update(f"{sent_ms} {topic} {qos} {int(retain)} {len(payload)}\n".encode())
        digest.update(payload)
        count += 1
    return count, digest.hexdigest()[:16]


def _truth_digest(population: Population, start: datetime, end: datetime,
                  origin: datetime | None = None) -> tuple[int, str]:
    out = io.BytesIO()
    count = scenarios.write_jsonl(scenarios.ground_truth(population, start, end, origin=origin), out)
    return count, hashlib.sha256(out.getvalue()).hexdigest()[:16]


def _people_digest(population: Population) -> str:
    return hashlib.sha256(repr([astuple(p) for p in population.people]).encode()).hexdigest()[:16]


def test_demo_output_is_pinned(demo: Population) -> None:
    end = START + timedelta(days=3)
    frames = generate.frames(demo, START, end, live_start=START + timedelta(days=1, hours=9),
                             backlog_until=START + timedelta(days=1))
    assert _people_digest(demo) == "82dfa08886b25b80"
    assert _frames_digest(frames) == (6853, "aa4f4c0be8a3c696")


def test_evaluation_output_is_pinned(evaluation: Population) -> None:
    assert _people_digest(evaluation) == "1a2632979c919a01"
    assert _truth_digest(evaluation, START, START + timedelta(days=28)) == (42, "6ba440acf455bd7e")
    bench_end = BENCH_START + timedelta(days=28)
    assert _truth_digest(evaluation, BENCH_START, bench_end, BENCH_START) == (42, "5544c28b4904868a")
    some = evaluation.subset(EVALUATION_KEYS)
    assert _frames_digest(generate.frames(some, START, START + timedelta(days=28))) == (
        250646, "2ff8a9d141951fad")
