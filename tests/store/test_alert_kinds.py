"""Every alert kind a component can raise is an ``AlertKind`` with both labels (issue 13).

``store.alerts.raise_alert`` refuses anything else at run time (test_alerts.py); these walk
the tables each component declares its kinds in, so a kind outside the catalogue fails here
before it can reach a care worker's screen unlabelled.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from dolbom.alerts import KIND_LABELS, ON_ARRIVAL_KINDS, AlertKind
from ingest import critical

ROOT = Path(__file__).resolve().parents[2]


def _labelled(kind: object) -> None:
    member = AlertKind(kind)  # ValueError: not a kind of the catalogue
    korean, english = KIND_LABELS[member]
    assert korean.strip() and english.strip(), f"{kind!r} lacks a label"


def test_ingest_raises_only_catalogue_kinds() -> None:
    kinds = [rule.kind for rule in critical.RULES] + list(critical.EVENT_KINDS.values())
    for kind in kinds:
        assert isinstance(kind, AlertKind), f"ingest raises {kind!r}, not an AlertKind member"
        _labelled(kind)
    assert set(critical.EVENT_KINDS.values()) == ON_ARRIVAL_KINDS


def _keys(table: Any) -> Iterable[Any]:
    return list(table)


def _rule_kinds(rules: Any) -> Iterable[Any]:
    return [rule.kind for rule in rules]


# Where analytics declares the kinds it raises: (module, name, how to read its kinds).
# A name that moves fails here, with its place: update this list with the move.
ANALYTICS_TABLES: list[tuple[str, str, Callable[[Any], Iterable[Any]]]] = [
    ("analytics.detectors.vital_rules", "RULES", _rule_kinds),
    ("analytics.lifecycle", "CLEAR_AFTER_S", _keys),
    ("analytics.lifecycle", "STATE_KINDS", _keys),
    ("analytics.lifecycle", "EPISODIC_KINDS", _keys),
    ("analytics.lifecycle", "NEVER_AUTO_RESOLVE", _keys),
    ("analytics.detectors.clock", "CLOCK_KINDS", _keys),
    ("analytics.detectors.person", "ROUTINE_KINDS", _keys),
]


def _analytics_kinds(module: str, name: str, read: Callable[[Any], Iterable[Any]]) -> list[Any]:
    table = getattr(importlib.import_module(module), name, None)
    assert table is not None, f"{module}.{name} is gone: say in ANALYTICS_TABLES where it went"
    kinds = list(read(table))
    assert kinds, f"{module}.{name} declares no kind"
    return kinds


@pytest.mark.parametrize(("module", "name", "read"), ANALYTICS_TABLES,
                         ids=[f"{m}.{n}" for m, n, _ in ANALYTICS_TABLES])
def test_analytics_declares_only_catalogue_kinds(
    module: str, name: str, read: Callable[[Any], Iterable[Any]]
) -> None:
    for kind in _analytics_kinds(module, name, read):
        _labelled(kind)


@pytest.mark.parametrize(("module", "name", "read"), ANALYTICS_TABLES,
                         ids=[f"{m}.{n}" for m, n, _ in ANALYTICS_TABLES])
def test_analytics_kinds_are_alert_kind_members(
    module: str, name: str, read: Callable[[Any], Iterable[Any]]
) -> None:
    for kind in _analytics_kinds(module, name, read):
        assert isinstance(kind, AlertKind), f"{module}.{name}: {kind!r} is not an AlertKind member"


# SQL (upper-case keywords, as all of ours) that writes alerts or their trail; only
# store.alerts may hold it.
_WRITES = re.compile(r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(alerts|alert_actions)\b")


@pytest.mark.parametrize("package", ["api", "ingest", "analytics"])
def test_only_the_store_writes_alerts(package: str) -> None:
    """The API raises no alert itself and neither it, ingest nor analytics writes alerts but through
    ``store.alerts`` (the API's actions: ``store.alerts.actions``)."""
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if _WRITES.search(text):
            offenders.append(f"{path.relative_to(ROOT)}: {_WRITES.search(text)}")
        if package == "api" and "raise_alert" in text:
            offenders.append(f"{path.relative_to(ROOT)} raises an alert")
    assert offenders == []
