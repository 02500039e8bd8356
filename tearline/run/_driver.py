"""The driver: builds a run's services on a transport, advances the clock, collects the record."""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeGuard

import structlog

from tearline.agencies import AgencyService
from tearline.broker import (
    Envelope,
    EventEnvelope,
    Gateway,
    Keystore,
    MemoryTransport,
    Message,
    Rejected,
    Service,
    ServiceSettings,
    Topics,
    Transport,
    drain,
    open_envelope,
)
from tearline.model import (
    GATEWAY,
    WORLD,
    Event,
    ResolvedAgency,
    RunConfig,
    RunError,
    SimTime,
    canonical,
    configure,
    digest,
    iso,
    record_order,
)
from tearline.policies import Policy, load_policy, with_overrides
from tearline.report import AuditSeal, Summary, judge, seal_audit, summarise, write_run

from ._world import World, watchlist

_readers = itertools.count()
_log = structlog.get_logger("tearline")

CLOCK = "CLOCK"
"""The driver's principal: it signs the clock and, with the gateway, the audit chain."""


class Participant(Protocol):
    """Anything the driver can step: a local service, or a handle on one in another process."""

    name: str

    async def step(self, until: SimTime) -> SimTime | None: ...


@dataclass(frozen=True, repr=False)
class RunResult:
    """A finished run: its record (canonical bytes), digest and summary."""

    config: RunConfig
    events: tuple[Event, ...]
    record: bytes
    digest: str
    summary: Summary
    audit: AuditSeal

    def __repr__(self) -> str:
        # Short on purpose: asyncio formats the finished main task, result included, when
        # ``asyncio.run`` restores the SIGINT handler (Python 3.11), and a field-by-field repr of
        # every record event cost as much as the run itself.
        return f"RunResult({self.config.scenario.id!r}, {self.config.policy!r}, seed={self.config.seed}, digest={self.digest[:12]!r})"

    def write(self, out: Path) -> None:
        """Write ``record.jsonl``, ``summary.json`` and ``audit.json`` into ``out``."""
        write_run(out, self.record, self.summary, self.audit)


class Driver:
    """Advances a run's clock window by window, SimPy-style: ``peek``, ``step``, ``run``.

    Each window is ``[t, t + transit)`` where ``t`` is the earliest thing due anywhere. The world
    steps first (its observations take effect at once), then every other participant. A stopped
    driver resumes where it stopped; a participant may be replaced between windows (a restart).
    """

    def __init__(self, run: Run, world: World, others: Sequence[Participant]) -> None:
        self._run = run
        self.world = world
        self.others = list(others)
        self._next: SimTime | None = world.first_due()
        self.windows = 0
        self._log = structlog.get_logger("tearline").bind(**run.log_context)

    def peek(self) -> SimTime | None:
        """Start of the next window, or None when nothing is left before the horizon."""
        if self._next is None or self._next > self._run.scenario.horizon:
            return None
        return self._next

    def wake(self, at: SimTime) -> None:
        """Something new is due at ``at`` (e.g. a facilitator's inject)."""
        self._next = at if self._next is None else min(self._next, at)

    async def step(self) -> SimTime:
        """Run one window; return its start."""
        t = self.peek()
        if t is None:
            raise RunError("the run is over: nothing is due before the horizon")
        until = t + self._run.scenario.transit
        # Services of this process send without waiting for acknowledgements, which are awaited
        # once per phase (a transport's flush waits for everything sent through it): the world's
        # observations are stored before anyone reads them, the others' before the next window.
        earliest = await self.world.step(until, settle=False)
        await self.world.settle()
        stepped: list[Service] = []
        for p in self.others:
            if not isinstance(p, Service):
                n = await p.step(until)
            elif p.has_work(until):
                n = await p.step(until, settle=False)
                stepped.append(p)
            else:
                n = p.first_due()  # nothing to read, run or send: stepping it would change nothing
            if n is not None and (earliest is None or n < earliest):
                earliest = n
        for p in stepped:
            await p.settle()
        self._log.debug("window", sim_time=iso(t))
        self._next = earliest
        self.windows += 1
        return t

    async def run(
        self, *, windows: int | None = None, on_step: Callable[[SimTime], None] | None = None
    ) -> None:
        """Step until the horizon (or for ``windows`` windows)."""
        done = 0
        while self.peek() is not None and (windows is None or done < windows):
            t = await self.step()
            done += 1
            if on_step is not None:
                on_step(t)


class Run:
    """One run's wiring: policy, active agencies, topics, keys — and how to build each service.

    The same object is built from the same :class:`RunConfig` in every process of a distributed
    run, so every process agrees on agencies, topics and keys.
    """

    def __init__(
        self,
        config: RunConfig,
        *,
        namespace: str = "tearline",
        keys: Keystore | None = None,
        sealed: bool = False,
    ) -> None:
        if not structlog.is_configured():
            configure()
        self.config = config
        self.scenario = config.scenario
        self.policy: Policy = with_overrides(load_policy(config.policy, config.policy_data), config.overrides)
        self.enabled = tuple(sorted(set(config.enable) | self.policy.enables(self.scenario)))
        self.agencies: dict[str, ResolvedAgency] = {
            a.id: a for a in self.scenario.active_agencies(frozenset(self.enabled))
        }
        self.topics = Topics(namespace)
        self.senders = frozenset({WORLD, GATEWAY, *self.agencies})
        if keys is None:
            # No keystore given: every principal's keys are made here, for this run only. Across a
            # process boundary (``sealed``) they are the real thing; in one process, see _keys.
            principals = [*self.senders, CLOCK]
            keys = Keystore.generate(principals) if sealed else Keystore.in_process(principals)
        self.keys = keys
        """Every principal's public keys, and the private keys of those this process runs."""
        self.keys.require([*self.senders, CLOCK])
        self.rejected: Counter[str] = Counter()
        """Records on the audit topic that were not taken into the record, by reason code."""
        self.log_context = {"scenario": self.scenario.id, "seed": config.seed, "policy": config.policy}

    def settings(self, transport: Transport, suppress_through: int = 0) -> ServiceSettings:
        """What every service of this run shares, on ``transport`` (``suppress_through``: after a restart)."""
        return ServiceSettings(
            transport=transport,
            run=self.config.run_id,
            topics=self.topics,
            keys=self.keys,
            senders=self.senders,
            start=self.scenario.start,
            transit=self.scenario.transit,
            suppress_through=suppress_through,
            log_context=self.log_context,
        )

    def world(self, transport: Transport) -> World:
        return World(self.settings(transport), config=self.config, agencies=self.agencies)

    def gateway(self, transport: Transport, suppress_through: int = 0) -> Gateway:
        return Gateway(
            self.settings(transport, suppress_through),
            policy=self.policy,
            scenario=self.scenario,
            agencies=self.agencies,
            seed=self.config.seed,
        )

    def agency(self, agency_id: str, transport: Transport, suppress_through: int = 0) -> AgencyService:
        if agency_id not in self.agencies:
            known = ", ".join(sorted(self.agencies))
            raise RunError(f"agency {agency_id!r} is not in this run (agencies: {known})")
        return AgencyService(
            self.settings(transport, suppress_through),
            agency=self.agencies[agency_id],
            seed=self.config.seed,
            consent=self.scenario.consent,
            partners=self.agencies,
            watchlist=watchlist(self.config, self.agencies[agency_id]),
        )

    async def create_topics(self, transport: Transport) -> frozenset[str]:
        """Create the run's topics where missing; the names of those created (see :meth:`Transport.create_topics`)."""
        return await transport.create_topics(self.topics.specs(self.agencies))

    def driver(self, world: World, others: Sequence[Participant]) -> Driver:
        return Driver(self, world, others)

    async def collect(self, transport: Transport) -> list[Event]:
        """Every event on the run's audit topics (one per writer), verified and deduplicated.

        Each call reads with a group of its own, so that two readers (say, two services restarting
        at once) never split the topics between them."""
        reader = f"{self.topics.namespace}.record.{self.config.run_id}.{os.getpid()}.{next(_readers)}"
        consumer = await transport.subscribe(reader, self.topics.audits(self.senders))
        events: dict[tuple[str, int], Event] = {}
        where: dict[tuple[str, int], Message] = {}
        writers: dict[str, str | None] = {}
        self.rejected.clear()
        try:
            messages = await drain(consumer)
            opened = self._open_chains(messages)
            for message in messages:
                env = opened[message.topic, message.partition, message.offset]
                if isinstance(env, Rejected):
                    # Not part of this run's record: counted, never silently skipped.
                    self.rejected[f"audit-{env.code}"] += 1
                    _log.warning(
                        "audit record refused", reason=env.reason, topic=message.topic, offset=message.offset
                    )
                    continue
                writer = writers.get(message.topic, "")
                if writer == "":
                    writer = writers[message.topic] = self.topics.audit_writer(message.topic)
                if not _of_writer(env, writer):
                    self.rejected["audit-forged"] += 1
                    _log.warning(
                        "audit record refused",
                        reason=f"not an event of its signer on {writer}'s audit topic",
                        topic=message.topic,
                        offset=message.offset,
                    )
                    continue
                ident = (env.sender, env.seq)
                if ident in events:
                    # The first record of (sender, seq) stands; a later one never replaces it.
                    first = where[ident]
                    at = (message.topic, message.partition, message.offset)
                    if (first.topic, first.partition, first.offset) != at and events[ident] != env.body:
                        self.rejected["audit-conflict"] += 1
                        _log.warning(
                            "audit record conflicts with an earlier one", sender=env.sender, seq=env.seq
                        )
                    continue
                events[ident] = env.body
                where[ident] = message
        finally:
            await consumer.close()
        return list(events.values())

    def _open_chains(self, messages: Sequence[Message]) -> dict[tuple[str, int, int], Envelope | Rejected]:
        """Each audit record opened, or why it was refused, by (topic, partition, offset).

        Every writer's topic is a hash chain, read here from its end: a record whose link the next
        genuine record of the same writer names (``prev``) is covered by that record's signature,
        so only the signatures of records no later one vouches for are checked — on an intact
        topic, its last. A record inserted, altered or signed by someone else is vouched for by
        nothing and is checked, and refused, as before."""
        opened: dict[tuple[str, int, int], Envelope | Rejected] = {}
        vouched: dict[str, set[str]] = {}
        for message in sorted(messages, key=lambda m: (m.topic, m.partition, m.offset), reverse=True):
            chain = vouched.setdefault(message.topic, set())
            try:
                env = open_envelope(message, self.keys, self.config.run_id, self.senders, vouched=chain)
            except Rejected as exc:
                opened[message.topic, message.partition, message.offset] = exc
                continue
            if _of_writer(env, self.topics.audit_writer(message.topic)):
                chain.add(env.prev)
            opened[message.topic, message.partition, message.offset] = env
        return opened

    def finish(
        self,
        events: list[Event],
        *,
        transport_name: str,
        dead_letters: int = 0,
        rejected: Mapping[str, int] | None = None,
        cosigners: Sequence[str] = (GATEWAY, CLOCK),
    ) -> RunResult:
        """Judge the plots, canonicalise the record, summarise, seal the audit chain."""
        ordered = sorted(events, key=record_order)
        outcomes = judge(self.scenario, self.agencies, ordered, seq_base=0)
        everything = sorted([*ordered, *outcomes], key=record_order)
        record = canonical(everything, ordered=True)
        d = digest(record)
        summary = summarise(
            scenario=self.scenario,
            agencies=self.agencies,
            events=ordered,
            outcomes=outcomes,
            policy=self.config.policy,
            seed=self.config.seed,
            run_id=self.config.run_id,
            digest=d,
            transport=transport_name,
            exclude_disputed=self.config.exclude_disputed,
            enabled=self.enabled,
            dead_letters=dead_letters,
            rejected=dict(sorted((Counter(rejected or {}) + self.rejected).items())),
        )
        signers = [s for s in cosigners if s in self.keys.private]
        audit = seal_audit(record, self.config.run_id, self.keys, signers)
        return RunResult(
            self.config,
            tuple(everything),
            record,
            d,
            summary,
            audit,
        )


YOUNG_COLLECTION = 50_000
"""How many new container objects a replay lets accumulate before Python's cycle collector looks
at its youngest generation (CPython's default is 700). A run builds its state — leads, cases,
envelopes, record events — and keeps nearly all of it to the end, so at the default every
collection walks objects that are still alive, and every tenth promotes them towards a full
collection over everything in the process: more than a third of a replay's CPU time
(``bench/engine.py``). Nothing a run computes depends on when the collector runs."""

_paced = 0
_thresholds: tuple[int, int, int] = (0, 0, 0)
_pacing = threading.Lock()


async def _each(steps: Iterable[Awaitable[None]]) -> None:
    """Await them all at once; then raise the first failure, if any (none is left running)."""
    for outcome in await asyncio.gather(*steps, return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


def _of_writer(env: Envelope, writer: str | None) -> TypeGuard[EventEnvelope]:
    """Whether ``env`` is an event of ``writer`` under its own sequence number (what its audit topic may hold)."""
    return (
        isinstance(env, EventEnvelope)
        and env.body.by == env.sender
        and env.body.seq == env.seq
        and env.sender == writer
    )


@contextmanager
def paced_collection() -> Iterator[None]:
    """Run the cycle collector's youngest generation every :data:`YOUNG_COLLECTION` allocations
    (never more often than it was set to) until the outermost of nested or interleaved replays
    ends, then put its thresholds back as they were."""
    global _paced, _thresholds
    with _pacing:
        if _paced == 0:
            _thresholds = gc.get_threshold()
            if 0 < _thresholds[0] < YOUNG_COLLECTION:
                gc.set_threshold(YOUNG_COLLECTION, *_thresholds[1:])
        _paced += 1
    try:
        yield
    finally:
        with _pacing:
            _paced -= 1
            if _paced == 0:
                gc.set_threshold(*_thresholds)


async def replay(
    config: RunConfig,
    transport: Transport | None = None,
    *,
    namespace: str = "tearline",
    on_step: Callable[[SimTime], None] | None = None,
    keys: Keystore | None = None,
) -> RunResult:
    """Run a scenario end to end in this process, on ``transport`` (default: in-process).

    On the in-process transport envelopes are handed over as objects, neither serialised nor
    encrypted (nothing leaves the process); on any other, every message is signed and sealed as
    between processes."""
    with paced_collection():
        return await _replay(config, transport, namespace=namespace, on_step=on_step, keys=keys)


async def _replay(
    config: RunConfig,
    transport: Transport | None,
    *,
    namespace: str,
    on_step: Callable[[SimTime], None] | None,
    keys: Keystore | None,
) -> RunResult:
    own = transport is None
    transport = transport or MemoryTransport()
    run = Run(config, namespace=namespace, keys=keys, sealed=transport.address is not None)
    log = structlog.get_logger("tearline").bind(**run.log_context)
    log.info("run started", run_id=config.run_id, sim_time=iso(config.scenario.start))
    services: list[Service] = []
    try:
        await run.create_topics(transport)
        world = run.world(transport)
        others: list[Service] = [
            run.gateway(transport),
            *(run.agency(a, transport) for a in sorted(run.agencies)),
        ]
        services = [world, *others]
        # Together: on a broker each joins a consumer group of its own, a few round trips apiece.
        await _each(s.open() for s in services)
        await run.driver(world, others).run(on_step=on_step)
        events = await run.collect(transport)
        result = run.finish(
            events,
            transport_name=transport.name,
            dead_letters=sum(s.dead_letters for s in services),
            rejected=sum((s.rejected for s in services), Counter()),
        )
        log.info(
            "run finished", digest=result.digest, sim_time=iso(config.scenario.horizon), events=len(events)
        )
        return result
    finally:
        await _each(s.close() for s in services)
        if own:
            await transport.close()
