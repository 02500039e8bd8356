"""Where scenarios and seeds live: the working directory's own, then those shipped with Tearline.

The bundled scenarios and seeds are package data (``tearline/scenarios``, ``tearline/seeds``), found
through :mod:`importlib.resources`, so an install outside the checkout has them too. A user's own
scenarios sit in a ``scenarios/`` folder at or above the working directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ._errors import Problem, ScenarioError


def _packaged(name: str) -> Path | None:
    """A folder shipped inside the installed ``tearline`` package (installed as files, never zipped)."""
    folder = Path(str(resources.files("tearline").joinpath(name)))
    return folder if folder.is_dir() else None


def packaged_scenarios() -> Path | None:
    """The scenarios shipped with Tearline."""
    return _packaged("scenarios")


def packaged_seeds() -> Path | None:
    """The seeds digest shipped with Tearline (what the bundled scenarios cite)."""
    return _packaged("seeds")


def scenario_dirs() -> list[Path]:
    """Folders to look in: the nearest ``scenarios/`` at or above the working directory, then the bundled."""
    found: list[Path] = []
    for parent in (Path.cwd(), *Path.cwd().parents):
        if (parent / "scenarios").is_dir():
            found.append(parent / "scenarios")
            break
    bundled = packaged_scenarios()
    if bundled is not None and all(bundled.resolve() != f.resolve() for f in found):
        found.append(bundled)
    return found


def scenario_files() -> list[Path]:
    """Every scenario YAML file Tearline can find, one per name (the working directory's first)."""
    seen: dict[str, Path] = {}
    for folder in scenario_dirs():
        for path in sorted(folder.rglob("*.yaml")):
            seen.setdefault(path.stem, path)
    return sorted(seen.values(), key=str)


def resolve_scenario(name_or_path: str) -> Path:
    """A path as given, or a scenario name (``mumbai-2008``) as ``tearline scenarios list`` shows it."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    for candidate in scenario_files():
        if candidate.stem == name_or_path:
            return candidate
    names = ", ".join(p.stem for p in scenario_files()) or "none found"
    raise ScenarioError(
        name_or_path,
        [
            Problem(
                "(file)",
                f"no such file or scenario name (known scenarios: {names}; see: tearline scenarios list)",
            )
        ],
    )


def find_seeds_dir(start: Path) -> Path | None:
    """The nearest ``seeds/`` folder holding YAML at or above ``start``."""
    for parent in (start, *start.parents):
        candidate = parent / "seeds"
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    return None


def seeds_for(scenario_file: Path) -> Path | None:
    """Where a scenario's citations resolve: the nearest ``seeds/`` above it, else the bundled seeds."""
    return find_seeds_dir(scenario_file.resolve().parent) or packaged_seeds()
