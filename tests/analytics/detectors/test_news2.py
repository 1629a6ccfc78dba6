"""Partial NEWS2 (RCP 2017): the bands and the parameters a score lacks."""

from __future__ import annotations

import pytest

from analytics.detectors import news2


@pytest.mark.parametrize(
    ("parameter", "value", "points"),
    [
        ("spo2", 91, 3),
        ("spo2", 92, 2),
        ("spo2", 95, 1),
        ("spo2", 96, 0),
        ("heart_rate", 40, 3),
        ("heart_rate", 41, 1),
        ("heart_rate", 90, 0),
        ("heart_rate", 131, 3),
        ("respiratory_rate", 8, 3),
        ("respiratory_rate", 12, 0),
        ("respiratory_rate", 25, 3),
        ("body_temp", 35.0, 3),
        ("body_temp", 38.1, 1),
        ("body_temp", 39.1, 2),
        ("systolic_bp", 90, 3),
        ("systolic_bp", 111, 0),
        ("systolic_bp", 220, 3),
    ],
)
def test_news2_bands(parameter: str, value: float, points: int) -> None:
    assert news2.points(parameter, value) == points


def test_news2_partial_names_missing_parameters() -> None:
    result = news2.partial_score({"spo2": 90, "heart_rate": 120})
    assert result["score"] == 5 and "respiratory_rate" in result["missing"]  # type: ignore[operator]
