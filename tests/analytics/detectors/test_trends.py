"""Multi-week trends: Theil-Sen, declining activity (CUSUM), weight gain (ESC 2021)."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.detectors import trends


def test_theil_sen_and_declining_activity() -> None:
    days = np.arange(30, dtype=float)
    slope, low, high = trends.theil_sen(days, 100 - 2 * days)
    assert slope == pytest.approx(-2) and low <= slope <= high
    rng = np.random.default_rng(0)
    normal = rng.normal(4000, 300, 49)
    assert not trends.declining_activity(normal).alert
    declining = normal.copy()
    declining[-14:] = np.linspace(3500, 1500, 14)
    verdict = trends.declining_activity(declining)
    assert verdict.alert and verdict.recent < 0.75 * verdict.usual
    assert not trends.declining_activity(normal[:10]).enough_history  # cold start: no judgement


@pytest.mark.parametrize(("gain", "alert"), [(2.0, False), (2.1, True)])
def test_weight_gain_esc_two_kg_in_three_days(gain: float, alert: bool) -> None:
    days = np.array([10.2, 11.2, 12.2, 13.2])
    weights = np.array([60.0, 60.5, 61.0, 60.0 + gain])
    assert trends.weight_gain(days, weights, today=14.0, limit_kg=2.0).alert is alert


def test_declining_activity_missing_first_day_keeps_the_baseline() -> None:
    """A day without data (enrolled at noon, band off) shrinks the monitored stretch; it must
    not leave the baseline one day short forever (the simulator's declines went unjudged)."""
    rng = np.random.default_rng(1)
    series = rng.normal(4000, 300, 28)
    series[8:] *= np.linspace(1.0, 0.6, 20)
    series[0] = np.nan
    verdict = trends.declining_activity(series)
    assert verdict.enough_history and verdict.alert
    assert np.isfinite(verdict.usual)


def test_declining_activity_recent_level_uses_mean_or_median() -> None:
    """One very low day in the last week pulls the mean, not the median; either at 20 % below
    the usual (with the CUSUM or slope) is a decline, and a flat week at 10 % below is not."""
    base = np.full(14, 5000.0) + np.tile([200.0, -200.0], 7)
    flat = np.concatenate([base, np.full(14, 4500.0)])
    assert not trends.declining_activity(flat).alert
    dropped = np.concatenate([base, np.linspace(4800, 3500, 14)])
    assert trends.declining_activity(dropped).alert
