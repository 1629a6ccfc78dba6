"""Trend rules judged the moment a reading arrives (minute cycle), not only nightly.

``rapid_weight_gain`` (ESC 2021 heart failure: > 2 kg in 3 days) is scored on every new
weight: the alert comes with the reading that crosses the line, hours before the nightly job
would see it. The nightly job judges the same rule again (and is the one that clears it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import psycopg

from analytics.detectors import trends
from analytics.detectors.vital_rules import THRESHOLD_INDEX
from analytics.detectors.vitals import VitalBatch
from analytics.findings import Finding
from analytics.queries import readings as queries
from dolbom.timeutil import utc
from dolbom.wire import METRIC_BY_NAME

WEIGHT = METRIC_BY_NAME["weight"].code
TODAY_DAYS = 0.5  # "today's" weight on arrival: the last 12 h (a morning weighing, repeated)
LOOKBACK_S = (3 + TODAY_DAYS) * 86400.0  # and the 3 days before


def weight_findings(
    weight_days: np.ndarray, weights: np.ndarray, latest_ts: float, limit_kg: float
) -> list[Finding]:
    """Pure: one enrollee's weights (day numbers, kg) judged as of the newest reading's time.
    The finding's ``enrollee`` is 0; the caller fills it in."""
    today = latest_ts / 86400.0
    keep = weight_days <= today
    verdict = trends.weight_gain(weight_days[keep], weights[keep], today, limit_kg, window_days=TODAY_DAYS)
    if not verdict.alert:
        return []
    summary, evidence, score = trends.weight_finding(verdict, limit_kg)
    return [
        Finding(0, "rapid_weight_gain", "medium", latest_ts, summary, {**evidence, "on_arrival": True}, score)
    ]


def score_new_weights(
    conn: psycopg.Connection, ids: Sequence[int], batch: VitalBatch, thresholds: np.ndarray
) -> list[Finding]:
    """Findings (``enrollee`` = enrollee id) for every enrollee with a new weight in ``batch``."""
    new = batch.new & (batch.metric == WEIGHT)
    if not new.any():
        return []
    latest: dict[int, float] = {}
    for i, ts in zip(batch.enrollee[new].tolist(), batch.ts[new].tolist(), strict=True):
        latest[i] = max(latest.get(i, -np.inf), ts)
    who = sorted(latest)
    lo = min(latest.values()) - LOOKBACK_S
    hi = max(latest.values()) + 1.0
    series: dict[int, list[tuple[float, float]]] = {}
    for e, ts, value in queries.metric_series(
        conn,
        [ids[i] for i in who],
        WEIGHT,
        utc(lo),
        utc(hi),
    ):
        series.setdefault(e, []).append((ts, value))
    found: list[Finding] = []
    limit_col = THRESHOLD_INDEX["weight_gain_3d"]
    for i in who:
        rows = np.array(series.get(ids[i], []), dtype=float).reshape(-1, 2)
        for f in weight_findings(
            rows[:, 0] / 86400.0, rows[:, 1], latest[i], float(thresholds[i, limit_col])
        ):
            found.append(Finding(ids[i], f.kind, f.severity, f.onset_ts, f.summary, f.evidence, f.score))
    return found
