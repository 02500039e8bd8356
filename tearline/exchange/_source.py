"""What an export reads: a scenario, or a run directory (its record, and the scenario it replayed)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tearline.model import Event, Scenario, load_scenario, resolve_scenario
from tearline.report import RunDirError, read_record


@dataclass(frozen=True)
class Source:
    """A scenario, with a run's events and run id when it came from a run directory."""

    scenario: Scenario
    events: list[Event] | None = None
    run_id: str = ""


def load_source(source: str | Path, scenario: str | None = None) -> Source:
    """A run directory (written by ``tearline run ... --out DIR``) or a scenario name or file.

    For a run directory the scenario is the one its ``summary.json`` names, unless ``scenario`` is
    given. Raises RunDirError or ScenarioError with what to do.
    """
    path = Path(source)
    if not path.is_dir():
        return Source(load_scenario(resolve_scenario(scenario or str(source))))
    summary: dict[str, Any] = {}
    if (path / "summary.json").is_file():
        try:
            loaded = json.loads((path / "summary.json").read_text(encoding="utf-8"))
            summary = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            summary = {}
    events = read_record(path)
    name = scenario or summary.get("scenario")
    if not name:
        raise RunDirError(f"{path} does not say which scenario it replayed", "Name it: --scenario NAME")
    return Source(load_scenario(resolve_scenario(str(name))), events, str(summary.get("run_id", path.name)))
