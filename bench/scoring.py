"""Scoring speed (``python -m bench scoring``): pure-function timings, no database.

1. One minute-cycle over 100,000 enrollees: each sends a heart-rate, SpO2 and steps reading in
   the minute, with the 10 minutes of context the rules look back on (2.9 M rows in all), plus
   a blood-pressure pair for 1 % and a glucose reading for 2 % of them. Target < 2 s.
2. The nightly refit: daily features and ``refit_person`` (routine model, trends, clock
   profile) for a sample of SAMPLE enrollees, extrapolated linearly to 100,000 on one core;
   the job is split by enrollee, so two cores halve it. Target < 10 min.
3. The routine-model choice: ROC AUC and time of RobustMahalanobis vs IsolationForest on
   synthetic days with injected changes.
The baseline, measured in the same run, is one ``np.argsort`` of the cycle's timestamps (the
floor any scorer that groups readings in time must pay) and, for the refit, a per-enrollee
``np.nanmedian`` over the same history.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import numpy as np

from analytics.detectors import features, routine
from analytics.detectors import person as nightly
from analytics.detectors.vitals import EnrolleeContext, VitalBatch, score_vitals_arrays
from dolbom.wire import EVENT_CODES, METRIC_BY_NAME

N_ENROLLEES = 100_000
SAMPLE = int(os.environ.get("DOLBOM_BENCH_REFIT_SAMPLE", "5000"))
T0 = 1_800_000_000.0


def minute_batch(rng: np.random.Generator, n: int) -> VitalBatch:
    parts: list[tuple[np.ndarray, ...]] = []
    minutes = np.arange(-10, 1)  # 10 minutes of context and the new minute
    enrollee = np.repeat(np.arange(n), minutes.size)
    ts = T0 + np.tile(minutes * 60.0, n) + rng.uniform(0, 59, enrollee.size)
    new = np.tile(minutes == 0, n)
    for metric, values in (
        ("heart_rate", rng.normal(72, 8, enrollee.size)),
        ("spo2", np.clip(rng.normal(96, 1.5, enrollee.size), 50, 100)),
        ("steps", rng.poisson(8, enrollee.size).astype(float)),
    ):
        parts.append((enrollee, np.full(enrollee.size, METRIC_BY_NAME[metric].code), ts, values, new))
    bp = rng.choice(n, n // 100, replace=False)
    for metric, mean in (("systolic_bp", 135), ("diastolic_bp", 82)):
        parts.append(
            (
                bp,
                np.full(bp.size, METRIC_BY_NAME[metric].code),
                np.full(bp.size, T0 + 30),
                rng.normal(mean, 15, bp.size),
                np.ones(bp.size, dtype=bool),
            )
        )
    gl = rng.choice(n, n // 50, replace=False)
    parts.append(
        (
            gl,
            np.full(gl.size, METRIC_BY_NAME["glucose"].code),
            np.full(gl.size, T0 + 20),
            rng.normal(130, 40, gl.size),
            np.ones(gl.size, dtype=bool),
        )
    )
    e, m, t, v, w = (np.concatenate([p[i] for p in parts]) for i in range(5))
    return VitalBatch(e.astype(np.int64), m.astype(np.int64), t, v, w)


def best_of(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def bench_cycle() -> tuple[float, float, int, int]:
    rng = np.random.default_rng(0)
    batch = minute_batch(rng, N_ENROLLEES)
    ctx = EnrolleeContext.defaults(N_ENROLLEES)
    baseline = best_of(lambda: np.argsort(batch.ts))
    findings: list[Any] = []

    def cycle() -> None:
        findings[:] = score_vitals_arrays(batch, ctx)[0]

    seconds = best_of(cycle)
    return seconds, baseline, len(batch), len(findings)


def person(rng: np.random.Generator) -> tuple[nightly.PersonHistory, features.DayData]:
    days = 49
    feats = np.column_stack(
        [
            rng.normal(m, s, days)
            for m, s in (
                (420, 30),
                (-1.5, 0.4),
                (7, 0.4),
                (21.5, 0.4),
                (3500, 500),
                (280, 40),
                (1.5, 0.7),
                (1.5, 0.7),
                (1, 0.2),
                (4, 0.4),
                (2, 0.5),
                (0, 0.1),
            )
        ]
    )
    history = nightly.PersonHistory(
        feats, np.arange(4.0) + 0.3, rng.normal(60, 0.3, 4), np.arange(28.0), rng.normal(135, 8, 28)
    )
    n_events = 200
    codes = rng.choice(
        [
            EVENT_CODES["motion"],
            EVENT_CODES["toilet"],
            EVENT_CODES["door_open"],
            EVENT_CODES["bed_exit"],
            EVENT_CODES["bed_entry"],
        ],
        n_events,
    )
    day = features.DayData(
        codes,
        np.sort(rng.uniform(-6, 24, n_events)),
        rng.random(n_events) < 0.1,
        np.full(n_events, np.nan),
        np.full(n_events, np.nan),
        np.arange(0, 24, 1 / 60),
        rng.poisson(3, 1440).astype(float),
        np.array([7.0]),
        np.array([400.0]),
    )
    return history, day


def bench_refit() -> tuple[float, float]:
    rng = np.random.default_rng(1)
    people = [person(rng) for _ in range(SAMPLE)]
    started = time.perf_counter()
    for history, _ in people:
        np.nanmedian(history.features, axis=0)
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    for history, day in people:
        features.daily_features(day)
        nightly.refit_person(history, 20_000.0)
    return time.perf_counter() - started, baseline


def bench_model_choice() -> list[tuple[str, float, float]]:
    from sklearn.metrics import roc_auc_score

    from tests.analytics.detectors.test_labelled_days import inject, person_days

    out = []
    for name in ("robust_mahalanobis", "isolation_forest"):
        rng = np.random.default_rng(7)
        scores: list[float] = []
        labels: list[int] = []
        started = time.perf_counter()
        for _ in range(100):
            days = person_days(rng, 36)
            model = routine.make_detector(name).fit(routine.routine_matrix(days[:28]))
            odd = np.array([inject(rng, d) for d in days[28:]])
            scores += list(model.score(routine.routine_matrix(days[28:])))
            scores += list(model.score(routine.routine_matrix(odd)))
            labels += [0] * 8 + [1] * 8
        out.append((name, float(roc_auc_score(labels, scores)), (time.perf_counter() - started) / 100))
    return out


def main() -> int:
    ok = True
    seconds, baseline, rows, found = bench_cycle()
    ok &= seconds < 2.0
    print(
        f"minute cycle, {N_ENROLLEES:,} enrollees, {rows:,} rows: {seconds:.2f} s (target < 2 s, "
        f"{'met' if seconds < 2 else 'MISSED'}); baseline argsort {baseline:.3f} s, "
        f"ratio {seconds / baseline:.1f}x; "
        f"{found} findings"
    )
    refit, base = bench_refit()
    per = refit / SAMPLE
    total = per * N_ENROLLEES
    ok &= total / 2 < 600
    print(
        f"nightly refit: {SAMPLE:,} enrollees in {refit:.1f} s ({per * 1000:.2f} ms each); extrapolated to "
        f"{N_ENROLLEES:,}: {total / 60:.1f} min on one core, {total / 120:.1f} min on two (target < 10 min, "
        f"{'met' if total / 2 < 600 else 'MISSED'}); baseline nanmedian {base:.2f} s, "
        f"ratio {refit / base:.0f}x"
    )
    for name, auc, fit_s in bench_model_choice():
        print(f"routine model {name}: ROC AUC {auc:.3f}, fit+score {fit_s * 1000:.1f} ms per person")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
