"""The policy contract: one lead, one route, the context → a :class:`~tearline.Decision`."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Protocol, runtime_checkable

from tearline.model import Decision, Lead, ResolvedAgency, Scenario, SimTime, rng

ConsentAnswer = Literal["grant", "refuse"]


@dataclass(frozen=True)
class Route:
    """Who holds the lead and who might receive it."""

    sender: ResolvedAgency
    recipient: ResolvedAgency

    @property
    def domestic(self) -> bool:
        return self.sender.country == self.recipient.country


@dataclass
class Ledger:
    """What the gateway has done so far in this run; policies may read it, never write it."""

    released: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Leads released, per (sender, recipient)."""
    consents: dict[tuple[str, str], ConsentAnswer] = field(default_factory=dict)
    """Consent answers, per (lead id, recipient)."""


@dataclass(frozen=True)
class PolicyContext:
    """Everything a policy may consult besides the lead and the route."""

    scenario: Scenario
    agencies: Mapping[str, ResolvedAgency]
    """The agencies taking part in this run, by id."""
    now: SimTime
    seed: int
    ledger: Ledger

    def rng(self, *parts: str) -> random.Random:
        """A random stream fixed by the run seed and ``parts`` (e.g. lead id and recipient)."""
        return rng(self.seed, *parts)

    def members(self, party: str) -> frozenset[str]:
        """Agency ids a party names: an agency id itself, or every agency of a country code."""
        return _members(_Index(self.agencies), party)


class _Index:
    """Hashable by identity of the agencies mapping, so member look-ups are computed once per run."""

    __slots__ = ("agencies",)

    def __init__(self, agencies: Mapping[str, ResolvedAgency]) -> None:
        self.agencies = agencies

    def __hash__(self) -> int:
        return id(self.agencies)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Index) and other.agencies is self.agencies


@lru_cache(maxsize=4096)
def _members(index: _Index, party: str) -> frozenset[str]:
    agencies = index.agencies
    if party in agencies:
        return frozenset({party})
    return frozenset(a.id for a in agencies.values() if a.country == party)


@runtime_checkable
class Policy(Protocol):
    """A sharing rule. ``decide`` must be a pure function of its arguments (determinism)."""

    name: str
    summary: str
    """One line for ``tearline policies list``."""

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        """Release, withhold or consult, with the rule that fired and why."""
        ...

    def enables(self, scenario: Scenario) -> frozenset[str]:
        """Counterfactual agencies this policy switches on (e.g. a joint centre's new members)."""
        ...


class BasePolicy:
    """Convenience base: no counterfactual agencies, name and summary from the class."""

    name: str = ""
    summary: str = ""

    def enables(self, scenario: Scenario) -> frozenset[str]:
        return frozenset()

    def __repr__(self) -> str:
        return f"<policy {self.name}>"
