"""The seeds digest: dated facts in the project's own words, each citing its source."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator

from ._base import Model
from ._errors import Problem, ScenarioError
from ._yaml import read, validate

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2})?([+-]\d{2}:\d{2}|Z))?)?)?$")


def _check_date(value: str | None) -> str | None:
    if value is not None and not _DATE.match(value):
        raise ValueError(
            f"{value!r} is not an ISO 8601 prefix; write YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM+05:30"
        )
    return value


class Fact(Model):
    """One fact: who knew what, when, and where that is on the record."""

    id: Annotated[str, Field(pattern=r"^[a-z]+-[a-z0-9-]+$")]
    date: str
    until: str | None = None
    holder: str
    known: Annotated[str, Field(min_length=10)]
    mattered_to: tuple[str, ...] = ()
    sources: Annotated[tuple[Annotated[str, Field(min_length=3)], ...], Field(min_length=1)]
    disputed: bool = False
    uncertain: bool = False
    note: str = ""

    _dates = field_validator("date", "until")(_check_date)


class Digest(Model):
    """One seeds file: a topic and its facts."""

    topic: str
    facts: tuple[Fact, ...]


def load_facts(seeds_dir: Path) -> dict[str, Fact]:
    """Every fact in ``seeds_dir/*.yaml`` by id. Raises ScenarioError on a malformed file."""
    facts: dict[str, Fact] = {}
    for path in sorted(seeds_dir.glob("*.yaml")):
        data, locate = read(path)
        digest = validate(Digest, data, path, locate)
        for i, fact in enumerate(digest.facts):
            if fact.id in facts:
                raise ScenarioError(
                    str(path),
                    [Problem(f"facts[{i}].id", f"duplicate fact id {fact.id!r}", locate(("facts", i, "id")))],
                )
            facts[fact.id] = fact
    return facts
