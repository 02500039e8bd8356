"""Running scenarios: the driver and the world, the live exercise, the distributed clock, and the
batches of replays behind ``check`` and ``compare``."""

from ._check import CaseResult, check_scenarios, write_junit
from ._clock import drive, scoped_replay, serve
from ._compare import compare_policies, plot_comparison, write_csv
from ._driver import Driver, Run, RunResult, replay
from ._exercise import Exercise
from ._world import WORLD, World

__all__ = [
    "WORLD",
    "CaseResult",
    "Driver",
    "Exercise",
    "Run",
    "RunResult",
    "World",
    "check_scenarios",
    "compare_policies",
    "drive",
    "plot_comparison",
    "replay",
    "scoped_replay",
    "serve",
    "write_csv",
    "write_junit",
]
