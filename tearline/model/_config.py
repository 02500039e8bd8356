"""A run's configuration: everything that determines its record."""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Annotated, Any

from pydantic import Field

from ._base import Model
from ._scenario import Inject, Scenario

NOISE_SCALE_MAX = 100.0
"""Largest multiplier on a scenario's background noise a run accepts."""


class RunConfig(Model):
    """Scenario, policy, seed and options. Same config → byte-identical record, on any transport."""

    scenario: Scenario
    policy: str
    """A built-in or plugin policy name, optionally with options: ``fusion-centre:centre=joint``."""
    policy_data: dict[str, Any] | None = None
    """A policy written as data (the parsed YAML of a policy file), when ``policy`` names one."""
    seed: int = 1
    exclude_disputed: bool = False
    enable: tuple[str, ...] = ()
    """Counterfactual agencies switched on for this run (besides those the policy enables)."""
    noise_scale: Annotated[float, Field(ge=0, le=NOISE_SCALE_MAX)] = 1.0
    """Multiplier on the scenario's background noise (1.0 = as written)."""

    @cached_property
    def run_id(self) -> str:
        return hashlib.sha256(self.model_dump_json(by_alias=True).encode()).hexdigest()[:16]

    def injects(self) -> tuple[Inject, ...]:
        """The injects this run plays: all, or all but the disputed ones."""
        return tuple(i for i in self.scenario.injects if not (self.exclude_disputed and i.disputed))
