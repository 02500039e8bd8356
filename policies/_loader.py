"""From a YAML policy file (or parsed policy data) to a policy, with every problem located.

One path for every reader: the project's YAML reader (:func:`tearline.model.read`, which gives
line numbers), the schema, the lint checks, then the compiler. ``tearline policies lint``,
``tearline run --policy FILE.yaml`` and :func:`~tearline.policies.load_policy` all come here, so
a problem reads the same everywhere: ``file:line: field: problem``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tearline.model import Locator, Problem, Scenario, ScenarioError, field_path, read

from ._base import Policy
from ._compile import Resolve, compile_doc
from ._lint import LintReport, against, check_doc
from ._schema import Loc, PolicyDoc

_SHAPE = "a policy file is a mapping with policy:, and rules: or members:"
_UNION_TAGS = {"spec", "use", "doc", "tuple[str, ...]", "LevelRange"}
"""Parts pydantic adds to an error's location inside a union; not fields of the file."""


def _jsonable(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot read {type(value).__name__} in a policy file")


def _problems(error: ValidationError, locate: Locator | None) -> list[Problem]:
    out = []
    for err in error.errors(include_url=False):
        loc = tuple(
            p
            for p in err["loc"]
            if not (isinstance(p, str) and (p.startswith("function-") or p in _UNION_TAGS))
        )
        reason = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            reason = "unknown field (check the spelling; docs/policies.md lists the fields)"
        elif err["type"] == "missing":
            reason = "required field is missing"
        elif isinstance(err.get("input"), bool) and "string" in err["type"]:
            reason += " — YAML read this as true/false: quote it (e.g. 'NO' for Norway, 'ON')"
        out.append(Problem(field_path(loc), reason, locate(loc) if locate else None))
    return sorted(set(out), key=lambda p: (p.line or 0, p.field))


def check(data: object, source: str, resolve: Resolve, locate: Locator | None = None) -> LintReport:
    """Validate, lint and compile parsed policy data; never raises for a bad document."""

    def at(loc: Loc, reason: str) -> Problem:
        return Problem(field_path(loc), reason, locate(loc) if locate else None)

    if not isinstance(data, Mapping):
        return LintReport(source, [at((), _SHAPE)], [])
    try:
        doc = PolicyDoc.model_validate_json(json.dumps(data, default=_jsonable))
    except ValidationError as exc:
        return LintReport(source, _problems(exc, locate), [])
    except TypeError as exc:
        return LintReport(source, [at((), str(exc))], [])
    if doc.policy is None:
        name_it = "required field is missing: name the policy (e.g. policy: my-rules)"
        return LintReport(source, [at(("policy",), name_it)], [])
    found = check_doc(doc)
    policy, unbuilt = compile_doc(doc, resolve)
    errors = sorted((at(loc, reason) for loc, reason in [*found.errors, *unbuilt]), key=lambda p: p.line or 0)
    warnings = [at(loc, reason) for loc, reason in found.warnings]
    return LintReport(source, errors, warnings, policy if not errors else None)


def _read(path: Path) -> tuple[Any, Locator] | LintReport:
    """The file's data and locator, or a report of why it cannot be read."""
    if not path.is_file():
        return LintReport(str(path), [Problem("(file)", "no such policy file")], [])
    try:
        return read(path)
    except ScenarioError as exc:
        return LintReport(str(path), list(exc.problems), [])


def lint_file(path: Path, resolve: Resolve, scenario: Scenario | None = None) -> LintReport:
    """Check a policy file: YAML, fields, policy names, groups; with a scenario, its agencies too."""
    got = _read(path)
    if isinstance(got, LintReport):
        return got
    data, locate = got
    report = check(data, str(path), resolve, locate)
    if scenario is not None and isinstance(data, Mapping):
        report.warnings.extend(against(data, scenario, locate))
    return report


def read_file(path: Path, resolve: Resolve) -> tuple[dict[str, Any], Policy]:
    """A policy file's data (as read, for a run's configuration) and the policy it describes.

    Raises :class:`~tearline.model.PolicyError` listing every problem with its line."""
    got = _read(path)
    if isinstance(got, LintReport):
        raise got.error()
    data, locate = got
    report = check(data, str(path), resolve, locate)
    if report.policy is None:
        raise report.error()
    assert isinstance(data, Mapping)  # check() reports anything else
    return dict(data), report.policy


def from_data(data: object, source: str, resolve: Resolve) -> Policy:
    """The policy parsed policy data describes; a :class:`PolicyError` listing every problem if not."""
    report = check(data, source, resolve)
    if report.policy is None:
        raise report.error()
    return report.policy
