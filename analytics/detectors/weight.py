"""``rapid_weight_gain`` judged the moment a weight arrives (minute cycle), not only nightly.

ESC 2021 heart failure: > 2 kg in 3 days. Every new weight is judged at once, so the alert
comes with the reading that crosses the line, hours before the nightly job would see it; the
nightly job judges the same rule again (and is the one that clears it). Pure.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from analytics.detectors import trends
from analytics.findings import Finding
from dolbom.alerts import AlertKind, Severity
from dolbom.wire import METRIC_BY_NAME

WEIGHT: Final = METRIC_BY_NAME["weight"].code
TODAY_DAYS: Final = 0.5  # "today's" weight on arrival: the last 12 h (a morning weighing, repeated)
LOOKBACK_S: Final = (3 + TODAY_DAYS) * 86400.0  # and the 3 days before


def weight_findings(
    enrollee_id: int, weight_days: np.ndarray, weights: np.ndarray, latest_ts: float, limit_kg: float
) -> list[Finding]:
    """One enrollee's weights (day numbers, kg) judged as of the newest reading's time."""
    today = latest_ts / 86400.0
    keep = weight_days <= today
    verdict = trends.weight_gain(weight_days[keep], weights[keep], today, limit_kg, window_days=TODAY_DAYS)
    if not verdict.alert:
        return []
    summary, evidence, score = trends.weight_finding(verdict, limit_kg)
    return [
        Finding(
            enrollee_id,
            AlertKind.RAPID_WEIGHT_GAIN,
            Severity.MEDIUM,
            latest_ts,
            summary,
            {**evidence, "on_arrival": True},
            score,
        )
    ]
