"""The shape of the package: imports flow one way, the public API resolves, laws follow the contract."""

from __future__ import annotations

import ast
from pathlib import Path

import lrforecast

PACKAGE = Path(lrforecast.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Each module of the package -> the package modules it imports (at any depth of the file, so a
    function-level import counts as much as one at the top), built from the source."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                targets = [stem] + [f"{stem}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                if t in modules and t != name and not (t == "lrforecast" and name.startswith("lrforecast")):
                    graph[name].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert len(graph) > 25 and graph["lrforecast.cli"]  # the walk found the package and its imports
    assert cycles(graph) == []


def test_a_cycle_is_found_where_there_is_one():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_readers_and_laws_stay_at_the_bottom():
    """A reader knows nothing of laws, schedules or forecasts; a law nothing of files or fitting."""
    graph = import_graph()
    for name, deps in graph.items():
        if name.startswith("lrforecast.readers"):
            assert deps <= {"lrforecast.errors", "lrforecast.run"} | {d for d in deps if d.startswith(
                "lrforecast.readers")}, name
        if name.startswith("lrforecast.laws"):
            assert deps <= {"lrforecast.errors", "lrforecast.areas"} | {d for d in deps if d.startswith(
                "lrforecast.laws")}, name
    assert not any("lrforecast.cli" in deps for name, deps in graph.items() if name != "lrforecast.__main__")


def test_the_public_api_resolves_and_is_what_all_lists():
    assert set(lrforecast.__all__) == {"__version__", *lrforecast._API}
    for name in lrforecast._API:
        assert getattr(lrforecast, name) is not None
    assert callable(lrforecast.fit) and callable(lrforecast.plan)  # the functions, not their modules
