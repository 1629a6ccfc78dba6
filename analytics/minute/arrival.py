"""The minute cycle's weights: every enrollee with a new weight is judged on arrival
(analytics/detectors/weight.py) against their weights of the days before."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import psycopg

from analytics.detectors.vital_rules import THRESHOLD_INDEX
from analytics.detectors.vitals import VitalBatch
from analytics.detectors.weight import LOOKBACK_S, WEIGHT, weight_findings
from analytics.findings import Finding
from analytics.queries import readings as queries
from dolbom.timeutil import utc


def score_new_weights(
    conn: psycopg.Connection, ids: Sequence[int], batch: VitalBatch, thresholds: np.ndarray
) -> list[Finding]:
    """Findings for every enrollee with a new weight in ``batch``."""
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
    for e, ts, value in queries.metric_series(conn, [ids[i] for i in who], WEIGHT, utc(lo), utc(hi)):
        series.setdefault(e, []).append((ts, value))
    found: list[Finding] = []
    limit_col = THRESHOLD_INDEX["weight_gain_3d"]
    for i in who:
        rows = np.array(series.get(ids[i], []), dtype=float).reshape(-1, 2)
        limit_kg = float(thresholds[i, limit_col])
        found += weight_findings(ids[i], rows[:, 0] / 86400.0, rows[:, 1], latest[i], limit_kg)
    return found
