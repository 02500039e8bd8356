"""JSON Schemas generated from the pydantic models: scenario files, policy files and run records.

They ship with the package (``tearline/exchange/schemas/``) and are published in ``docs/schemas/``;
``tearline export schema`` regenerates them, and a test checks the shipped copies are current.
A scenario file names its schema for an editor with a first line such as
``# yaml-language-server: $schema=../docs/schemas/scenario.schema.json``.
"""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from tearline.model import Event, Scenario
from tearline.policies import PolicyDoc

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _scenario() -> dict[str, Any]:
    return Scenario.model_json_schema(by_alias=True, mode="validation")


def _policy() -> dict[str, Any]:
    return PolicyDoc.model_json_schema(by_alias=True, mode="validation")


def _record_event() -> dict[str, Any]:
    return TypeAdapter(Event).json_schema(by_alias=True, mode="serialization")


_BUILDERS = {
    "scenario": (_scenario, "Tearline scenario file", "One scenario: agencies, plots and injects."),
    "policy": (_policy, "Tearline policy file", "A sharing policy as data: a rule set or a composition."),
    "record-event": (
        _record_event,
        "Tearline run record event",
        "One line of a run's record.jsonl: inject, publish, decision, consent, delivery, triage, case, "
        "action or outcome.",
    ),
}
SCHEMA_NAMES: tuple[str, ...] = tuple(sorted(_BUILDERS))


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``name`` (one of :data:`SCHEMA_NAMES`), generated from the models now."""
    build, title, description = _BUILDERS[name]
    schema = build()
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{name}.schema.json",
        **schema,
        "title": title,
        "description": description,
    }


def schema_text(name: str) -> str:
    """The schema as the shipped file holds it: sorted keys, two-space indent, final newline."""
    return json.dumps(json_schema(name), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(out: Path) -> list[Path]:
    """Write every schema into ``out`` as ``NAME.schema.json``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMA_NAMES:
        path = out / f"{name}.schema.json"
        path.write_text(schema_text(name), encoding="utf-8")
        written.append(path)
    return written


def shipped_schema(name: str) -> dict[str, Any]:
    """The schema shipped inside the package (what an installed Tearline publishes)."""
    text = files("tearline.exchange").joinpath("schemas", f"{name}.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
