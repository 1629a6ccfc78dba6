"""The simulator's modules import each other one way only (issue 13: no import cycles).

Every import statement counts: at module level, inside a function and under ``TYPE_CHECKING``,
so a cycle cannot come back hidden in a function. Importing ``a.b.c`` also runs ``a.b``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import device_sim

PACKAGE = Path(device_sim.__file__).parent
ROOT = PACKAGE.parent


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _parents(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _imports(path: Path, module: str, modules: set[str]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    found = set()
    for target in targets & modules:
        found |= ({target} | _parents(target)) & modules
    return found - {module} - _parents(module)


def import_graph() -> dict[str, set[str]]:
    paths = {_name(path): path for path in PACKAGE.rglob("*.py")}
    return {module: _imports(path, module, set(paths)) for module, path in paths.items()}


def test_device_sim_has_no_import_cycle() -> None:
    graph = import_graph()
    assert graph["device_sim.day"] >= {"device_sim.vitals"}  # the walk sees imports at all
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph[module]):
            if state.get(dep) == 1:
                cycles.append([*path[path.index(dep):], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
