"""Detector conventions (scikit-learn style), purity and determinism, and the shared check
that every detector separates injected anomalies from normal days.

AUC bar: 0.90. The injected anomalies are clinically meaningful changes (several features
3-6 robust sigmas away: e.g. 7 toilet visits against a usual 1-2, half the usual steps); a
detector that ranks such a day below a normal day more than one time in ten would, at any
threshold quiet enough for the false-alert budget (<= 0.5 per enrollee-week), miss many of
them. The same bar is checked on the simulator's labelled data in bench/detection.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from analytics.detectors import routine, trends
from analytics.detectors.features import FEATURES, INDEX
from analytics.detectors.vitals import EnrolleeContext, VitalBatch, score_vitals

AUC_BAR = 0.90


def person_days(rng: np.random.Generator, n: int) -> np.ndarray:
    usual = {
        "sleep_minutes": (420, 30),
        "bed_time_h": (-1.5, 0.4),
        "first_activity_h": (7, 0.4),
        "last_activity_h": (21.5, 0.4),
        "steps": (3500, 500),
        "active_minutes": (280, 40),
        "night_toilet_visits": (1.5, 0.7),
        "time_out_h": (1.5, 0.7),
        "checkins_answered": (1, 0.2),
        "mood": (4, 0.4),
        "longest_gap_h": (2, 0.5),
        "night_door_opens": (0, 0.1),
    }
    days = np.column_stack([rng.normal(*usual[name], n) for name in FEATURES])
    days[:, INDEX["night_toilet_visits"]] = np.round(np.clip(days[:, INDEX["night_toilet_visits"]], 0, None))
    return days


def inject(rng: np.random.Generator, day: np.ndarray) -> np.ndarray:
    day = day.copy()
    choice = rng.integers(4)
    if choice == 0:
        day[INDEX["night_toilet_visits"]] = 7
        day[INDEX["sleep_minutes"]] -= 150
    elif choice == 1:
        day[INDEX["steps"]] *= 0.35
        day[INDEX["active_minutes"]] *= 0.4
    elif choice == 2:
        day[INDEX["first_activity_h"]] += 3.5
        day[INDEX["checkins_answered"]] = 0
    else:
        day[INDEX["time_out_h"]] += 6
        day[INDEX["last_activity_h"]] += 2.5
    return day


@pytest.mark.parametrize("name", ["robust_mahalanobis"])  # the one in use; bench compares IsolationForest
def test_routine_detectors_separate_injected_days(name: str) -> None:
    rng = np.random.default_rng(7)
    scores, labels = [], []
    for _ in range(30):
        days = person_days(rng, 36)
        model = routine.make_detector(name).fit(routine.routine_matrix(days[:28]))
        normal = days[28:]
        odd = np.array([inject(rng, d) for d in normal])
        scores += list(model.score(routine.routine_matrix(normal))) + list(
            model.score(routine.routine_matrix(odd))
        )
        labels += [0] * len(normal) + [1] * len(odd)
    assert roc_auc_score(labels, scores) >= AUC_BAR


def test_decline_cusum_separates_declines() -> None:
    rng = np.random.default_rng(3)
    scores, labels = [], []
    for i in range(60):
        series = rng.normal(4000, 400, 49)
        if i % 2:
            series[-14:] *= np.linspace(0.9, 0.4, 14)
        scores.append(trends.declining_activity(series).score)
        labels.append(i % 2)
    assert roc_auc_score(labels, scores) >= AUC_BAR


@pytest.mark.parametrize("cls", [routine.RobustMahalanobis, routine.IsolationForestDetector])
def test_sklearn_conventions(cls: type) -> None:
    detector = cls()
    params = dict(vars(detector))
    rng = np.random.default_rng(0)
    X = routine.routine_matrix(person_days(rng, 28))
    assert detector.fit(X) is detector
    assert {k: v for k, v in vars(detector).items() if not k.endswith("_")} == params  # params unchanged
    assert all(k.endswith("_") for k in vars(detector) if k not in params)  # learned state in attr_
    assert np.array_equal(cls().fit(X).score(X), cls().fit(X).score(X))  # deterministic for a seed


def test_routine_explains_which_features_moved() -> None:
    rng = np.random.default_rng(11)
    days = person_days(rng, 29)
    model = routine.RobustMahalanobis().fit(routine.routine_matrix(days[:28]))
    odd = days[28].copy()
    odd[INDEX["night_toilet_visits"]] = 7
    x = routine.routine_matrix(odd[None, :])
    verdict = routine.explain(model, x[0], float(model.score(x)[0]))
    assert verdict.alert and verdict.moved[0]["feature"] == "night_toilet_visits"
    assert verdict.summary.startswith("toilet visits last night: 7; usual")


def test_routine_cold_start_says_so() -> None:
    rng = np.random.default_rng(2)
    model = routine.RobustMahalanobis().fit(routine.routine_matrix(person_days(rng, 4)))
    x = routine.routine_matrix(person_days(rng, 1))
    assert not model.personal_ and "population defaults" in routine.explain(model, x[0], 0.0).summary


readings = st.lists(
    st.tuples(
        st.integers(0, 2), st.sampled_from([1, 2, 4, 5, 6, 8, 9]), st.integers(0, 7200), st.floats(10, 300)
    ),
    min_size=1,
    max_size=60,
    unique_by=lambda r: (r[0], r[1], r[2]),  # the store keeps one reading per (device, metric, ts)
)


@settings(max_examples=60, deadline=None)
@given(readings)
def test_vital_scoring_is_pure_and_order_independent(rows: list[tuple[int, int, int, float]]) -> None:
    arr = np.array(rows, dtype=float)

    def make(a: np.ndarray) -> VitalBatch:
        ids, codes, ts, values = a[:, 0].astype(np.int64), a[:, 1].astype(np.int64), 1.8e9 + a[:, 2], a[:, 3]
        return VitalBatch(ids, codes, ts, values.copy(), np.ones(len(a), dtype=bool))

    ctx = EnrolleeContext.defaults(3)
    batch = make(arr)
    before = batch.value.copy()
    first, _ = score_vitals(batch, ctx)
    assert np.array_equal(batch.value, before)  # inputs untouched
    second, _ = score_vitals(make(arr[::-1].copy()), ctx)

    def key(fs: list) -> list:
        return sorted((f.enrollee_id, f.kind, f.severity, f.evidence["value"]) for f in fs)

    assert key(first) == key(second)


def _toilet_z(days: np.ndarray, visits: float) -> float:
    model = routine.RobustMahalanobis().fit(routine.routine_matrix(days[:-2][-routine.HISTORY_DAYS :]))
    odd = days[-1].copy()
    odd[INDEX["night_toilet_visits"]] = visits
    return float(
        model.z(routine.routine_matrix(odd[None, :]))[0][
            routine.ROUTINE_FEATURES.index("night_toilet_visits")
        ]
    )


def test_one_moderately_odd_day_is_not_a_routine_change_two_are() -> None:
    from analytics.detectors.person import PersonHistory, refit_person

    rng = np.random.default_rng(5)
    days = person_days(rng, 30)
    moderate = next(v for v in range(2, 12) if _toilet_z(days, v) >= routine.FEATURE_Z_MIN)
    assert _toilet_z(days, moderate) < routine.STRONG_Z  # the test needs a moderate value
    one = days.copy()
    one[-1, INDEX["night_toilet_visits"]] = moderate
    assert "routine_change" not in [f[0] for f in refit_person(PersonHistory(one), 1.0)[1]]
    two = one.copy()
    two[-2, INDEX["night_toilet_visits"]] = moderate
    found = [f for f in refit_person(PersonHistory(two), 1.0)[1] if f[0] == "routine_change"]
    assert found and f"toilet visits last night: {moderate}" in found[0][2]
    assert found[0][3]["confirmed_by"] == "two days in a row"


def test_one_strongly_abnormal_night_is_a_routine_change_at_once() -> None:
    from analytics.detectors.person import PersonHistory, refit_person

    rng = np.random.default_rng(5)
    days = person_days(rng, 30)
    strong = next(v for v in range(2, 20) if _toilet_z(days, v) >= routine.STRONG_Z)
    one = days.copy()
    one[-1, INDEX["night_toilet_visits"]] = strong
    found = [f for f in refit_person(PersonHistory(one), 1.0)[1] if f[0] == "routine_change"]
    assert found and found[0][3]["confirmed_by"].startswith("one day at z >=")
