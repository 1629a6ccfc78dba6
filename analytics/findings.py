"""What scoring produces: findings (a condition seen) and clearances (a condition gone).

Scoring functions return these; the lifecycle (analytics/lifecycle.py) turns them into alert
changes. Each names its enrollee by id (the scorers get the ids with their arrays), its kind
and severity as members of ``dolbom.alerts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dolbom.alerts import SEVERITY_RANK, AlertKind, Severity


@dataclass(frozen=True, slots=True)
class Finding:
    """One condition of one enrollee, with what a nurse needs to act on it."""

    enrollee_id: int
    kind: AlertKind
    severity: Severity
    onset_ts: float  # epoch seconds, data time of the first evidence
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    score: float = 0.0  # higher = more anomalous; the decision already happened


@dataclass(frozen=True, slots=True)
class Clearance:
    """Evidence that a condition has cleared (past its hysteresis band) at ``ts``."""

    enrollee_id: int
    kind: AlertKind
    ts: float


def rank(severity: Severity) -> int:
    return SEVERITY_RANK[severity]
