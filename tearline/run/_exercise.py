"""A live tabletop exercise: step the clock, inject, decide at the agencies' desks, rewind, debrief.

Runs in-process, on the same services as any run. Everything people do during an exercise is a
*move* stamped with the exercise clock at which it was made: a facilitator's inject or note, a
change of policy, a player's decision at an agency's desk. The state of an exercise is a function
of its configuration and its moves, so rewinding is replaying the moves made before a time, and
the moves saved next to the record (``exercise.yaml``) replay the exercise byte for byte.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field

from tearline.agencies import AgencyService
from tearline.broker import Gateway, MemoryTransport, Service, Transport
from tearline.model import (
    DAY,
    DeskDecision,
    DeskEvent,
    Event,
    Inject,
    Lead,
    Model,
    PolicyChange,
    RunConfig,
    RunError,
    SimTime,
    Time,
    human_duration,
    read,
    record_order,
    validate,
)
from tearline.policies import load_policy

from ._driver import Driver, Run, RunResult


class InjectMove(Model):
    """The facilitator adds an inject (observed at its own time, or now if that has passed)."""

    kind: Literal["inject"] = "inject"
    clock: Time
    inject: Inject


class NoteMove(Model):
    """The facilitator writes a note into the record."""

    kind: Literal["note"] = "note"
    clock: Time
    text: str


class PolicyMove(Model):
    """The facilitator changes the sharing policy from now on."""

    kind: Literal["policy"] = "policy"
    clock: Time
    policy: str


class DeskMove(Model):
    """A player decides at an agency's desk: release, withhold or request a lead."""

    kind: Literal["desk"] = "desk"
    clock: Time
    decision: DeskDecision


Move = Annotated[InjectMove | NoteMove | PolicyMove | DeskMove, Field(discriminator="kind")]


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


@dataclass(frozen=True)
class Holding:
    """One lead an agency holds, as its people see it."""

    lead: Lead
    source: str
    """Who it came from: the agency itself for its own collection, else the sender."""
    read: bool
    """False while it waits in the triage queue."""
    noise: bool


@dataclass(frozen=True)
class Skip:
    """A quiet period the clock passed over: nothing was due between ``start`` and ``end``."""

    start: SimTime
    end: SimTime

    @property
    def length(self) -> int:
        return self.end - self.start

    def describe(self, local: Any) -> str:
        return f"nothing happens from {local(self.start)} to {local(self.end)} ({human_duration(self.length)} skipped)"


class Exercise:
    """One exercise: a run whose clock the facilitator drives.

    The exercise clock (:attr:`clock`) is where the facilitator stands. Every window of the run
    that starts before it has been run, none at or after it — so a move made at a clock time has
    the same effect whenever it is replayed at that clock time.
    """

    def __init__(self, config: RunConfig, transport: Transport | None = None) -> None:
        """``transport``: a cluster to play on (Kafka), shared with later rewinds; each exercise gets
        topics of its own there (a fresh namespace) and its messages are sealed as between processes.
        Without one, the exercise runs on the in-process transport."""
        self.config = config
        self.shared = transport
        if transport is None:
            self.run = Run(config)
            self.transport: Transport = MemoryTransport()
        else:
            namespace = f"tearline-exercise-{uuid.uuid4().hex[:12]}"
            self.run = Run(config, namespace=namespace, sealed=True)
            self.transport = transport
        self.moves: list[Move] = []
        self.policy = config.policy
        self._seen = 0
        self._driver: Driver | None = None
        self._services: list[Service] = []
        self._clock: SimTime = config.scenario.start

    @classmethod
    async def replay(
        cls,
        config: RunConfig,
        moves: list[Move],
        *,
        until: SimTime | None = None,
        transport: Transport | None = None,
    ) -> Exercise:
        """A new exercise with ``moves`` made again at their clock times (those up to ``until``)."""
        ex = cls(config, transport)
        await ex.start()
        for move in moves:
            if until is not None and move.clock > until:
                break
            await ex.advance_to(move.clock)
            await ex.make(move)
        if until is not None:
            await ex.advance_to(until)
        return ex

    async def start(self) -> None:
        await self.run.create_topics(self.transport)
        if self.shared is not None:
            self.transport.sole_producer = True  # every service of the exercise publishes through it
        self.world = self.run.world(self.transport)
        self.gateway: Gateway = self.run.gateway(self.transport)
        self.agencies = {a: self.run.agency(a, self.transport) for a in sorted(self.run.agencies)}
        others: list[Service] = [self.gateway, *self.agencies.values()]
        self._services = [self.world, *others]
        for s in self._services:
            await s.open()
        self._driver = self.run.driver(self.world, others)

    async def close(self) -> None:
        for s in self._services:
            await s.close()
        self._services = []

    @property
    def driver(self) -> Driver:
        if self._driver is None:
            raise RunError("the exercise has not started")
        return self._driver

    @property
    def clock(self) -> SimTime:
        """Where the exercise stands (the horizon once the run is over)."""
        return min(self._clock, self.run.scenario.horizon) if self.driver.peek() is None else self._clock

    @property
    def over(self) -> bool:
        return self.driver.peek() is None

    def local(self, t: SimTime) -> str:
        return self.run.scenario.local(t)

    # -- the clock -------------------------------------------------------------------------
    async def step(self, windows: int = 1) -> Skip | None:
        """Run the next ``windows`` windows; say so if the clock passed over a quiet period."""
        skip = None
        for _ in range(windows):
            t = self.driver.peek()
            if t is None:
                self._clock = self.run.scenario.horizon
                break
            skip = _longer(skip, self._clock, t)
            await self.driver.step()
            self._clock = self.driver.peek() or self.run.scenario.horizon
        return skip

    async def advance_to(self, until: SimTime) -> Skip | None:
        """Move the clock to ``until``, running every window that starts before it; returns the
        longest quiet period passed over (over a day with nothing due), if any."""
        if until < self._clock:
            raise RunError(
                f"{self.local(until)} is before the exercise clock ({self.local(self._clock)}); rewind instead"
            )
        last, quiet = self._clock, None
        while (t := self.driver.peek()) is not None and t < until:
            quiet = _longer(quiet, last, t)
            await self.driver.step()
            last = t
        self._clock = min(until, self.run.scenario.horizon) if self.driver.peek() is None else until
        return _longer(quiet, last, self._clock)

    def _now(self) -> SimTime:
        """The earliest time a move can take effect: the clock, or later if a service is already past it."""
        return max(self._clock, *(s.now for s in self._services))

    # -- moves -----------------------------------------------------------------------------
    async def make(self, move: Move) -> None:
        """Make one move at the current clock, keep it for replay, and run what it sets off now.

        A move takes effect at once, paused or not: the windows due by the time it takes effect
        are run (the clock itself stays where it is)."""
        move = move.model_copy(update={"clock": self._clock})
        now = self._now()
        if isinstance(move, InjectMove):
            inject = self._checked(move.inject)
            move = move.model_copy(update={"inject": inject})
            self.world.add(inject)
            self.driver.wake(inject.at)
        elif isinstance(move, NoteMove):
            self.world.note(move.text, now)
            self.driver.wake(now)
        elif isinstance(move, PolicyMove):
            load_policy(move.policy)  # an unknown policy is refused here, before anything is sent
            self.world.change_policy(PolicyChange(policy=move.policy, previous=self.policy), now)
            self.policy = move.policy
            self.driver.wake(now)
        else:
            self._check_desk(move.decision)
            self.world.desk(move.decision, now)
            if move.decision.action == "withhold":
                self.world.withhold(move.decision, now)
            self.driver.wake(now)
        self.moves.append(move)
        while (t := self.driver.peek()) is not None and t <= now:
            await self.driver.step()

    async def inject(self, inject: Inject) -> Inject:
        """Add a facilitator's inject; returns it as it will be observed (not before now)."""
        await self.make(InjectMove(clock=self._clock, inject=inject))
        move = self.moves[-1]
        assert isinstance(move, InjectMove)
        return move.inject

    async def note(self, text: str) -> None:
        """A facilitator's note, into the record now."""
        await self.make(NoteMove(clock=self._clock, text=text))

    async def change_policy(self, policy: str) -> None:
        """The gateway decides by ``policy`` from now on."""
        await self.make(PolicyMove(clock=self._clock, policy=policy))

    async def decide(self, decision: DeskDecision) -> None:
        """A player's decision at an agency's desk: it reaches that agency now, which records it."""
        await self.make(DeskMove(clock=self._clock, decision=decision))

    def _check_desk(self, decision: DeskDecision) -> None:
        self._check_agency(decision.agency)
        self._check_agency(decision.counterpart)
        if decision.counterpart == decision.agency:
            raise RunError(f"{decision.agency} cannot {decision.action} a lead to itself")
        held = self.agencies[decision.agency].holdings
        if decision.lead not in held:
            raise RunError(f"{decision.agency} does not hold lead {decision.lead!r}")

    def _checked(self, inject: Inject) -> Inject:
        self._check_agency(inject.observer)
        now = self._now()
        return inject if inject.at >= now else inject.model_copy(update={"at": now})

    def _check_agency(self, agency_id: str) -> None:
        if agency_id not in self.agencies:
            raise RunError(f"no agency {agency_id!r} in this exercise (agencies: {', '.join(self.agencies)})")

    # -- what people see -------------------------------------------------------------------
    def view(self, agency_id: str) -> AgencyView:
        """What one agency knows right now: its cases, and what waits in its triage queue."""
        self._check_agency(agency_id)
        return _view(self.agencies[agency_id], self._now())

    def holdings(self, agency_id: str) -> list[Holding]:
        """Every lead one agency holds (its own and what it received), newest first — nothing else."""
        self._check_agency(agency_id)
        service = self.agencies[agency_id]
        filed = {lead for case in service.cases.cases() for lead in case.leads}
        out = [
            Holding(lead, source, lead.id in filed, lead.id in self.world.noise_ids)
            for lead, source in service.holdings.values()
        ]
        return sorted(out, key=lambda h: (-h.lead.observed_at, h.lead.id))

    async def record(self) -> list[Event]:
        """Every event so far, in canonical order (read from the audit topic)."""
        return sorted(await self.run.collect(self.transport), key=record_order)

    async def events(self) -> tuple[list[Event], int]:
        """Every event so far, in canonical order, and how many the previous call returned."""
        events = sorted(await self.run.collect(self.transport), key=record_order)
        seen, self._seen = self._seen, len(events)
        return events, seen

    async def desk_events(self) -> list[DeskEvent]:
        """The players' decisions so far, as the agencies recorded them."""
        return [e for e in await self.record() if isinstance(e, DeskEvent)]

    # -- rewind and debrief ----------------------------------------------------------------
    async def rewound(self, to: SimTime) -> Exercise:
        """The exercise as it stood at ``to``: a new one, replayed with the moves made by then."""
        if to < self.run.scenario.start:
            raise RunError(
                f"{self.local(to)} is before the scenario starts ({self.local(self.run.scenario.start)})"
            )
        if to > self._clock:
            raise RunError(f"{self.local(to)} is after the exercise clock ({self.local(self._clock)})")
        return await Exercise.replay(self.config, self.moves, until=to, transport=self.shared)

    async def debrief(self, out: Path | None = None) -> RunResult:
        """Play out the rest of the run, judge it, and (optionally) write record, summary and moves."""
        await self.driver.run()
        self._clock = self.run.scenario.horizon
        events = await self.run.collect(self.transport)
        result = self.run.finish(
            events,
            transport_name=self.transport.name,
            dead_letters=sum(s.dead_letters for s in self._services),
        )
        if out is not None:
            result.write(out)
            write_moves(out / "exercise.yaml", self.config, self.moves)
            added = [m.inject for m in self.moves if isinstance(m, InjectMove)]
            (out / "facilitator-injects.yaml").write_text(
                yaml.safe_dump([i.model_dump(mode="json", by_alias=True) for i in added], sort_keys=False)
            )
        return result


def _longer(quiet: Skip | None, start: SimTime, end: SimTime) -> Skip | None:
    if end - start <= DAY or (quiet is not None and quiet.length >= end - start):
        return quiet
    return Skip(start, end)


class ExerciseFile(Model):
    """``exercise.yaml``: what an exercise was played on, and every move made, in order."""

    scenario: str
    policy: str
    seed: int
    exclude_disputed: bool = False
    enable: tuple[str, ...] = ()
    noise_scale: float = 1.0
    moves: tuple[Move, ...] = ()


def write_moves(path: Path, config: RunConfig, moves: list[Move]) -> None:
    """Save an exercise's moves, with what they apply to, so that it can be replayed exactly."""
    saved = ExerciseFile(
        scenario=config.scenario.id,
        policy=config.policy,
        seed=config.seed,
        exclude_disputed=config.exclude_disputed,
        enable=config.enable,
        noise_scale=config.noise_scale,
        moves=tuple(moves),
    )
    path.write_text(
        yaml.safe_dump(saved.model_dump(mode="json", by_alias=True), sort_keys=False, allow_unicode=True)
    )


def read_moves(path: Path) -> list[Move]:
    """The moves saved by :func:`write_moves` (a bad file is a :class:`ScenarioError` naming the line)."""
    data, locate = read(path)
    return list(validate(ExerciseFile, data, path, locate).moves)


def _view(service: AgencyService, now: SimTime) -> AgencyView:
    cases = [
        CaseView(
            case.id,
            tuple(sorted(case.leads)),
            case.facets(now),
            case.score(),
            case.actionable(service.agency, now),
        )
        for case in service.cases.cases()
    ]
    return AgencyView(service.agency.id, sum(len(c.leads) for c in cases), service.waiting, tuple(cases))
