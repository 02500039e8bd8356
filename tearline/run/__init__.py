"""Running scenarios: the driver and the world, the live exercise, the distributed clock, and the
batch of replays behind ``check``."""

from ._check import check_scenarios
from ._clock import drive, scoped_replay, serve
from ._driver import CLOCK, Driver, Run, RunResult, replay
from ._exercise import (
    AgencyView,
    CaseView,
    DeskMove,
    Exercise,
    Holding,
    InjectMove,
    Move,
    NoteMove,
    PolicyMove,
    Skip,
    read_moves,
    write_moves,
)
from ._verify import LiveVerdict, verify_live
from ._world import World

__all__ = [
    "CLOCK",
    "AgencyView",
    "CaseView",
    "DeskMove",
    "Driver",
    "Exercise",
    "Holding",
    "InjectMove",
    "LiveVerdict",
    "Move",
    "NoteMove",
    "PolicyMove",
    "Run",
    "RunResult",
    "Skip",
    "World",
    "check_scenarios",
    "drive",
    "read_moves",
    "replay",
    "scoped_replay",
    "serve",
    "verify_live",
    "write_moves",
]
