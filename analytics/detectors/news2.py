"""Partial NEWS2 (Royal College of Physicians, National Early Warning Score 2, 2017).

Only the parameters a home kit measures are scored (respiration, SpO2 scale 1, heart rate,
temperature, systolic BP); consciousness and supplemental oxygen are unknown at home, so the
score is *partial* and says which parameters it used. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# (upper-inclusive bound, points) ladders straight from the NEWS2 chart (RCP 2017).
_BANDS: Final[dict[str, tuple[tuple[float, int], ...]]] = {
    # respiration rate: <=8 -> 3, 9-11 -> 1, 12-20 -> 0, 21-24 -> 2, >=25 -> 3
    "respiratory_rate": ((8, 3), (11, 1), (20, 0), (24, 2), (float("inf"), 3)),
    # SpO2 scale 1: <=91 -> 3, 92-93 -> 2, 94-95 -> 1, >=96 -> 0
    "spo2": ((91, 3), (93, 2), (95, 1), (float("inf"), 0)),
    # systolic BP: <=90 -> 3, 91-100 -> 2, 101-110 -> 1, 111-219 -> 0, >=220 -> 3
    "systolic_bp": ((90, 3), (100, 2), (110, 1), (219, 0), (float("inf"), 3)),
    # pulse: <=40 -> 3, 41-50 -> 1, 51-90 -> 0, 91-110 -> 1, 111-130 -> 2, >=131 -> 3
    "heart_rate": ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (float("inf"), 3)),
    # temperature: <=35.0 -> 3, 35.1-36.0 -> 1, 36.1-38.0 -> 0, 38.1-39.0 -> 1, >=39.1 -> 2
    "body_temp": ((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1), (float("inf"), 2)),
}
PARAMETERS: Final = tuple(_BANDS)


def points(parameter: str, value: float) -> int:
    """NEWS2 points of one parameter value."""
    for bound, score in _BANDS[parameter]:
        if value <= bound:
            return score
    raise AssertionError("unreachable: the last band is unbounded")


def partial_score(latest: Mapping[str, float]) -> dict[str, object]:
    """Partial NEWS2 from the latest value of each measured parameter.

    Returns ``{"score", "parameters": {name: points}, "missing": [...]}``; 5-6 calls for an
    urgent review and >= 7 for an emergency response (NEWS2 clinical response thresholds),
    but only when enough parameters were measured to mean anything.
    """
    used = {name: points(name, float(value)) for name, value in latest.items() if name in _BANDS}
    return {
        "score": sum(used.values()),
        "parameters": used,
        "missing": [name for name in PARAMETERS if name not in used],
    }
