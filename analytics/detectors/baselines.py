"""Personal baselines: each enrollee's own normal per metric and time of day.

Robust statistics over the last weeks of hourly means: the median and the MAD (scaled to a
normal sigma), per local time-of-day bin. With fewer than ``MIN_DAYS`` days of data a
baseline falls back to the population default and says so. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from dolbom.wire import METRIC_BY_NAME, METRICS

N_BINS: Final = 4  # local 00-06, 06-12, 12-18, 18-24
N_METRIC_SLOTS: Final = max(m.code for m in METRICS) + 1
MIN_DAYS: Final = 7  # below this a baseline is a cold start
WINDOW_DAYS: Final = 28
MAD_TO_SIGMA: Final = 1.4826

# Population defaults for older adults (cold start): median and robust sigma. Heart rate and
# SpO2 from resting norms; body temperature 36.6 °C with older adults' lower mean (IDSA 2008
# notes the blunted fever response); glucose fasting ~110 mg/dL in a diabetic population.
POPULATION: Final[dict[str, tuple[float, float]]] = {
    "heart_rate": (72.0, 9.0),
    "spo2": (96.0, 1.5),
    "respiratory_rate": (16.0, 2.5),
    "systolic_bp": (135.0, 14.0),
    "diastolic_bp": (80.0, 9.0),
    "glucose": (120.0, 30.0),
    "weight": (60.0, 1.0),
    "body_temp": (36.6, 0.3),
}


def time_bin(local_hour: np.ndarray) -> np.ndarray:
    """The time-of-day bin of local hours (0..24)."""
    return np.clip((np.asarray(local_hour) // (24 // N_BINS)).astype(np.int64), 0, N_BINS - 1)


@dataclass(frozen=True, slots=True)
class BaselineTable:
    """Baselines of ``n`` enrollees: arrays of shape (n, N_METRIC_SLOTS, N_BINS) / (n, slots)."""

    median: np.ndarray
    sigma: np.ndarray
    days: np.ndarray  # (n, N_METRIC_SLOTS) days of own data behind each metric's baseline

    @classmethod
    def empty(cls, n: int) -> BaselineTable:
        median = np.full((n, N_METRIC_SLOTS, N_BINS), np.nan)
        sigma = np.full((n, N_METRIC_SLOTS, N_BINS), np.nan)
        return cls(median, sigma, np.zeros((n, N_METRIC_SLOTS), dtype=np.int64))

    def lookup(
        self, enrollee: np.ndarray, metric: int, bins: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(median, sigma, personal?) per element, with population defaults on a cold start."""
        median = self.median[enrollee, metric, bins]
        sigma = self.sigma[enrollee, metric, bins]
        personal = (self.days[enrollee, metric] >= MIN_DAYS) & np.isfinite(median)
        name = _NAME_BY_CODE.get(metric)
        pop_median, pop_sigma = POPULATION.get(name or "", (np.nan, np.nan))
        return (np.where(personal, median, pop_median), np.where(personal, sigma, pop_sigma), personal)


_NAME_BY_CODE: Final = {m.code: m.name for m in METRICS}


def fit(
    values: np.ndarray, bins: np.ndarray, days: np.ndarray, sigma_floor: float
) -> dict[int, tuple[float, float, int]]:
    """Robust baseline of one enrollee's metric from hourly means.

    ``values``, ``bins`` and ``days`` are aligned arrays (hourly mean, its time bin, its day
    number). Returns ``{bin: (median, sigma, n_hours)}``; a bin with fewer than 3 hours
    borrows the all-day statistics. ``sigma_floor`` keeps a very steady person from alerting
    on measurement noise.
    """
    out: dict[int, tuple[float, float, int]] = {}
    finite = np.isfinite(values)
    values, bins = values[finite], bins[finite]
    if values.size == 0:
        return out
    all_median = float(np.median(values))
    all_sigma = max(float(MAD_TO_SIGMA * np.median(np.abs(values - all_median))), sigma_floor)
    for b in range(N_BINS):
        sel = values[bins == b]
        if sel.size >= 3:
            med = float(np.median(sel))
            sig = max(float(MAD_TO_SIGMA * np.median(np.abs(sel - med))), sigma_floor)
            out[b] = (med, sig, int(sel.size))
        else:
            out[b] = (all_median, all_sigma, int(sel.size))
    return out


# Measurement-noise floors of the robust sigma per metric (device precision, not clinical).
SIGMA_FLOOR: Final[dict[int, float]] = {
    METRIC_BY_NAME["heart_rate"].code: 4.0,
    METRIC_BY_NAME["spo2"].code: 1.0,
    METRIC_BY_NAME["respiratory_rate"].code: 1.5,
    METRIC_BY_NAME["systolic_bp"].code: 6.0,
    METRIC_BY_NAME["diastolic_bp"].code: 4.0,
    METRIC_BY_NAME["glucose"].code: 10.0,
    METRIC_BY_NAME["weight"].code: 0.3,
    METRIC_BY_NAME["body_temp"].code: 0.15,
}
BASELINE_METRICS: Final = tuple(SIGMA_FLOOR)
