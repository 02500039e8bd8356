"""The policies package's own imports: no circle between its modules, no import inside a function."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "policies"
DOTTED = "tearline.policies"


def sibling_imports(tree: ast.Module, modules: frozenset[str]) -> set[str]:
    """The package's modules a module's source imports (relative, or as ``tearline.policies.x``)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 1 or base == DOTTED or base.startswith(f"{DOTTED}."):
                inside = base.removeprefix(DOTTED).lstrip(".") if node.level == 0 else base
                if inside:
                    found.add(inside.split(".")[0])
                else:  # from . import x: x is a module, or a name from __init__
                    found.update(a.name if a.name in modules else "__init__" for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(f"{DOTTED}."):
                    found.add(a.name.removeprefix(f"{DOTTED}.").split(".")[0])
    return found & (modules | {"__init__"})


def imports_in_functions(tree: ast.Module) -> list[int]:
    """Lines of imports inside a function body (or a lambda)."""
    lines = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            lines.extend(n.lineno for n in ast.walk(fn) if isinstance(n, ast.Import | ast.ImportFrom))
    return sorted(set(lines))


def circle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One import circle (its modules in order, the first repeated at the end), or None."""
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = "open"
        path.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == "open":
                return [*path[path.index(n) :], n]
            if n not in state and (found := visit(n)):
                return found
        state[m] = "done"
        path.pop()
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def parse_package(sources: Mapping[str, str]) -> tuple[dict[str, set[str]], dict[str, list[int]]]:
    """The import graph of a package given as {module name: source}, and imports inside functions."""
    trees = {name: ast.parse(src) for name, src in sources.items()}
    modules = frozenset(trees)
    graph = {name: sibling_imports(t, modules) - {name} for name, t in trees.items()}
    return graph, {name: lines for name, t in trees.items() if (lines := imports_in_functions(t))}


def package_sources() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(PACKAGE.glob("*.py"))}


class TestThePoliciesPackage:
    def test_it_is_the_package_we_mean(self) -> None:
        """The walk sees the policy modules, and the edges the registry is known to have."""
        graph, _ = parse_package(package_sources())
        assert {"__init__", "_registry", "_compose", "_loader", "tearline_copy"} <= set(graph)
        assert {"_compose", "_loader", "tearline_copy"} <= graph["_registry"]

    def test_no_import_circle(self) -> None:
        """No module of policies/ imports, directly or through others, a module that imports it."""
        graph, _ = parse_package(package_sources())
        assert circle(graph) is None, " → ".join(circle(graph) or [])

    def test_no_import_inside_a_function(self) -> None:
        """Every import of policies/ is at module level: none hidden in a function to dodge a circle."""
        _, inside = parse_package(package_sources())
        assert inside == {}


class TestTheChecks:
    """The checks above find what they look for, on small made-up packages."""

    def test_a_circle_through_a_third_module_is_found(self) -> None:
        graph, _ = parse_package(
            {
                "a": "from .b import x\n",
                "b": "from tearline.policies import c\nx = 1\n",
                "c": "from tearline.policies.a import y\n",
                "d": "from . import a\n",
            }
        )
        assert circle(graph) == ["a", "b", "c", "a"]

    def test_a_tree_has_no_circle(self) -> None:
        graph, _ = parse_package({"a": "from . import b, c\n", "b": "from .c import x\n", "c": "import os\n"})
        assert graph == {"a": {"b", "c"}, "b": {"c"}, "c": set()}
        assert circle(graph) is None

    @pytest.mark.parametrize(
        "body",
        ["def f():\n    from .b import x\n", "class K:\n    def m(self):\n        import json\n"],
        ids=["function", "method"],
    )
    def test_an_import_in_a_function_is_found(self, body: str) -> None:
        _, inside = parse_package({"a": textwrap.dedent(body), "b": "x = 1\n"})
        assert list(inside) == ["a"]
