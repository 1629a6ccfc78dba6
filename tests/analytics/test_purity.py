"""The scoring is pure (STYLE: detectors and the cycles' ``score`` steps): no connection, no
clock, no logging; SQL lives only in ``analytics/queries`` and the cycles' ``load`` and
``write`` steps reach the store only through it (and ``store.alerts``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ANALYTICS = Path(__file__).resolve().parents[2] / "analytics"
PURE = [
    *sorted((ANALYTICS / "detectors").glob("*.py")),
    ANALYTICS / "columns.py",
    ANALYTICS / "findings.py",
    ANALYTICS / "lifecycle.py",
    ANALYTICS / "shards.py",
    ANALYTICS / "minute" / "windows.py",
    ANALYTICS / "minute" / "score.py",
    ANALYTICS / "nightly" / "score.py",
]
IMPURE_MODULES = ("psycopg", "logging", "time", "store", "analytics.queries", "analytics.runner")
CLOCK_CALLS = {"now", "today", "utcnow", "time", "perf_counter", "monotonic"}


def _imports(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(ANALYTICS)))
def test_scoring_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    impure = sorted(
        name for name in _imports(tree) if any(name == m or name.startswith(m + ".") for m in IMPURE_MODULES)
    )
    assert not impure, f"{path.name} imports {impure}"
    calls = sorted(
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_CALLS
    )
    assert not calls, f"{path.name} reads a clock: {calls}"


def test_sql_only_in_queries() -> None:
    """No module outside ``analytics/queries`` runs a statement itself."""
    offenders = []
    for path in sorted(ANALYTICS.rglob("*.py")):
        if "queries" in path.relative_to(ANALYTICS).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            statement = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            if statement and node.func.attr in {"execute", "executemany", "copy", "cursor"}:  # type: ignore[attr-defined]
                offenders.append(f"{path.relative_to(ANALYTICS)}:{node.lineno}")
    assert offenders == []
