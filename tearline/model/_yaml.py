"""YAML input with line numbers, and pydantic errors turned into (field, reason, line).

Every input file goes through :func:`read`, which is bounded: a file larger than :data:`MAX_BYTES`,
nested deeper than :data:`MAX_DEPTH`, or holding more than :data:`MAX_NODES` values once its aliases are
expanded (a "billion laughs" file is a few hundred bytes) is refused with a located problem, as are
invalid UTF-8 and duplicate keys. Nothing in a file can make reading it crash or hang.
"""

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

MAX_BYTES = 4_000_000
"""The largest input file read (the bundled scenarios are under 50 kB)."""
MAX_DEPTH = 64
"""The deepest nesting of mappings and sequences accepted."""
MAX_NODES = 200_000
"""The most values a file may hold, counting each use of an alias in full."""

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


def _text(path: Path) -> str:
    """The file as text, or a located problem: missing, too large, not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(str(path), [Problem("(file)", f"cannot read: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_BYTES:
        raise ScenarioError(
            str(path), [Problem("(file)", f"{len(raw):,} bytes is larger than the {MAX_BYTES:,} accepted")]
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(
            str(path), [Problem("(file)", f"not UTF-8 text (byte {exc.start}: {exc.reason})", line)]
        ) from None


def _check_shape(text: str, path: Path) -> None:
    """Refuse, before anything is built, nesting deeper than MAX_DEPTH (the composer recurses)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else None
                raise ScenarioError(
                    str(path), [Problem("(yaml)", f"nested deeper than {MAX_DEPTH} levels", line)]
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1


def _check_node(node: yaml.Node, path: Path) -> None:
    """Refuse duplicate keys, and more than MAX_NODES values with every alias expanded."""
    sizes: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        # Aliases are the same node object used twice; memoise by identity so a bomb costs nothing
        # to measure, and stop as soon as the total passes the bound.
        if id(n) in sizes:
            return sizes[id(n)]
        total = 1
        if isinstance(n, yaml.MappingNode):
            seen: dict[object, int] = {}
            for k, v in n.value:
                key = getattr(k, "value", None)
                if isinstance(k, yaml.ScalarNode) and key in seen:
                    raise ScenarioError(
                        str(path),
                        [
                            Problem(
                                str(key),
                                f"duplicate key (first on line {seen[key]}); a later value would "
                                "silently replace the earlier one",
                                k.start_mark.line + 1,
                            )
                        ],
                    )
                if isinstance(k, yaml.ScalarNode):
                    seen[key] = k.start_mark.line + 1
                total += size(k) + size(v)
                if total > MAX_NODES:
                    break
        elif isinstance(n, yaml.SequenceNode):
            for v in n.value:
                total += size(v)
                if total > MAX_NODES:
                    break
        sizes[id(n)] = total
        if total > MAX_NODES:
            raise ScenarioError(
                str(path),
                [
                    Problem(
                        "(yaml)",
                        f"more than {MAX_NODES:,} values once aliases are expanded (an alias bomb?)",
                        n.start_mark.line + 1,
                    )
                ],
            )
        return total

    size(node)


def read(path: Path) -> tuple[Any, Locator]:
    """Parse a YAML file; return its data and a function mapping a field path to a line."""
    text = _text(path)
    try:
        _check_shape(text, path)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_node(node, path)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
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
