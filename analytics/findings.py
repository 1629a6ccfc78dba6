"""What scoring produces: findings (a condition seen) and clearances (a condition gone).

Scoring functions return these; the lifecycle turns them into alert changes. Indices refer
to the enrollee table of the batch (``enrollee_ids[index]``), never to names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dolbom.alerts import SEVERITY_RANK, Severity


@dataclass(frozen=True, slots=True)
class Finding:
    """One condition of one enrollee, with what a nurse needs to act on it."""

    enrollee: int  # index into the batch's enrollee table (or the enrollee id, see caller)
    kind: str
    severity: str
    onset_ts: float  # epoch seconds, data time of the first evidence
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0  # higher = more anomalous; the decision already happened


@dataclass(frozen=True, slots=True)
class Clearance:
    """Evidence that a condition has cleared (past its hysteresis band) at ``ts``."""

    enrollee: int
    kind: str
    ts: float


def rank(severity: str) -> int:
    return SEVERITY_RANK[Severity(severity)]


def worst(severities: list[str]) -> str:
    return max(severities, key=rank)
