"""Personal baselines: robust to artefacts, population defaults on a cold start."""

from __future__ import annotations

import numpy as np

from analytics.detectors.baselines import BaselineTable, fit, time_bin


def test_baseline_fit_is_robust_to_outliers_and_lookup_falls_back() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(70, 3, 200)
    values[:5] = 200  # a few artefacts
    bins = time_bin(np.tile(np.arange(24), 9)[:200])
    fitted = fit(values, bins, np.arange(200) // 24, sigma_floor=1.0)
    for median, sigma, _ in fitted.values():
        assert 68 < median < 72 and 2 < sigma < 5
    table = BaselineTable.empty(2)
    table.median[0, 1, :], table.sigma[0, 1, :], table.days[0, 1] = 60, 3, 20
    median, sigma, personal = table.lookup(np.array([0, 1]), 1, np.array([0, 0]))
    assert list(personal) == [True, False] and median[1] == 72.0  # population default
