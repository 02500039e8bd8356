"""YAML input with line numbers, and pydantic errors turned into (field, reason, line)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ._errors import Problem, ScenarioError


class _Loader(yaml.SafeLoader):
    """Safe loader that keeps timestamps as strings, so our own parser sees them."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

M = TypeVar("M", bound=BaseModel)
Locator = Callable[[Sequence[int | str]], int | None]


def field_path(loc: Sequence[int | str]) -> str:
    """``('injects', 3, 'observer')`` → ``injects[3].observer``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def read(path: Path) -> tuple[Any, Locator]:
    """Parse a YAML file; return its data and a function mapping a field path to a line."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ScenarioError(str(path), [Problem("(yaml)", f"not valid YAML: {reason}", line)]) from None

    def locate(loc: Sequence[int | str]) -> int | None:
        current = node
        line = current.start_mark.line + 1 if current is not None else None
        for part in loc:
            if isinstance(current, yaml.MappingNode):
                match = [v for k, v in current.value if getattr(k, "value", None) == part]
                if not match:
                    break
                current = match[0]
            elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(current.value):
                    break
                current = current.value[part]
            else:
                break
            line = current.start_mark.line + 1
        return line

    return data, locate


def problems_from(error: ValidationError, locate: Locator) -> list[Problem]:
    """One Problem per pydantic error, with a message a scenario author can act on."""
    problems = []
    for err in error.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        reason = err["msg"]
        if err["type"] == "extra_forbidden":
            reason = "unknown field (check the spelling; docs/scenarios.md lists the fields)"
        elif err["type"] == "missing":
            reason = "required field is missing"
        elif reason.startswith("Value error, "):
            reason = reason.removeprefix("Value error, ")
        problems.append(Problem(field_path(loc), reason, locate(loc)))
    return problems


def validate(model: type[M], data: Any, path: Path, locate: Locator) -> M:
    """Validate external data strictly (JSON rules: strings for enums, no coercion)."""
    try:
        return model.model_validate_json(json.dumps(data))
    except ValidationError as exc:
        raise ScenarioError(str(path), problems_from(exc, locate)) from None
    except (TypeError, ValueError) as exc:  # data json cannot carry
        raise ScenarioError(str(path), [Problem("(top level)", str(exc))]) from None
