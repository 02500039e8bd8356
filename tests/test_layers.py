"""The layout's rules, checked on the source: layers import only downward, packages meet only through
their public ``__init__``, no module imports itself round a circle, and every ``__all__`` is sorted.

The layers, from the ground floor up (``docs/architecture.md`` says what each owns)::

    model → policies → broker → agencies → report → run → research | exchange | console → cli

Packages on the same floor (research, exchange, console) may not import each other. The package's
own ``tearline/__init__.py`` is the facade on top and may import any of them.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "tearline"
LAYERS: dict[str, int] = {
    "model": 0,
    "policies": 1,
    "broker": 2,
    "agencies": 3,
    "report": 4,
    "run": 5,
    "research": 6,
    "exchange": 6,
    "console": 6,
    "cli": 7,
}


def modules() -> Iterator[tuple[str, Path]]:
    """Every module under tearline/ (following the symlinked broker/, agencies/, policies/)."""
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = ["tearline", *rel.parts]
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def imports(name: str, path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import of a tearline module in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top_level = {id(n) for n in tree.body} | {
        id(n) for node in tree.body if isinstance(node, ast.If) for n in node.body
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            targets = [target]
            if node.module is None:  # from . import _x: each name is a submodule
                targets = [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        for t in targets:
            if t == "tearline" or t.startswith("tearline."):
                yield t, node.lineno, id(node) in top_level


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def isort_key(name: str) -> tuple[int, str]:
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


ALL = dict(modules())


class TestLayers:
    def test_every_package_has_a_floor(self) -> None:
        """A new package under tearline/ must be given its place in the layers (here and in the docs)."""
        packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
        assert packages <= set(LAYERS), f"place these in LAYERS: {sorted(packages - set(LAYERS))}"

    @pytest.mark.parametrize("module", sorted(m for m in ALL if package_of(m)))
    def test_imports_run_only_downward(self, module: str) -> None:
        """A module imports its own package, or packages on a lower floor, through their __init__."""
        mine = package_of(module)
        assert mine is not None
        for target, line, _ in imports(module, ALL[module]):
            theirs = package_of(target)
            where = f"{ALL[module].relative_to(ROOT.parent)}:{line} imports {target}"
            assert theirs is not None, f"{where}: import a package, not the tearline facade"
            if theirs == mine:
                continue
            assert LAYERS[theirs] < LAYERS[mine], f"{where}: {theirs} is not below {mine}"
            private = [p for p in target.split(".")[2:] if p.startswith("_")]
            assert not private, f"{where}: use tearline.{theirs}'s public names, not its private modules"

    def test_no_import_circles(self) -> None:
        """Following every module-level import never leads back to where it started."""
        graph: dict[str, set[str]] = {m: set() for m in ALL}
        for m, path in ALL.items():
            for target, _, top in imports(m, path):
                while target and target not in ALL:
                    target = target.rpartition(".")[0]
                if top and target and target != m:
                    graph[m].add(target)
                    parent = target.rpartition(".")[0]
                    if parent in ALL and parent != m and not m.startswith(parent + "."):
                        graph[m].add(parent)  # importing a.b.c runs a/b/__init__ first
        seen: dict[str, int] = {}
        stack: list[str] = []

        def visit(m: str) -> None:
            seen[m] = 1
            stack.append(m)
            for t in sorted(graph[m]):
                if seen.get(t) == 1 and t != "tearline":
                    cycle = [*stack[stack.index(t) :], t]
                    raise AssertionError("import circle: " + " → ".join(cycle))
                if t not in seen:
                    visit(t)
            stack.pop()
            seen[m] = 2

        for m in sorted(graph):
            if m not in seen:
                visit(m)


class TestPublicNames:
    @pytest.mark.parametrize(
        "package", ["tearline", *(f"tearline.{p}" for p in LAYERS if (ROOT / p).exists())]
    )
    def test_all_is_sorted_and_importable(self, package: str) -> None:
        """Each package's __all__ is sorted (constants, then classes, then functions, as ruff's RUF022
        sorts), without repeats, and every name in it exists."""
        mod = importlib.import_module(package)
        names = list(mod.__all__)
        assert names == sorted(names, key=isort_key) and len(names) == len(set(names))
        missing = [n for n in names if not hasattr(mod, n)]
        assert not missing
