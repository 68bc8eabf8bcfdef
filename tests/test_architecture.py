"""The shape of the code: stages import forward only, nothing hides a cycle, modules stay small.

The import graph is read from the source (ast), so the test needs nothing
installed beyond the checkout.
"""

from __future__ import annotations

import ast
from pathlib import Path

from kehoach.core.paths import CODE_ROOT

PACKAGES = ("kehoach", "flows")
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((CODE_ROOT / package).rglob("*.py")):
            parts = path.relative_to(CODE_ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imported(node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> set[str]:
    """Project modules named by an import statement (a name may be a module of a package)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        names = [base] + [f"{base}.{a.name}" for a in node.names]
    return {n for n in names if n in known}


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges[name] = {m for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
                       for m in imported(node, known)} - {name}
    return edges


def cycle(edges: dict[str, set[str]]) -> list[str]:
    """One import cycle, or [] (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set(), "c": {"a"}}) == []


def test_the_project_has_no_import_cycle():
    edges = graph()
    assert "kehoach.build" in edges and "kehoach.parse.corpus" in edges["kehoach.build"]
    assert cycle(edges) == []


def test_the_library_never_imports_the_prefect_layer():
    offenders = {m: sorted(d for d in deps if d.startswith("flows")) for m, deps in graph().items()
                 if m.startswith("kehoach")}
    assert {m: d for m, d in offenders.items() if d} == {}


def test_no_import_inside_a_function():
    found = []
    for name, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                found += [f"{name}:{n.lineno}" for n in ast.walk(func) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert found == []


def test_modules_stay_small():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
