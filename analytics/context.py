"""Building the per-enrollee arrays that the pure scorers take (thresholds, clocks, baselines)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

from analytics.baselines import BaselineTable
from analytics.rules import THRESHOLD_NAMES, EnrolleeContext
from dolbom.thresholds import effective


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:  # an unknown zone name falls back to the programme's home zone
        return ZoneInfo("Asia/Seoul")


def utc_offset_s(timezone: str, at: datetime) -> float:
    offset = at.astimezone(_zone(timezone)).utcoffset()
    return 0.0 if offset is None else offset.total_seconds()


def build(
    enrollees: Sequence[tuple[int, str, dict[str, float], int]],
    baseline_rows: Sequence[tuple[int, int, int, float, float, int]],
    now: datetime,
) -> EnrolleeContext:
    """``enrollees`` rows (id, timezone, overrides, region); their position is the batch index."""
    n = len(enrollees)
    thresholds = np.empty((n, len(THRESHOLD_NAMES)))
    offsets = np.empty(n)
    index = {}
    for i, (enrollee_id, timezone, overrides, _region) in enumerate(enrollees):
        values = effective(overrides)
        thresholds[i] = [values[name] for name in THRESHOLD_NAMES]
        offsets[i] = utc_offset_s(timezone, now)
        index[enrollee_id] = i
    table = BaselineTable.empty(n)
    for enrollee_id, metric, time_bin, median, sigma, days in baseline_rows:
        found = index.get(enrollee_id)
        if found is None:
            continue
        i = found
        table.median[i, metric, time_bin] = median
        table.sigma[i, metric, time_bin] = sigma
        table.days[i, metric] = days
    return EnrolleeContext(thresholds, offsets, table)
