"""Tearline's exceptions, one tree.

::

    TearlineError
    ├── ScenarioError        a scenario file is malformed (file, field, reason)
    ├── PolicyError          a policy name, option or file is unknown or malformed
    ├── TransportError       the message transport failed
    │   └── TransportClosed  used after close()
    └── RunError             a run could not proceed (e.g. a service never caught up)
"""

from __future__ import annotations

from dataclasses import dataclass, field


class TearlineError(Exception):
    """Base class of every error Tearline raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where, and why."""

    field: str
    reason: str
    line: int | None = None

    def render(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line is not None else file
        return f"{where}: {self.field}: {self.reason}"


@dataclass
class ScenarioError(TearlineError):
    """A scenario (or seed digest) file is malformed. Carries every problem found."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(p.render(self.file) for p in self.problems)


class PolicyError(TearlineError):
    """A policy name, option or policy file is unknown or malformed."""


class TransportError(TearlineError):
    """The transport failed. ``retriable`` says whether trying again may help."""

    retriable: bool = False

    def __init__(self, message: str, *, retriable: bool = False) -> None:
        super().__init__(message)
        self.retriable = retriable


class TransportClosed(TransportError):
    """The transport or consumer was used after it was closed."""


class RunError(TearlineError):
    """A run could not proceed."""
