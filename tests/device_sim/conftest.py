"""Helpers for the simulator's tests: small populations and decoded message streams."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from device_sim import population, scenarios
from device_sim.model import Population

SEOUL = ZoneInfo("Asia/Seoul")
START = datetime(2026, 11, 2, tzinfo=SEOUL)  # a Monday


@pytest.fixture(scope="session")
def demo() -> Population:
    return population.build(scenarios.load("demo"), seed=1)


@pytest.fixture(scope="session")
def evaluation() -> Population:
    return population.build(scenarios.load("evaluation"), seed=1)


def window(days: float) -> tuple[datetime, datetime]:
    return START, START + timedelta(days=days)
