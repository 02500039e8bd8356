"""Collection: what an agency's surveillance slots reveal, by tasking on a selector or by random search.

The agency decides what to task (it knows only its cases); the world, which alone knows the latent
observations and the actors' whereabouts, decides what the tasking reveals. Each agency has
``surveillance`` slots. A tasking holds one for ``tasking_time``, an interdiction for
``interdiction_time``, a find by random search for the latent observation's ``delay``. Work that
finds no free slot waits: interdictions first, then taskings by priority (the case's score), first
come first served. Random search runs on the free slots only: each collectable latent observation
with a ``search_rate`` is found at that rate per day per free slot, memoryless (the next find is
redrawn whenever the number of free slots or the set of collectable observations changes), so a
scenario family with Kaplan's rates is Kaplan's queue.

With ``alert`` an agency's tasking also leaves its selector flagged (a standing alert) until the
alert expires: a latent observation on that selector that becomes collectable meanwhile is a hit,
and following it up waits for a slot like any tasking (same priority); a hit whose alert has expired,
or whose observation is no longer collectable, by the time a slot is free collects nothing.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tearline.model import (
    DAY,
    ActionOrder,
    Actor,
    Grading,
    Indicator,
    Latent,
    Lead,
    Observation,
    ResolvedAgency,
    RunConfig,
    SimTime,
    Source,
    TaskingEvent,
    TaskingOrder,
    TaskingStep,
    rng,
)


class _World(Protocol):
    """What collection needs of the world: its clock, timers, record, who is removed, and delivery."""

    now: SimTime
    removed: set[str]

    def at(self, when: SimTime, callback: Callable[[], None]) -> None: ...

    def record(self, event_type: Any, **fields: Any) -> None: ...

    def observe(self, obs: Observation) -> None: ...


_HOLD_FIRST = float("inf")
"""Priority of an interdiction's hold: ahead of every tasking."""


@dataclass(frozen=True)
class _Hit:
    """A latent observation on a flagged selector became collectable: it waits for a slot to follow
    it up, which must start before the alert expires."""

    order: TaskingOrder
    latent: Latent
    expires: SimTime


@dataclass(order=True)
class _Work:
    """Work waiting for a slot (ordered: highest priority first, then first come)."""

    rank: tuple[float, int]
    order: TaskingOrder | ActionOrder | _Hit = field(compare=False)


@dataclass
class _Desk:
    """One agency's collection: its busy slots (by the time each is free) and its waiting work."""

    agency: ResolvedAgency
    latent: tuple[Latent, ...]
    """Latent observations it could find by random search (capability, ``by``, a search rate)."""
    busy: list[SimTime] = field(default_factory=list)
    waiting: list[_Work] = field(default_factory=list)
    search: random.Random = field(default_factory=random.Random)
    generation: int = 0
    """Bumped at every redraw of the next find: a timer of an older generation does nothing."""

    @property
    def free(self) -> int:
        return self.agency.surveillance - len(self.busy)


class Collection:
    """The world's side of collection: surveillance slots, taskings, random search and what they reveal."""

    def __init__(self, world: _World, config: RunConfig, agencies: dict[str, ResolvedAgency]) -> None:
        self.world = world
        self.config = config
        self.collected: set[tuple[str, str]] = set()
        """(agency, latent id) already collected: each latent observation reaches an agency once."""
        self._count = itertools.count()
        self._alerts: dict[tuple[str, str], SimTime] = {}
        """(agency, selector) flagged by a standing alert, and when the alert expires."""
        self._hits: set[tuple[str, str]] = set()
        """(agency, latent id) an alert has hit (each observation is followed up at most once)."""
        self._desks: dict[str, _Desk] = {}
        for agency_id in sorted(agencies):
            a = agencies[agency_id]
            if a.surveillance <= 0:
                continue
            searchable = tuple(
                lat for lat in config.scenario.latent if lat.search_rate > 0 and self.can_collect(a, lat)
            )
            self._desks[agency_id] = _Desk(a, searchable, search=rng(config.seed, "search", agency_id))
        for desk in self._desks.values():
            if desk.latent:
                start = min(lat.start for lat in desk.latent)
                world.at(max(start, config.scenario.start), lambda d=desk: self._redraw(d))  # type: ignore[misc]

    @staticmethod
    def can_collect(agency: ResolvedAgency, latent: Latent) -> bool:
        """Whether the agency has what it takes to collect this observation at all."""
        return latent.capability in agency.capabilities and (not latent.by or agency.id in latent.by)

    def busy(self, agency: str) -> int:
        """Slots of ``agency`` busy now."""
        desk = self._desks.get(agency)
        return len(desk.busy) if desk is not None else 0

    # -- work arriving -----------------------------------------------------------------------
    def task(self, order: TaskingOrder) -> None:
        """An agency's tasking: it starts on a free slot, or waits its turn."""
        desk = self._desks[order.agency]
        heapq.heappush(desk.waiting, _Work((-order.priority, next(self._count)), order))
        if desk.agency.alert is not None:
            self._flag(desk, order)
        self._dispatch(desk)

    def _flag(self, desk: _Desk, order: TaskingOrder) -> None:
        """A standing alert on the tasked selector, from now until ``alert`` later (a re-tasking
        extends it): each observation on the selector that becomes collectable meanwhile is a hit."""
        a, now = desk.agency, self.world.now
        assert a.alert is not None
        flag = (a.id, order.selector)
        expires = max(self._alerts.get(flag, now), now + a.alert)
        self._alerts[flag] = expires
        self._record(
            a.id, "alert", case=order.case, selector=order.selector, busy=len(desk.busy), until=expires
        )
        for lat in self.config.scenario.latent:
            if (
                lat.selector is None
                or lat.selector.key != order.selector
                or not self.can_collect(a, lat)
                or (a.id, lat.id) in self._hits
                or lat.end < now
                or lat.start > expires
            ):
                continue
            self.world.at(max(now, lat.start), lambda lat=lat: self._hit(desk, order, lat))  # type: ignore[misc]

    def _hit(self, desk: _Desk, order: TaskingOrder, lat: Latent) -> None:
        """The observation is collectable and its selector flagged: it waits for a slot."""
        a, now = desk.agency, self.world.now
        expires = self._alerts.get((a.id, order.selector), now - 1)
        if (a.id, lat.id) in self._hits or (a.id, lat.id) in self.collected or now > expires:
            return
        self._hits.add((a.id, lat.id))
        self._record(
            a.id,
            "hit",
            case=order.case,
            selector=order.selector,
            latent=lat.id,
            busy=len(desk.busy),
            until=expires,
        )
        heapq.heappush(desk.waiting, _Work((-order.priority, next(self._count)), _Hit(order, lat, expires)))
        self._dispatch(desk)

    def hold(self, order: ActionOrder) -> None:
        """An interdiction holds a slot for ``interdiction_time`` (the next one free, if none is now)."""
        desk = self._desks.get(order.agency)
        if desk is None:
            return
        heapq.heappush(desk.waiting, _Work((-_HOLD_FIRST, next(self._count)), order))
        self._dispatch(desk)

    def _dispatch(self, desk: _Desk) -> None:
        started = False
        while desk.free > 0 and desk.waiting:
            work = heapq.heappop(desk.waiting).order
            started = True
            if isinstance(work, ActionOrder):
                self._start_hold(desk, work)
            elif isinstance(work, _Hit):
                self._follow(desk, work)
            else:
                self._start_tasking(desk, work)
        if started:
            self._redraw(desk)

    def _occupy(self, desk: _Desk, until: SimTime, ended: Callable[[], None] | None = None) -> None:
        """Hold a slot until ``until``; then ``ended`` (if any) runs, and the slot takes waiting work."""
        heapq.heappush(desk.busy, until)
        self.world.at(until, lambda: self._free(desk, ended))

    def _free(self, desk: _Desk, ended: Callable[[], None] | None) -> None:
        if ended is not None:
            ended()
        heapq.heappop(desk.busy)
        self._dispatch(desk)
        self._redraw(desk)

    def _start_hold(self, desk: _Desk, order: ActionOrder) -> None:
        a = desk.agency
        held = a.interdiction_time.mean
        if a.interdiction_time.dist == "exponential":
            draw = rng(self.config.seed, "hold", a.id, order.case, str(self.world.now))
            held = round(draw.expovariate(1.0 / max(1, a.interdiction_time.mean)))
        until = self.world.now + max(1, held)
        self._occupy(desk, until)
        self._record(a.id, "hold", case=order.case, busy=len(desk.busy), until=until)

    def _start_tasking(self, desk: _Desk, order: TaskingOrder) -> None:
        a, now = desk.agency, self.world.now
        until = now + max(1, a.tasking_time)
        revealed = 0
        for lat in self.config.scenario.latent:
            if (
                lat.selector is None
                or lat.selector.key != order.selector
                or not self.can_collect(a, lat)
                or (a.id, lat.id) in self.collected
                or lat.end < now
                or lat.start > until
            ):
                continue
            if rng(self.config.seed, "latent", a.id, lat.id).random() >= lat.chance:
                continue
            self.collected.add((a.id, lat.id))
            revealed += 1
            at = max(now, lat.start) + lat.delay
            self.world.at(at, lambda lat=lat: self._reveal(a, lat, order))  # type: ignore[misc]
        if "surveillance" in a.capabilities:
            revealed += self._watch(a, order, until)

        def nothing() -> None:
            self._record(a.id, "nothing", case=order.case, selector=order.selector, busy=len(desk.busy) - 1)

        self._occupy(desk, until, None if revealed else nothing)
        self._record(
            a.id, "start", case=order.case, selector=order.selector, busy=len(desk.busy), until=until
        )

    def _follow(self, desk: _Desk, hit: _Hit) -> None:
        """A free slot follows up an alert's hit: it collects the observation (with its seeded chance,
        the same draw as a tasking's) if the alert still stands and the observation is still
        collectable, holding the slot for the observation's ``delay``."""
        a, now, lat, order = desk.agency, self.world.now, hit.latent, hit.order
        if now > hit.expires or now > lat.end or (a.id, lat.id) in self.collected:
            self._record(
                a.id, "lapsed", case=order.case, selector=order.selector, latent=lat.id, busy=len(desk.busy)
            )
            return
        if rng(self.config.seed, "latent", a.id, lat.id).random() >= lat.chance:
            self._record(
                a.id, "nothing", case=order.case, selector=order.selector, latent=lat.id, busy=len(desk.busy)
            )
            return
        self.collected.add((a.id, lat.id))
        until = now + max(1, lat.delay)
        self._occupy(desk, until)
        self._record(
            a.id,
            "follow",
            case=order.case,
            selector=order.selector,
            latent=lat.id,
            busy=len(desk.busy),
            until=until,
        )
        self.world.at(now + lat.delay, lambda: self._reveal(a, lat, order))

    def _watch(self, a: ResolvedAgency, order: TaskingOrder, until: SimTime) -> int:
        """Surveillance of a person within the agency's reach: each move they make while followed (and
        where they are when the watch starts) becomes a lead. Returns how many are scheduled."""
        now = self.world.now
        seen = 0
        for actor in self.config.scenario.actors:
            if actor.identifier.key != order.selector:
                continue
            here = actor.where(now)
            if here is None or here.country not in a.jurisdiction:
                continue
            moves = [w for w in actor.whereabouts if now < w.since <= until]
            self.world.at(now, lambda actor=actor: self._sighting(a, actor, order, 0))  # type: ignore[misc]
            seen += 1
            for n, w in enumerate(moves, start=1):
                self.world.at(w.since, lambda actor=actor, n=n: self._sighting(a, actor, order, n))  # type: ignore[misc]
                seen += 1
                if w.country not in a.jurisdiction:
                    break  # followed out of its reach: the watch ends there
        return seen

    # -- random search -----------------------------------------------------------------------
    def _redraw(self, desk: _Desk) -> None:
        """The next find by random search, from now: memoryless at ``search_rate`` per free slot."""
        if not desk.latent:
            return
        desk.generation += 1
        generation, now = desk.generation, self.world.now
        open_now = [
            lat
            for lat in desk.latent
            if lat.start <= now <= lat.end and (desk.agency.id, lat.id) not in self.collected
        ]
        boundaries = [
            t
            for lat in desk.latent
            if (desk.agency.id, lat.id) not in self.collected
            for t in (lat.start, lat.end + 1)
            if t > now
        ]
        rate = desk.free * sum(lat.search_rate for lat in open_now) / DAY
        candidates = list(boundaries)
        find_at: SimTime | None = None
        if rate > 0:
            find_at = now + max(1, round(desk.search.expovariate(rate)))
            candidates.append(find_at)
        if not candidates:
            return
        at = min(candidates)
        if at == find_at:
            weights = [lat.search_rate for lat in open_now]
            pick = desk.search.choices(open_now, weights=weights)[0]
            self.world.at(at, lambda: self._found(desk, pick, generation))
        else:
            self.world.at(at, lambda: self._boundary(desk, generation))

    def _boundary(self, desk: _Desk, generation: int) -> None:
        if generation == desk.generation:
            self._redraw(desk)

    def _found(self, desk: _Desk, latent: Latent, generation: int) -> None:
        """A free slot finds a latent observation; it follows it up for its ``delay`` to the lead."""
        if generation != desk.generation:
            return
        a, now = desk.agency, self.world.now
        self.collected.add((a.id, latent.id))
        if latent.delay > 0:
            self._occupy(desk, now + latent.delay)
        lead_id = self.config.scenario.latent_lead(latent, a.id, now).id
        self._record(a.id, "found", latent=latent.id, lead=lead_id, busy=len(desk.busy))
        self.world.at(now + latent.delay, lambda: self._reveal(a, latent, None))
        self._redraw(desk)

    # -- what collection yields ----------------------------------------------------------------
    def _reveal(self, a: ResolvedAgency, latent: Latent, order: TaskingOrder | None) -> None:
        lead = self.config.scenario.latent_lead(latent, a.id, self.world.now)
        if order is not None:
            self._record(
                a.id,
                "revealed",
                case=order.case,
                selector=order.selector,
                latent=latent.id,
                lead=lead.id,
                busy=self.busy(a.id),
            )
        self._deliver(Observation(lead=lead, inject=latent.id, what=latent.what))

    def _sighting(self, a: ResolvedAgency, actor: Actor, order: TaskingOrder, n: int) -> None:
        here = actor.where(self.world.now)
        if here is None or actor.id in self.world.removed:
            return
        place = here.place or here.country
        what = f"Surveillance: {actor.identifier.value} seen in {place} ({here.country})"
        lead = Lead(
            id=f"watch-{actor.id}-{a.id.lower()}-{n}",
            origin=a.id,
            observed_at=self.world.now,
            identifiers=(actor.identifier,),
            indicators=(Indicator(kind="travel", detail=what),),
            grading=Grading(reliability="B", credibility=2),
            source=Source(type="POLICE", sensitivity="moderate"),
            summary=what,
            detail=what,
            cites=here.cites,
        )
        self._record(
            a.id, "revealed", case=order.case, selector=order.selector, lead=lead.id, busy=self.busy(a.id)
        )
        self._deliver(Observation(lead=lead, inject=lead.id, what=what))

    def _deliver(self, obs: Observation) -> None:
        self.world.observe(obs)

    def _record(self, agency: str, step: TaskingStep, **fields: object) -> None:
        self.world.record(TaskingEvent, agency=agency, step=step, **fields)
