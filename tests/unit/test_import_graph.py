"""The shape of the code, checked with `ast`: no import circle among our modules, pages that read
through read models, and functions short enough to read.

Every `import` counts, at module level or inside a function (a deferred import hides a circle, it
does not remove it); relative imports are resolved against the importing module's package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("connector", "adapters")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name (migrations are scripts Alembic loads)."""
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            modules[_module_name(path)] = path
    return modules


def imported_names(name: str, path: Path) -> Iterator[str]:
    """The dotted names `path` imports anywhere in its body, relative ones made absolute."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop] if drop else base
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            yield module
            for alias in node.names:  # `from connector import tasks` imports the module connector.tasks
                yield f"{module}.{alias.name}"


def _resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The project module `target` names: itself, or the nearest enclosing module (an attribute's)."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for target in imported_names(name, path):
            resolved = _resolve(target, modules)
            if resolved is not None and resolved != name:
                edges.add(resolved)
        graph[name] = edges
    return graph


def _without_package_edges(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop a package's edges into its own submodules' parents: importing `a.b` runs `a/__init__`
    first, so an edge a.b -> a is how Python works, not a circle the code chose."""
    return {
        name: {t for t in targets if not name.startswith(t + ".")} for name, targets in graph.items()
    }


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected component of more than one module, as one circle through it (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(root: str) -> None:
        nonlocal counter
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_circle_through(graph, component) for component in components]


def _circle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest path from the component's first module back to itself, for the failure message."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    return component


def test_the_graph_finder_sees_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_relative_and_deferred_imports_are_counted(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("from . import sibling\nfrom ..up import thing\ndef f():\n    import connector.tasks\n")
    names = set(imported_names("connector.web.m", source))
    assert {"connector.web.sibling", "connector.up.thing", "connector.tasks"} <= names


def test_no_import_circle() -> None:
    cycles = find_cycles(_without_package_edges(import_graph()))
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_entry_points_import_the_composition_root_never_the_reverse() -> None:
    graph = import_graph()
    entry_points = {"connector.tasks", "connector.scheduler", "connector.cli", "connector.web"}
    assert not graph["connector.bootstrap"] & entry_points
    assert "connector.sweeps" in graph["connector.tasks"] and "connector.sweeps" in graph["connector.scheduler"]


# --- pages read through read models -------------------------------------------------------------

TABLES = "connector.storage.tables"


def _is_read_model(name: str) -> bool:
    """Modules allowed to query the tables for pages: read models under web/ and the query modules."""
    leaf = name.rpartition(".")[2]
    return ".read_models" in name or leaf.endswith(("_view", "_queries"))


def test_pages_read_through_read_models() -> None:
    graph = import_graph()
    pages = [name for name in graph if name.startswith("connector.web") and not _is_read_model(name)]
    offenders = sorted(name for name in pages if TABLES in graph[name])
    assert not offenders, f"page modules that import {TABLES} (move their queries into a read model): {offenders}"


# --- functions short enough to read -------------------------------------------------------------

MAX_LINES = 80
EXEMPT_FILES: set[str] = set()
EXEMPT_DIRS: tuple[str, ...] = ()
EXEMPT_FUNCTIONS = {
    ("connector/domain/engine.py", "_allocate_ordered"),  # the engine's hand-tuned hot loop (benchmarks/engine.py)
}


def long_functions() -> list[tuple[str, str, int]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "migrations" in path.parts or rel in EXEMPT_FILES or rel.startswith(EXEMPT_DIRS):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                    lines = (node.end_lineno or node.lineno) - start + 1
                    if lines > MAX_LINES and (rel, node.name) not in EXEMPT_FUNCTIONS:
                        found.append((rel, node.name, lines))
    return found


def test_no_function_over_80_lines() -> None:
    offenders = long_functions()
    report = "\n".join(f"{path}:{name} is {lines} lines (max {MAX_LINES})" for path, name, lines in offenders)
    assert not offenders, report


# --- the layers ---------------------------------------------------------------------------------

ENTRY_POINTS = ("connector.tasks", "connector.scheduler", "connector.cli", "connector.web", "connector.celery_app")


def _project_imports(name: str, graph: dict[str, set[str]]) -> set[str]:
    return {target for target in graph[name] if target.split(".")[0] in PACKAGES}


def test_the_domain_imports_nothing_of_the_service() -> None:
    """`connector.domain` is pure: only itself (and the standard library and maths libraries)."""
    graph = import_graph()
    offenders = {
        name: sorted(t for t in _project_imports(name, graph) if not t.startswith("connector.domain"))
        for name in graph
        if name.startswith("connector.domain")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_the_domain_imports_no_framework_database_or_http() -> None:
    forbidden = {"sqlalchemy", "flask", "werkzeug", "requests", "celery", "redis", "apscheduler"}
    modules = project_modules()
    offenders = {
        name: sorted({t.split(".")[0] for t in imported_names(name, path)} & forbidden)
        for name, path in modules.items()
        if name.startswith("connector.domain")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_adapters_import_only_the_common_model_and_each_other() -> None:
    graph = import_graph()
    allowed = {"connector", "connector.domain", "connector.domain.model"}
    offenders = {
        name: sorted(t for t in _project_imports(name, graph) if t.startswith("connector") and t not in allowed)
        for name in graph
        if name.startswith("adapters")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_nothing_below_the_entry_points_imports_them() -> None:
    graph = import_graph()
    below = [n for n in graph if n.startswith("connector.") and not n.startswith(ENTRY_POINTS)
             and n not in {"connector.bootstrap", "connector.sweeps"}]
    offenders = {n: sorted(t for t in graph[n] if t.startswith(ENTRY_POINTS)) for n in below}
    assert not {k: v for k, v in offenders.items() if v}


def test_no_two_modules_share_a_name() -> None:
    leaves: dict[str, list[str]] = {}
    for name, path in project_modules().items():
        if name.startswith("connector") and path.name != "__init__.py":
            leaves.setdefault(name.rpartition(".")[2], []).append(name)
    twins = {leaf: names for leaf, names in leaves.items() if len(names) > 1}
    assert not twins, twins


def test_every_package_says_what_it_holds_and_may_import() -> None:
    for init in sorted((ROOT / "connector").rglob("__init__.py")):
        if "migrations" in init.parts or "static" in init.parts:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert doc, f"{init.relative_to(ROOT)} has no docstring"


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph between `connector`'s packages and top-level modules (`adapters` as one node)."""

    def room(name: str) -> str:
        parts = name.split(".")
        return "adapters" if parts[0] == "adapters" else ".".join(parts[:2])

    rooms: dict[str, set[str]] = {}
    for source, targets in graph.items():
        for target in targets:
            if target.split(".")[0] in PACKAGES and target != "connector" and room(source) != room(target):
                rooms.setdefault(room(source), set()).add(room(target))
            rooms.setdefault(room(source), set())
    return rooms


def test_packages_form_layers() -> None:
    """No two packages import each other, even through different modules: dependencies point down."""
    rooms = package_graph(import_graph())
    assert "connector.backorders" in rooms["connector.supply"]  # the graph is real: receiving ships orders
    cycles = find_cycles(rooms)
    assert not cycles, "packages importing each other:\n" + "\n".join(" -> ".join(c) for c in cycles)
