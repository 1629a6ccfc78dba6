"""Building the per-enrollee arrays that the pure scorers take (thresholds, clocks, baselines)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from analytics.detectors.baselines import BaselineTable
from analytics.detectors.vital_rules import THRESHOLD_NAMES
from analytics.detectors.vitals import EnrolleeContext
from dolbom.rules import enrollee_zone
from dolbom.thresholds import effective


def utc_offset_s(timezone: str, at: datetime) -> float:
    """The offset from UTC of the enrollee's zone at ``at`` (an unknown zone: the programme's
    home zone, dolbom/rules.py)."""
    offset = at.astimezone(enrollee_zone(timezone)).utcoffset()
    return 0.0 if offset is None else offset.total_seconds()


def build(
    enrollees: Sequence[tuple[int, str, dict[str, float], int]],
    baselines: Mapping[str, np.ndarray],
    now: datetime,
) -> EnrolleeContext:
    """``enrollees`` rows (id, timezone, overrides, region); their position is the batch
    index. ``baselines``: arrays as ``queries.baselines`` returns them."""
    n = len(enrollees)
    thresholds = np.empty((n, len(THRESHOLD_NAMES)))
    offsets = np.empty(n)
    defaults = [effective(None)[name] for name in THRESHOLD_NAMES]
    zone_offsets: dict[str, float] = {}
    for i, (_enrollee_id, timezone, overrides, _region) in enumerate(enrollees):
        if overrides:
            values = effective(overrides)
            thresholds[i] = [values[name] for name in THRESHOLD_NAMES]
        else:
            thresholds[i] = defaults
        if timezone not in zone_offsets:
            zone_offsets[timezone] = utc_offset_s(timezone, now)
        offsets[i] = zone_offsets[timezone]
    table = BaselineTable.empty(n)
    ids = np.array([row[0] for row in enrollees], dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    who = np.asarray(baselines["enrollee_id"], dtype=np.int64)
    pos = np.searchsorted(ids[order], who)
    known = pos < n
    known[known] = ids[order][pos[known]] == who[known]
    row, metric, time_bin = order[pos[known]], baselines["metric"][known], baselines["bin"][known]
    table.median[row, metric, time_bin] = baselines["median"][known]
    table.sigma[row, metric, time_bin] = baselines["sigma"][known]
    table.days[row, metric] = baselines["n_days"][known]
    return EnrolleeContext(thresholds, offsets, table, ids)
