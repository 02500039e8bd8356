"""Registries: hit-based databases such as the Schengen Information System.

A registry holds entries (an identifier, who entered it, with or without a terrorism marker) and
answers checks: when an agency that is a member observes an inject that checks the registry (a
border or roadside check), every entry on one of the lead's identifiers, entered by then, is a hit.
The checker receives the entry as its own lead at once (what its screen shows); the entry's owner
receives a hit report — who was checked, by whom, with whom and what was seen — ``report_delay``
later, as its own observation. An entry without a terrorism marker reads as routine: its lead
carries no intent, only that an entry exists. The registry is the world's, like the latent pool:
agencies see only what a check returns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from tearline.model import (
    Grading,
    Indicator,
    Inject,
    Lead,
    Marking,
    Observation,
    RegistryEntry,
    RegistryEvent,
    ResolvedAgency,
    RunConfig,
    SimTime,
    Source,
)


class _World(Protocol):
    now: SimTime

    def at(self, when: SimTime, callback: Callable[[], None]) -> None: ...

    def record(self, event_type: Any, **fields: Any) -> None: ...

    def observe(self, obs: Observation) -> None: ...


class Registries:
    """The world's registries: entries recorded at their time, checks answered when injects check them."""

    def __init__(self, world: _World, config: RunConfig, agencies: dict[str, ResolvedAgency]) -> None:
        self.world = world
        self.config = config
        self.agencies = agencies
        scenario = config.scenario
        for reg in scenario.registries:
            for entry in reg.entries:
                world.at(
                    max(entry.at, scenario.start),
                    lambda reg_id=reg.id, entry=entry: self._entered(reg_id, entry),  # type: ignore[misc]
                )
        for inject in config.injects():
            if inject.checks and inject.observer in agencies:
                world.at(inject.at, lambda inject=inject: self.check(inject))  # type: ignore[misc]

    def _entered(self, registry: str, entry: RegistryEntry) -> None:
        self.world.record(
            RegistryEvent,
            registry=registry,
            step="entered",
            identifier=entry.identifier.key,
            owner=entry.owner,
            terrorism=entry.terrorism,
        )

    def check(self, inject: Inject) -> None:
        """The observer checks the inject's identifiers against each registry it names."""
        now = self.world.now
        checked = self.config.scenario.lead_of(inject)
        keys = {i.key for i in checked.identifiers}
        for reg in self.config.scenario.registries:
            if reg.id not in inject.checks:
                continue
            for n, entry in enumerate(reg.entries):
                if entry.at > now or entry.identifier.key not in keys:
                    continue
                hit = self._entry_lead(reg.id, reg.name, entry, inject, n, now)
                self.world.record(
                    RegistryEvent,
                    registry=reg.id,
                    step="hit",
                    identifier=entry.identifier.key,
                    owner=entry.owner,
                    terrorism=entry.terrorism,
                    agency=inject.observer,
                    inject=inject.id,
                    lead=hit.id,
                )
                self.world.observe(Observation(lead=hit, inject=hit.id, what=hit.summary))
                if entry.owner in self.agencies and entry.owner != inject.observer:
                    report = self._report(reg.id, reg.name, entry, inject, checked, n, now + reg.report_delay)
                    self.world.at(
                        now + reg.report_delay,
                        lambda reg_id=reg.id, entry=entry, report=report: self._reported(
                            reg_id, entry, report
                        ),  # type: ignore[misc]
                    )

    def _reported(self, registry: str, entry: RegistryEntry, report: Lead) -> None:
        self.world.record(
            RegistryEvent,
            registry=registry,
            step="reported",
            identifier=entry.identifier.key,
            owner=entry.owner,
            terrorism=entry.terrorism,
            lead=report.id,
        )
        self.world.observe(Observation(lead=report, inject=report.id, what=report.summary))

    @staticmethod
    def _entry_lead(
        registry: str, name: str, entry: RegistryEntry, inject: Inject, n: int, at: SimTime
    ) -> Lead:
        """What the checker's screen shows: the entry, and whether it flags terrorism."""
        flag = "flags a terrorism link" if entry.terrorism else "carries no terrorism marker"
        what = f"{name} entry by {entry.owner} on {entry.identifier.value} ({flag}): {entry.what}"
        return Lead(
            id=f"{registry}-hit-{inject.id}-{n}",
            origin=inject.observer,
            observed_at=at,
            identifiers=(entry.identifier,),
            indicators=(Indicator(kind="intent" if entry.terrorism else "travel", detail=what[:300]),),
            marking=Marking(level="RESTRICTED"),
            grading=Grading(reliability="B", credibility=2 if entry.terrorism else 4),
            source=Source(type="LIAISON", sensitivity="low", method=f"{name} entry"),
            summary=what[:300],
            detail=what,
            cites=entry.cites,
        )

    @staticmethod
    def _report(
        registry: str, name: str, entry: RegistryEntry, inject: Inject, checked: Lead, n: int, at: SimTime
    ) -> Lead:
        """The hit report to the entry's owner: who was checked, with whom, and what the checker saw."""
        what = f"{name} hit report: {inject.observer} checked {entry.identifier.value}: {inject.what}"
        return Lead(
            id=f"{registry}-report-{inject.id}-{n}",
            origin=entry.owner,
            observed_at=at,
            identifiers=checked.identifiers,
            indicators=checked.indicators,
            marking=Marking(level="RESTRICTED"),
            grading=Grading(reliability="A", credibility=2),
            source=Source(type="LIAISON", sensitivity="low", method=f"{name} hit report"),
            summary=what[:300],
            detail=what,
            cites=tuple(sorted({*inject.cites, *entry.cites})),
        )
