"""Tearline's exceptions, one tree: every exception class Tearline raises on purpose, and where it lives.

::

    TearlineError            tearline.model   base class; the CLI turns any of them into one message
    ├── ScenarioError        tearline.model   a scenario, seeds digest or --seeds folder is malformed or
    │                                         missing (file, line, field, reason per Problem); exit 2
    ├── PolicyError          tearline.model   a policy name, option or policy file (YAML rules or
    │                                         composition, read by tearline.policies) is unknown or
    │                                         malformed; exit 2
    ├── TransportError       tearline.model   the message transport failed (``retriable`` says if a retry helps)
    │   ├── TransportClosed  tearline.model   a transport or consumer used after close()
    │   └── KafkaSetupError  tearline.broker  no Kafka broker named (--bootstrap / $TEARLINE_KAFKA_BOOTSTRAP); exit 2
    ├── RunError             tearline.model   a run could not proceed (e.g. a service never caught up)
    └── RunDirError          tearline.report  a run directory cannot be read (no record.jsonl, bad line)
        └── ExplainError     tearline.report  a lead cannot be explained from a run directory

Not in the tree, because it never leaves its package: ``Rejected`` (tearline.broker), the internal
signal that sends a message to the dead-letter topic with its reason.
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
