"""Tearline: replay terrorist plots and ask whether sharing under rule X connects the dots in time.

The public API: the domain model (leads, agencies, scenarios, decisions, record events), scenario
loading, and :func:`replay`, which runs a scenario on a transport and returns its record.
"""

from typing import TYPE_CHECKING, Any

from ._config import RunConfig
from ._decision import Decision, SisAlert, Tearline, Transform, apply_transforms
from ._errors import (
    PolicyError,
    Problem,
    RunError,
    ScenarioError,
    TearlineError,
    TransportClosed,
    TransportError,
)
from ._facts import Fact, load_facts
from ._judge import Summary
from ._lead import (
    Caveats,
    Contribution,
    Grading,
    Hop,
    Identifier,
    Indicator,
    Lead,
    Marking,
    Source,
    Window,
)
from ._record import Event, canonical, digest
from ._scenario import Agency, Inject, Plot, ResolvedAgency, Scenario, load_scenario

if TYPE_CHECKING:
    from ._run import Run, RunResult, replay


def __getattr__(name: str) -> Any:
    # The run machinery imports the broker, agencies and policies, which import this package's
    # model: load it on first use so that ``import policies`` (or broker) first works too.
    if name in {"Run", "RunResult", "replay"}:
        from . import _run

        return getattr(_run, name)
    raise AttributeError(f"module 'tearline' has no attribute {name!r}")


__all__ = [
    "Agency",
    "Caveats",
    "Contribution",
    "Decision",
    "Event",
    "Fact",
    "Grading",
    "Hop",
    "Identifier",
    "Indicator",
    "Inject",
    "Lead",
    "Marking",
    "Plot",
    "PolicyError",
    "Problem",
    "ResolvedAgency",
    "Run",
    "RunConfig",
    "RunError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SisAlert",
    "Source",
    "Summary",
    "Tearline",
    "TearlineError",
    "Transform",
    "TransportClosed",
    "TransportError",
    "Window",
    "apply_transforms",
    "canonical",
    "digest",
    "load_facts",
    "load_scenario",
    "replay",
]
