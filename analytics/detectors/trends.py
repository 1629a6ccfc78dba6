"""Multi-week trends over daily series (pure): declining activity, weight gain, rising BP.

``declining_activity`` combines a one-sided CUSUM on the person's daily activity (fast to
react to a sustained drop, slow to react to one bad day) with a Theil–Sen slope for the
explanation. Weight gain is the ESC 2021 heart-failure rule (> 2 kg in 3 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from scipy.stats import theilslopes

BASELINE_DAYS: Final = 28
MIN_BASELINE_DAYS: Final = 7  # a week of normal days before the decline is judged
CUSUM_K: Final = 0.5  # allowance, in robust sigmas (detects a sustained drop of >= 1 sigma)
CUSUM_H: Final = 5.0  # decision interval (Page 1954; ARL0 of several hundred days at k=0.5)
MIN_DROP: Final = 0.20  # the last week's median must be 20 % below the usual
RECENT_DAYS: Final = 7
SIGMA_FLOOR_FRACTION: Final = 0.10  # sigma at least 10 % of the usual level


def theil_sen(days: np.ndarray, values: np.ndarray) -> tuple[float, float, float]:
    """Robust slope per day with its 95 % interval (NaNs dropped; 0 slope for < 3 points)."""
    ok = np.isfinite(values)
    if np.count_nonzero(ok) < 3:
        return 0.0, 0.0, 0.0
    slope, _, low, high = theilslopes(values[ok], days[ok])
    return float(slope), float(low), float(high)


@dataclass(frozen=True, slots=True)
class DeclineVerdict:
    score: float  # CUSUM statistic (higher = stronger sustained drop)
    alert: bool
    usual: float
    recent: float
    slope_per_week: float
    onset_day: int | None  # index into the series where the CUSUM started rising
    enough_history: bool


def declining_activity(series: np.ndarray, monitor_days: int = 21) -> DeclineVerdict:
    """Judge the last ``monitor_days`` of a daily activity series against the days before.

    ``series`` is oldest first (NaN = no data); the baseline is the ``BASELINE_DAYS`` before
    the monitored stretch. With a short history the monitored stretch shrinks (never below a
    week) so that at least MIN_BASELINE_DAYS remain for the baseline.
    """
    series = np.asarray(series, dtype=float)
    # the baseline needs MIN_BASELINE_DAYS days *with data*: a missing first day (enrolment at
    # noon, a day the band was off) must shrink the monitored stretch, not void the baseline
    finite_at = np.flatnonzero(np.isfinite(series))
    enough = finite_at.size >= MIN_BASELINE_DAYS
    known_base = int(finite_at[MIN_BASELINE_DAYS - 1]) + 1 if enough else series.size
    monitor_days = int(np.clip(series.size - known_base, RECENT_DAYS, monitor_days))
    base = (
        series[-(monitor_days + BASELINE_DAYS) : -monitor_days] if series.size > monitor_days else series[:0]
    )
    watch = series[-monitor_days:]
    base = base[np.isfinite(base)]
    if base.size < MIN_BASELINE_DAYS or np.count_nonzero(np.isfinite(watch)) < RECENT_DAYS:
        return DeclineVerdict(0.0, False, float("nan"), float("nan"), 0.0, None, False)
    usual = float(np.median(base))
    sigma = max(1.4826 * float(np.median(np.abs(base - usual))), SIGMA_FLOOR_FRACTION * abs(usual), 1e-9)
    s, peak, start, onset = 0.0, 0.0, 0, None
    for i, x in enumerate(watch):
        if not np.isfinite(x):
            continue
        prev = s
        s = max(0.0, s + (usual - x) / sigma - CUSUM_K)
        if prev == 0.0 and s > 0:
            start = i
        if s > peak:
            peak, onset = s, start
    recent_vals = watch[-RECENT_DAYS:]
    # the last week's level: its median or its mean, whichever is lower (measured on the
    # simulator's 20-day declines: the median alone missed a decline with one low day in it)
    finite_recent = recent_vals[np.isfinite(recent_vals)]
    recent = (
        float(min(finite_recent.mean(), np.median(finite_recent))) if finite_recent.size else float("nan")
    )
    slope, _, slope_high = theil_sen(np.arange(watch.size, dtype=float), watch)
    # a sustained drop (CUSUM) or a steady one (the whole Theil–Sen interval below zero), and in
    # either case the last week well below the usual: noisy days alone never alert
    alert = (s >= CUSUM_H or slope_high < 0) and recent <= (1 - MIN_DROP) * usual
    offset = series.size - monitor_days
    return DeclineVerdict(s, alert, usual, recent, slope * 7, None if onset is None else offset + onset, True)


@dataclass(frozen=True, slots=True)
class WeightVerdict:
    gain_kg: float
    alert: bool
    cleared: bool
    latest: float
    reference: float


def weight_gain(
    days: np.ndarray,
    weights: np.ndarray,
    today: float,
    limit_kg: float,
    clear_margin_kg: float = 0.5,
    window_days: float = 1.0,
) -> WeightVerdict:
    """ESC 2021 heart failure: gain > ``limit_kg`` within 3 days (the latest ``window_days``
    vs the lowest of the 3 days before). ``days`` are day numbers (fractional ok) aligned with
    ``weights``. The nightly job judges a calendar day (window 1); on arrival the window is
    half a day, so that yesterday's weighing, a few minutes later in the day than today's, is
    not taken for today's."""
    days, weights = np.asarray(days, dtype=float), np.asarray(weights, dtype=float)
    todays = weights[(days > today - window_days) & (days <= today)]
    before = weights[(days > today - window_days - 3) & (days <= today - window_days)]
    if todays.size == 0 or before.size == 0:
        return WeightVerdict(0.0, False, False, float("nan"), float("nan"))
    latest, reference = float(np.median(todays)), float(before.min())
    gain = latest - reference
    return WeightVerdict(gain, gain > limit_kg, gain <= limit_kg - clear_margin_kg, latest, reference)


def weight_finding(verdict: WeightVerdict, limit_kg: float) -> tuple[str, dict[str, Any], float]:
    """(summary, evidence, score) of a ``rapid_weight_gain`` verdict, for the nightly job and
    for the minute cycle (which scores a weight as soon as it arrives)."""
    summary = (
        f"Weight {verdict.latest:.1f} kg, up {verdict.gain_kg:.1f} kg in 3 days from "
        f"{verdict.reference:.1f} kg (limit {limit_kg:g} kg, ESC 2021 heart failure)"
    )
    evidence = {
        "summary": summary,
        "latest_kg": verdict.latest,
        "reference_kg": verdict.reference,
        "gain_kg": verdict.gain_kg,
        "threshold": {"name": "weight_gain_3d", "value": limit_kg, "source": "ESC 2021 heart failure"},
    }
    return summary, evidence, verdict.gain_kg


@dataclass(frozen=True, slots=True)
class BpTrendVerdict:
    slope_per_week: float
    recent_mean: float
    alert: bool


# Rising BP: a robust upward slope of >= 3 mmHg/week over 4 weeks whose last week is above the
# AHA/ACC 2017 stage 2 line (threshold "sbp_stage2", passed in).
BP_SLOPE_MIN_PER_WEEK: Final = 3.0


def rising_bp(days: np.ndarray, systolic: np.ndarray, stage2: float) -> BpTrendVerdict:
    days, systolic = np.asarray(days, dtype=float), np.asarray(systolic, dtype=float)
    if np.count_nonzero(np.isfinite(systolic)) < 10:
        return BpTrendVerdict(0.0, float("nan"), False)
    slope, low, _ = theil_sen(days, systolic)
    recent = systolic[days > days.max() - 7]
    recent_mean = float(np.nanmean(recent)) if np.isfinite(recent).any() else float("nan")
    alert = low * 7 > 0 and slope * 7 >= BP_SLOPE_MIN_PER_WEEK and recent_mean >= stage2
    return BpTrendVerdict(slope * 7, recent_mean, bool(alert))
