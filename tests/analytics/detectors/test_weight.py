"""rapid_weight_gain on the arrival of a weight."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.detectors.weight import weight_findings


def test_weight_findings_on_arrival_ignore_later_readings() -> None:
    days = np.array([10.3, 11.3, 12.3, 13.3, 14.3])
    kg = np.array([60.0, 60.3, 60.1, 62.2, 64.0])
    (finding,) = weight_findings(1, days, kg, 13.3 * 86400, 2.0)
    assert finding.kind == "rapid_weight_gain" and finding.onset_ts == 13.3 * 86400
    assert finding.evidence["gain_kg"] == pytest.approx(2.2)
    assert weight_findings(1, days[:3], kg[:3], 12.3 * 86400, 2.0) == []
    assert weight_findings(1, days, kg, 13.3 * 86400, 2.5) == []  # a centre's override


def test_weight_on_arrival_not_confused_by_yesterdays_later_weighing() -> None:
    """Yesterday at 07:10, today at 07:00: yesterday's lower weight is not "today's"."""
    days = np.array([10.30, 11.30, 12.30, 13.297, 14.29])
    kg = np.array([60.0, 60.1, 60.8, 61.6, 62.3])
    (finding,) = weight_findings(1, days, kg, 14.29 * 86400, 2.0)
    assert finding.evidence["latest_kg"] == 62.3 and finding.evidence["reference_kg"] == 60.1
