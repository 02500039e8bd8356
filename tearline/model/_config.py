"""A run's configuration: everything that determines its record."""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import Field

from ._base import Model
from ._lead import AgencyId
from ._random import rng
from ._scenario import Inject, Scenario

NOISE_SCALE_MAX = 100.0
"""Largest multiplier on a scenario's background noise a run accepts."""


class Override(Model):
    """A counterfactual on one route: release at once, or withhold, whatever the policy decides.

    With ``lead`` it covers that lead (and tearline copies cut from it) from ``sender`` to
    ``recipient``; without, every lead on the channel ``sender`` → ``recipient``."""

    action: Literal["release", "withhold"]
    sender: AgencyId
    recipient: AgencyId
    lead: str | None = None

    def covers(self, lead_id: str, sanitised_from: str | None, sender: str, recipient: str) -> bool:
        if (sender, recipient) != (self.sender, self.recipient):
            return False
        return self.lead is None or self.lead in (lead_id, sanitised_from)

    @property
    def label(self) -> str:
        """``release RAW→IB`` or ``withhold raw-intercept-sep-18 RAW→IB``."""
        what = f" {self.lead}" if self.lead is not None else ""
        return f"{self.action}{what} {self.sender}→{self.recipient}"


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
    overrides: tuple[Override, ...] = ()
    """Counterfactual releases and withholdings on top of the policy (critical-link analysis)."""

    @cached_property
    def run_id(self) -> str:
        # A run without overrides keeps the id (and so the record) it had before overrides existed.
        skip = None if self.overrides else {"overrides"}
        return hashlib.sha256(self.model_dump_json(by_alias=True, exclude=skip).encode()).hexdigest()[:16]

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with ``changes`` (validated, and with its own run id)."""
        return type(self)(**{**{f: getattr(self, f) for f in type(self).model_fields}, **changes})

    def injects(self) -> tuple[Inject, ...]:
        """The injects this run plays: all, or all but the disputed ones; an uncertain inject happens
        with its ``chance`` and at a minute drawn uniformly in its window, from a stream fixed by the
        seed and the inject's id."""
        out = []
        for i in self.scenario.injects:
            if self.exclude_disputed and i.disputed:
                continue
            u = i.uncertain
            if u is not None:
                draw = rng(self.seed, "inject", i.id)
                happens = draw.random() < u.chance
                if u.until is not None:
                    i = i.model_copy(update={"at": i.at + 60 * draw.randint(0, (u.until - i.at) // 60)})
                if not happens:
                    continue
            out.append(i)
        return tuple(out)
