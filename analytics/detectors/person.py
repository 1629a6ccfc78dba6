"""One person's nightly refit (pure): the routine model over their daily features, the trend
rules (declining activity, rapid weight gain, rising blood pressure) and the clock profile
(waking hours, usual longest daytime gap, night door rate) that inactivity and night
wandering read. Benchmarked per enrollee (bench/scoring.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

import numpy as np

from analytics.detectors import routine, trends
from analytics.detectors.features import FEATURES, INDEX
from dolbom.alerts import AlertKind, Severity
from dolbom.thresholds import effective

PROFILE_DAYS: Final = 14
ROUTINE_KINDS: Final = (
    AlertKind.ROUTINE_CHANGE,
    AlertKind.DECLINING_ACTIVITY,
    AlertKind.RAPID_WEIGHT_GAIN,
    AlertKind.RISING_BLOOD_PRESSURE,
)


class PersonFinding(NamedTuple):
    """A condition judged on day D; the nightly cycle makes it a Finding of the enrollee."""

    kind: AlertKind
    severity: Severity
    summary: str
    evidence: dict[str, Any]
    score: float


@dataclass
class PersonHistory:
    """One enrollee's inputs to the nightly refit (pure data)."""

    features: np.ndarray  # (n_days, len(FEATURES)), oldest first, the last row is day D
    weight_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sbp_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sbp: np.ndarray = field(default_factory=lambda: np.zeros(0))
    thresholds: dict[str, float] = field(default_factory=lambda: effective(None))


def refit_person(
    history: PersonHistory, day_number: float, model_name: str = "robust_mahalanobis"
) -> tuple[dict[str, Any], list[PersonFinding], list[AlertKind]]:
    """Refit one person's models on their history and judge day D (the last row).

    Returns (params to store, findings (kind, severity, summary, evidence, score), kinds
    evaluated as clear). Pure.
    """
    feats = np.asarray(history.features, dtype=float)
    today, past = feats[-1], feats[:-2][-routine.HISTORY_DAYS :]
    findings: list[PersonFinding] = []
    clear: list[AlertKind] = []
    # routine model over the days before D-1; D and D-1 are judged against it, and a change
    # must show on both days in the same direction (one odd day is not a routine change)
    model = routine.make_detector(model_name).fit(routine.routine_matrix(past))
    x = routine.routine_matrix(feats[-2:] if feats.shape[0] >= 2 else today[None, :])
    scores = model.score(x)
    score = float(scores[-1])
    verdict = routine.explain(model, x[-1], score)
    persistent = x.shape[0] == 2 and routine.same_change(model, x[0], x[1])
    strong = routine.strong_change(model, x[-1])
    has_today = bool(np.isfinite(x[-1]).sum() >= 3)
    if verdict.alert and has_today and (persistent or strong):
        evidence = {
            "summary": verdict.summary,
            "score": round(score, 1),
            "threshold": routine.ROUTINE_SCORE_MIN,
            "moved": verdict.moved,
            "model": model_name,
            "confirmed_by": "two days in a row" if persistent else f"one day at z >= {routine.STRONG_Z:g}",
            "history_days": int(past.shape[0]),
            "baseline": "personal" if verdict.personal else "population default (cold start)",
        }
        findings.append(
            PersonFinding(
                AlertKind.ROUTINE_CHANGE, Severity.LOW, "Routine change: " + verdict.summary, evidence, score
            )
        )
    else:
        clear.append(AlertKind.ROUTINE_CHANGE)
    # declining activity: steps, else active minutes
    column = INDEX["steps"] if np.isfinite(feats[:, INDEX["steps"]]).sum() >= 14 else INDEX["active_minutes"]
    decline = trends.declining_activity(feats[:, column])
    name = FEATURES[column].replace("_", " ")
    if decline.alert:
        summary = (
            f"{name.capitalize()} down to {decline.recent:.0f}/day over the last week; usual "
            f"{decline.usual:.0f}/day (trend {decline.slope_per_week:+.0f}/day per week)"
        )
        findings.append(
            PersonFinding(
                AlertKind.DECLINING_ACTIVITY,
                Severity.LOW,
                summary,
                {
                    "summary": summary,
                    "feature": FEATURES[column],
                    "usual": decline.usual,
                    "recent": decline.recent,
                    "slope_per_week": decline.slope_per_week,
                    "cusum": round(decline.score, 2),
                    "threshold": {"cusum_h": trends.CUSUM_H, "min_drop": trends.MIN_DROP},
                },
                decline.score,
            )
        )
    elif decline.enough_history:
        clear.append(AlertKind.DECLINING_ACTIVITY)
    # ESC 2021: weight gain > 2 kg in 3 days
    limit = history.thresholds["weight_gain_3d"]
    gain = trends.weight_gain(history.weight_days, history.weights, day_number + 1, limit)
    if gain.alert:
        summary, evidence, score = trends.weight_finding(gain, limit)
        findings.append(PersonFinding(AlertKind.RAPID_WEIGHT_GAIN, Severity.MEDIUM, summary, evidence, score))
    elif gain.cleared:
        clear.append(AlertKind.RAPID_WEIGHT_GAIN)
    bp = trends.rising_bp(history.sbp_days, history.sbp, history.thresholds["sbp_stage2"])
    if bp.alert:
        summary = (
            f"Systolic BP rising {bp.slope_per_week:+.1f} mmHg/week over 4 weeks; last week's mean "
            f"{bp.recent_mean:.0f} mmHg (stage 2 ≥ {history.thresholds['sbp_stage2']:g}, AHA/ACC 2017)"
        )
        findings.append(
            PersonFinding(
                AlertKind.RISING_BLOOD_PRESSURE,
                Severity.LOW,
                summary,
                {"summary": summary, "slope_per_week": bp.slope_per_week, "recent_mean": bp.recent_mean},
                bp.slope_per_week,
            )
        )
    else:
        clear.append(AlertKind.RISING_BLOOD_PRESSURE)
    # clock profile for inactivity and night wandering
    recent = feats[-PROFILE_DAYS:]

    def robust(col: str, fn: Any, min_days: int = 7) -> float | None:
        values = recent[:, INDEX[col]]
        values = values[np.isfinite(values)]
        return float(fn(values)) if values.size >= min_days else None

    night = feats[-routine.HISTORY_DAYS :, INDEX["night_door_opens"]]
    night = night[np.isfinite(night)]
    params = {
        "model": model_name,
        "center": model.center_.tolist(),
        "scale": model.scale_.tolist(),
        "personal": bool(model.personal_),
        "last_score": score,
        "wake_h": robust("first_activity_h", np.median),
        "sleep_h": robust("last_activity_h", np.median),
        "gap_p90_h": robust("longest_gap_h", lambda v: np.percentile(v, 90)),
        "night_door_rate": float(np.mean(night > 0)) if night.size else 0.0,
        "history_nights": int(night.size),
    }
    return params, findings, clear
