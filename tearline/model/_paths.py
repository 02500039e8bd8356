"""Where scenarios and seeds live: the current project, or the one Tearline was installed from."""

from __future__ import annotations

from pathlib import Path

from ._errors import Problem, ScenarioError

_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def roots() -> list[Path]:
    """Project roots to look in: the working directory (and its parents), then the install's source tree."""
    found: list[Path] = []
    for parent in (Path.cwd(), *Path.cwd().parents):
        if (parent / "scenarios").is_dir():
            found.append(parent)
            break
    if (_SOURCE_ROOT / "scenarios").is_dir() and _SOURCE_ROOT not in found:
        found.append(_SOURCE_ROOT)
    return found


def scenario_files() -> list[Path]:
    """Every scenario YAML file under the known ``scenarios/`` folders."""
    seen: dict[str, Path] = {}
    for root in roots():
        for path in sorted((root / "scenarios").rglob("*.yaml")):
            seen.setdefault(path.stem, path)
    return sorted(seen.values(), key=lambda p: (p.parent != p.parents[0], str(p)))


def resolve_scenario(name_or_path: str) -> Path:
    """A path as given, or a scenario name (``mumbai-2008``) found under ``scenarios/``."""
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
