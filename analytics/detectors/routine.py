"""Per-person routine models over daily features (``routine_change``).

Two detectors with scikit-learn conventions: hyper-parameters stored unchanged in
``__init__``, learned state in ``attr_`` set by ``fit`` (which returns ``self``), randomness
only from ``random_state``, and one sign convention: ``score`` is higher = more anomalous.
The decision (alert or not) is separate: ``is_routine_change``. ``RobustMahalanobis`` is the
default (chosen by measurement: bench/RESULTS.md ``## analytics``). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from sklearn.ensemble import IsolationForest

from analytics.detectors.features import INDEX, ROUTINE_FEATURES

MAD_TO_SIGMA: Final = 1.4826
MIN_DAYS: Final = 10  # fewer days of own history: population defaults (cold start)
HISTORY_DAYS: Final = 28
Z_CLIP: Final = 6.0

# Smallest spread that counts per feature: a person with a very regular day would otherwise
# be flagged for a quarter of an hour's change.
SCALE_FLOOR: Final[dict[str, float]] = {
    "sleep_minutes": 40.0,
    "bed_time_h": 0.6,
    "first_activity_h": 0.6,
    "last_activity_h": 0.6,
    "steps": 600.0,
    "active_minutes": 40.0,
    "night_toilet_visits": 0.75,
    "time_out_h": 0.75,
    "checkins_answered": 0.5,
    "mood": 0.6,
}
# Population defaults of older adults living alone (cold start): (median, spread).
POPULATION: Final[dict[str, tuple[float, float]]] = {
    "sleep_minutes": (420.0, 70.0),
    "bed_time_h": (-2.0, 1.0),
    "first_activity_h": (7.0, 1.0),
    "last_activity_h": (21.5, 1.0),
    "steps": (3500.0, 1500.0),
    "active_minutes": (300.0, 120.0),
    "night_toilet_visits": (1.5, 1.0),
    "time_out_h": (1.5, 1.5),
    "checkins_answered": (1.0, 0.5),
    "mood": (3.5, 0.8),
}
LABELS: Final[dict[str, tuple[str, str]]] = {
    "sleep_minutes": ("sleep last night", "min"),
    "bed_time_h": ("bedtime", "h"),
    "first_activity_h": ("first movement", "h"),
    "last_activity_h": ("last movement", "h"),
    "steps": ("steps", ""),
    "active_minutes": ("active minutes", ""),
    "night_toilet_visits": ("toilet visits last night", ""),
    "time_out_h": ("time out of home", "h"),
    "checkins_answered": ("check-ins answered", ""),
    "mood": ("mood", "/5"),
}
# Which way a change matters (+1 only up, -1 only down, 0 both): more steps is not a concern.
DIRECTION: Final[dict[str, int]] = {
    "steps": -1,
    "active_minutes": -1,
    "night_toilet_visits": 1,
    "checkins_answered": -1,
    "mood": -1,
}
_SIGN: Final = np.array([DIRECTION.get(name, 0) for name in ROUTINE_FEATURES])
_COLUMNS: Final = [INDEX[name] for name in ROUTINE_FEATURES]
_FLOOR: Final = np.array([SCALE_FLOOR[name] for name in ROUTINE_FEATURES])


def routine_matrix(days: np.ndarray) -> np.ndarray:
    """The routine columns of a (n_days, len(FEATURES)) feature matrix."""
    return np.asarray(days, dtype=float)[:, _COLUMNS]


class _Standardiser:
    center_: np.ndarray
    scale_: np.ndarray
    low_: np.ndarray
    high_: np.ndarray
    own_: np.ndarray
    n_days_: int
    personal_: bool

    def _fit_scale(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        self.n_days_ = int(X.shape[0])
        pop_c = np.array([POPULATION[n][0] for n in ROUTINE_FEATURES])
        pop_s = np.array([POPULATION[n][1] for n in ROUTINE_FEATURES])
        counts = np.sum(np.isfinite(X), axis=0)
        self.personal_ = self.n_days_ >= MIN_DAYS
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                center = np.nanmedian(X, axis=0) if X.size else np.full(X.shape[1], np.nan)
                mad = np.nanmedian(np.abs(X - center), axis=0) if X.size else np.full(X.shape[1], np.nan)
                low = np.nanpercentile(X, 10, axis=0) if X.size else np.full(X.shape[1], np.nan)
                high = np.nanpercentile(X, 90, axis=0) if X.size else np.full(X.shape[1], np.nan)
        own = counts >= MIN_DAYS
        self.own_ = own  # features with enough of the person's own days to be compared at all
        self.center_ = np.where(own, center, pop_c)
        self.scale_ = np.maximum(np.where(own, MAD_TO_SIGMA * mad, pop_s), _FLOOR)
        self.low_ = np.where(own, low, pop_c - pop_s)
        self.high_ = np.where(own, high, pop_c + pop_s)
        return self.z(X)

    def z(self, X: np.ndarray) -> np.ndarray:
        """Robust z per feature; 0 where a value is missing."""
        Z = (np.asarray(X, dtype=float) - self.center_) / self.scale_
        Z = np.where(self.own_ | ~self.personal_, Z, 0.0)  # a feature she rarely has says nothing yet
        return np.clip(np.nan_to_num(Z, nan=0.0), -Z_CLIP, Z_CLIP)


class RobustMahalanobis(_Standardiser):
    """Mahalanobis distance of robust z-scores with a shrunk correlation (higher = more unusual).

    Median/MAD per feature (robust to the odd bad day in the history), correlation shrunk
    towards the identity because four weeks of days are few for ten features.
    """

    def __init__(self, shrinkage: float = 0.5) -> None:
        self.shrinkage = shrinkage

    def fit(self, X: np.ndarray, y: object = None) -> RobustMahalanobis:
        Z = self._fit_scale(X)
        p = Z.shape[1]
        corr = np.eye(p)
        if Z.shape[0] >= 3:
            corr = (Z.T @ Z) / Z.shape[0]
            d = np.sqrt(np.clip(np.diag(corr), 1e-9, None))
            corr = corr / np.outer(d, d)
            corr[~np.isfinite(corr)] = 0.0
        self.precision_ = np.linalg.inv((1 - self.shrinkage) * corr + self.shrinkage * np.eye(p))
        return self

    def score(self, X: np.ndarray) -> np.ndarray:
        Z = self.z(X)
        return np.einsum("ij,jk,ik->i", Z, self.precision_, Z)


class IsolationForestDetector(_Standardiser):
    """scikit-learn IsolationForest on robust z-scores (higher = more unusual)."""

    def __init__(self, n_estimators: int = 100, random_state: int | None = 0) -> None:
        self.n_estimators = n_estimators
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: object = None) -> IsolationForestDetector:
        Z = self._fit_scale(X)
        self.forest_ = IsolationForest(n_estimators=self.n_estimators, random_state=self.random_state)
        self.forest_.fit(Z if Z.shape[0] >= 2 else np.zeros((2, Z.shape[1])))
        return self

    def score(self, X: np.ndarray) -> np.ndarray:
        return -self.forest_.score_samples(self.z(X))


# Decision: distance above this (about chi-square 10 df at 1e-5 before shrinkage) and at least
# one feature far outside the person's usual (so the explanation always has something to say).
ROUTINE_SCORE_MIN: Final = 30.0
FEATURE_Z_MIN: Final = 3.0
SINGLE_FEATURE_Z: Final = 3.0  # or one feature alone this far out (7 toilet visits against 1-2)


@dataclass(frozen=True, slots=True)
class RoutineVerdict:
    score: float
    alert: bool
    moved: list[dict[str, Any]]
    summary: str
    personal: bool


def _fmt(name: str, value: float) -> str:
    unit = LABELS[name][1]
    if unit == "h":
        hours = value % 24
        return f"{int(hours):02d}:{round((hours % 1) * 60) % 60:02d}"
    if name in ("sleep_minutes",):
        return f"{value / 60:.1f} h"
    return f"{value:.0f}" if abs(value) >= 10 or float(value).is_integer() else f"{value:.1f}"


def explain(model: _Standardiser, x: np.ndarray, score: float) -> RoutineVerdict:
    """Which features moved, how far, against the person's usual range; and the decision."""
    x = np.asarray(x, dtype=float)
    z = model.z(x[None, :])[0]
    moved: list[dict[str, Any]] = []
    for j in np.argsort(-np.abs(z)):
        if abs(z[j]) < FEATURE_Z_MIN or not np.isfinite(x[j]) or z[j] * _SIGN[j] < 0:
            continue
        name = ROUTINE_FEATURES[j]
        moved.append(
            {
                "feature": name,
                "value": round(float(x[j]), 2),
                "z": round(float(z[j]), 1),
                "usual_low": round(float(model.low_[j]), 2),
                "usual_high": round(float(model.high_[j]), 2),
                "text": (
                    f"{LABELS[name][0]}: {_fmt(name, x[j])}; usual {_fmt(name, model.low_[j])}–"
                    f"{_fmt(name, model.high_[j])}"
                ),
            }
        )
    # On a cold start the comparison is with population defaults, which say little about one
    # person's routine (measured: 42 false routine changes in the simulator's first 6 days), so
    # it is reported in the model but never alerts.
    alert = (
        bool(model.personal_)
        and bool(moved)
        and (score >= ROUTINE_SCORE_MIN or abs(float(moved[0]["z"])) >= SINGLE_FEATURE_Z)
    )
    summary = "; ".join(str(m["text"]) for m in moved[:3]) or "no single feature stands out"
    if not model.personal_:
        summary += f" (compared with population defaults: fewer than {MIN_DAYS} days of own data)"
    return RoutineVerdict(float(score), alert, moved, summary, bool(model.personal_))


PERSIST_Z: Final = 2.5


# One night this far out (robust z, before the Z_CLIP of 6) is a change on its own, the next
# morning: 7 toilet visits against a usual 1-2 is z >= 6. Measured on the simulator's controls
# (bench/RESULTS.md ``## analytics``): false alerts stay within the 0.3/enrollee-week budget.
STRONG_Z: Final = 5.0


def strong_change(model: _Standardiser, today: np.ndarray) -> bool:
    """True when some feature today is STRONG_Z or more out, in the concerning direction."""
    z = model.z(np.asarray(today, dtype=float)[None, :])[0]
    return bool(np.any((np.abs(z) >= STRONG_Z) & (z * _SIGN >= 0)))


def same_change(model: _Standardiser, yesterday: np.ndarray, today: np.ndarray) -> bool:
    """True when some feature far out today (FEATURE_Z_MIN) was also out, the same way,
    yesterday (PERSIST_Z): the change has lasted two days."""
    z = model.z(np.vstack([yesterday, today]))
    concern = (np.abs(z[1]) >= FEATURE_Z_MIN) & (z[1] * _SIGN >= 0)
    return bool(np.any(concern & (z[0] * np.sign(z[1]) >= PERSIST_Z)))


def make_detector(
    name: str = "robust_mahalanobis", random_state: int = 0
) -> RobustMahalanobis | IsolationForestDetector:
    if name == "isolation_forest":
        return IsolationForestDetector(random_state=random_state)
    return RobustMahalanobis()
