"""Instants as the components pass them: epoch seconds (numpy, analytics) and aware datetimes
(SQL, the API). One conversion each way, UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(epoch_s: float) -> datetime:
    """Epoch seconds as an aware UTC datetime."""
    return datetime.fromtimestamp(float(epoch_s), UTC)


def epoch(value: datetime | None) -> float:
    """An aware datetime as epoch seconds; None as NaN (numpy's "unknown")."""
    return float("nan") if value is None else value.timestamp()
