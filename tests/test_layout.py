"""The layering CONTRIBUTING.md describes: route modules are adapters that import the application
modules and the shared HTTP helpers (web.py, http/), never another route module."""

from __future__ import annotations

import ast
from pathlib import Path

import leadtrail

SRC = Path(leadtrail.__file__).parent
ROUTES = SRC / "routes"


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, own: str, is_package: bool = False) -> set[str]:
    """Every module the module `own` imports (relative imports resolved; `from x import y` counts
    x.y too)."""
    package = own if is_package else own.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def route_modules() -> dict[str, Path]:
    return {module_name(p): p for p in ROUTES.rglob("*.py")}


def test_no_route_module_imports_another():
    """A route module imports no other route module; a route package's __init__ (its route
    table) imports only its own handler modules."""
    modules = route_modules()
    assert "leadtrail.routes.track" in modules and "leadtrail.routes.dashboard.insights" in modules
    for name, path in modules.items():
        for imported in imported_modules(path.read_text(), name, path.name == "__init__.py") & set(modules):
            if imported in (name, "leadtrail.routes"):
                continue
            table = path.name == "__init__.py" and imported.startswith(name + ".")
            assert table, f"{name} imports the route module {imported}"


def test_the_checker_sees_a_route_importing_a_route():
    """The check above can fail: relative imports of a sibling route module are found."""
    source = "from .journey import erase\nfrom . import auth\nfrom ... import insights\n"
    imported = imported_modules(source, "leadtrail.routes.dashboard.probe")
    assert {"leadtrail.routes.dashboard.journey", "leadtrail.routes.dashboard.auth"} <= imported
    assert "leadtrail.insights" in imported


def test_services_have_no_untyped_bag_of_state():
    """Every piece of shared state is a typed field of Services (no `extras` dict)."""
    from leadtrail.services import Services

    assert "extras" not in Services.__dataclass_fields__
    assert not any("extras" in path.read_text() for path in SRC.rglob("*.py"))


def import_graph(package: Path) -> dict[str, set[str]]:
    """Each module of the package and the modules of the same package it imports."""
    modules = {module_name(p): p for p in package.rglob("*.py")}
    return {
        name: {m for m in imported_modules(path.read_text(), name, path.name == "__init__.py") if m in modules} - {name}
        for name, path in modules.items()
    }


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for child in sorted(graph.get(node, ())):
            found = visit(child, path + [node])
            if found:
                return found
        done.add(node)
        return None

    return next((c for c in (visit(n, []) for n in sorted(graph)) if c), None)


def test_the_accounts_package_has_no_import_cycle_and_an_empty_front():
    """accounts/ is a module per concern (owner, keys, passwords, throttling, sessions, users,
    setup) importing one another without cycles; its __init__ re-exports nothing, so every name
    is imported from the module that holds it."""
    graph = import_graph(SRC / "accounts")
    assert {"leadtrail.accounts.passwords", "leadtrail.accounts.throttling", "leadtrail.accounts.users"} <= set(graph)
    assert cycle_in(graph) is None
    front = ast.parse((SRC / "accounts" / "__init__.py").read_text()).body
    assert len(front) == 1 and isinstance(front[0], ast.Expr), "accounts/__init__.py holds only its docstring"


def test_the_cycle_check_finds_a_cycle():
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
