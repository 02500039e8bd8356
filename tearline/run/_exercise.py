"""A live tabletop exercise: step the clock, inject, look at each agency's view, debrief.

Runs in-process. Every inject a facilitator adds is part of the record, and is written next to it
(``facilitator-injects.yaml``) so the exercise can be replayed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from tearline.agencies import AgencyService
from tearline.broker import MemoryTransport, Service
from tearline.model import Event, Inject, RunConfig, RunError, SimTime, record_order

from ._driver import Driver, Run, RunResult


@dataclass(frozen=True)
class CaseView:
    case: str
    leads: tuple[str, ...]
    facets: tuple[str, ...]
    score: float
    actionable: bool


@dataclass(frozen=True)
class AgencyView:
    agency: str
    holdings: int
    waiting: int
    cases: tuple[CaseView, ...]


class Exercise:
    """One exercise: a run whose clock the facilitator drives."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.run = Run(config)
        self.transport = MemoryTransport()
        self.added: list[Inject] = []
        self._seen = 0
        self._driver: Driver | None = None
        self._services: list[Service] = []

    async def start(self) -> None:
        await self.run.create_topics(self.transport)
        self.world = self.run.world(self.transport)
        self.agencies = {a: self.run.agency(a, self.transport) for a in sorted(self.run.agencies)}
        others: list[Service] = [self.run.gateway(self.transport), *self.agencies.values()]
        self._services = [self.world, *others]
        for s in self._services:
            await s.open()
        self._driver = self.run.driver(self.world, others)

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            raise RunError("the exercise has not started")
        return self._driver

    @property
    def clock(self) -> SimTime:
        """Where the exercise stands: the start of the next window (or the horizon when done)."""
        return self.driver.peek() or self.run.scenario.horizon

    async def step(self, windows: int = 1) -> None:
        await self.driver.run(windows=windows)

    async def advance_to(self, until: SimTime) -> None:
        while (t := self.driver.peek()) is not None and t < until:
            await self.driver.step()

    def inject(self, inject: Inject) -> None:
        if inject.observer not in self.agencies:
            raise RunError(
                f"no agency {inject.observer!r} in this exercise (agencies: {', '.join(self.agencies)})"
            )
        self.world.add(inject)
        self.driver.wake(inject.at)
        self.added.append(inject)

    def view(self, agency_id: str) -> AgencyView:
        """What one agency knows right now: its cases, and what waits in its triage queue."""
        service = self.agencies.get(agency_id)
        if service is None:
            raise RunError(f"no agency {agency_id!r} in this exercise (agencies: {', '.join(self.agencies)})")
        return _view(service, self.clock)

    async def events(self) -> tuple[list[Event], int]:
        """Every event so far, in canonical order, and how many the previous call returned."""
        events = sorted(await self.run.collect(self.transport), key=record_order)
        seen, self._seen = self._seen, len(events)
        return events, seen

    async def debrief(self, out: Path | None = None) -> RunResult:
        """Play out the rest of the run, judge it, and (optionally) write record, summary and injects."""
        await self.driver.run()
        events = await self.run.collect(self.transport)
        result = self.run.finish(
            events,
            transport_name=self.transport.name,
            dead_letters=sum(s.dead_letters for s in self._services),
        )
        if out is not None:
            result.write(out)
            (out / "facilitator-injects.yaml").write_text(
                yaml.safe_dump(
                    [i.model_dump(mode="json", by_alias=True) for i in self.added], sort_keys=False
                )
            )
        return result


def _view(service: AgencyService, now: SimTime) -> AgencyView:
    cases = []
    for case in service.cases.cases():
        facets = case.facets(now)
        score = case.score()
        a = service.agency
        cases.append(
            CaseView(
                case.id,
                tuple(sorted(case.leads)),
                facets,
                score,
                set(a.act_on) <= set(facets) and score >= a.act_threshold,
            )
        )
    return AgencyView(service.agency.id, sum(len(c.leads) for c in cases), service.waiting, tuple(cases))
