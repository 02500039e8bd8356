"""The world: what agencies observe — the scenario's injects and background noise — the requests on
the record, and what agencies' actions do."""

from __future__ import annotations

import random
from collections.abc import Iterator

from tearline.broker import Envelope, Rejected, Service, ServiceSettings
from tearline.model import (
    CONVEYANCES,
    DAY,
    GATEWAY,
    WORLD,
    ActionOrder,
    DeskDecision,
    EffectEvent,
    EffectResult,
    Grading,
    Identifier,
    IdentifierKind,
    Indicator,
    IndicatorKind,
    Inject,
    InjectEvent,
    Lead,
    Level,
    Marking,
    NoteEvent,
    Observation,
    PolicyChange,
    ProtectionEvent,
    Reliability,
    Request,
    ResolvedAgency,
    RunConfig,
    RunError,
    Sensitivity,
    SimTime,
    Source,
    SourceType,
    Window,
    iso,
    rng,
)

from ._collection import Collection
from ._registry import Registries

_NOISE_IDENTIFIERS: tuple[IdentifierKind, ...] = ("person", "phone", "voip", "vessel", "email", "address")
_NOISE_INDICATORS: tuple[IndicatorKind, ...] = ("intent", "travel", "recon", "comms", "purchase", "funding")
_RELIABILITY: tuple[Reliability, ...] = ("C", "D", "E", "F")
_LEVELS: tuple[Level, ...] = ("RESTRICTED", "CONFIDENTIAL", "SECRET")
_TYPES: tuple[SourceType, ...] = ("HUMINT", "SIGINT", "OSINT", "POLICE")
_SENSITIVITIES: tuple[Sensitivity, ...] = ("low", "moderate", "high")
_NAME_KINDS = frozenset({"person", "alias"})
_PLACE_KINDS = frozenset({"venue", "address"})

WATCHLIST_FAMILIAR = 0.02
"""Chance that each word of a watchlist file's name is a word of a name in the scenario's own leads
(given name or surname), rather than a made-up one: files on people of the same community share
names with the plotters. An assumption (docs/model.md §3.4)."""
WATCHLIST_GRADING = Grading(reliability="C", credibility=4)
"""How a watchlist file is graded (an assumption: an old, unconfirmed report, weight 0.24)."""


class World(Service):
    """Publishes each observation to its observer's inbox at the moment it is observed, and carries
    out agencies' actions against the ground truth.

    The world is the one service exempt from ``transit``: an observation takes effect at the
    inject's own time. The driver steps it before the others in every window, so what it
    publishes is there for them to read.

    An action order names identifiers; every actor of the scenario it names is reached only if it
    is, at that moment, in a country of the acting agency's jurisdiction (a conveyance also needs
    a timing window of the case around the moment: nobody searches the sea without one). Within
    reach, the action succeeds with the agency's ``action_success`` (a seeded draw per agency,
    actor and time). An actor arrested or intercepted is removed: no later order reaches it, and
    the judge counts it out of every plot still to come. Each try is an :class:`EffectEvent`.

    A tasking order asks what following a selector reveals; :class:`Collection` holds the agencies'
    surveillance slots, runs random search on the free ones, and delivers what collection reveals as
    the agency's own observation.
    """

    def __init__(
        self, settings: ServiceSettings, *, config: RunConfig, agencies: dict[str, ResolvedAgency]
    ) -> None:
        super().__init__(WORLD, settings, inputs=(settings.topics.actions,))
        self.agencies = agencies
        self.removed: set[str] = set()
        self.config = config
        self.noise_ids: frozenset[str] = frozenset(o.lead.id for o in noise(config, agencies))
        observations = sorted(
            self._injects(agencies) + list(noise(config, agencies)),
            key=lambda o: (o.lead.observed_at, o.inject),
        )
        for obs in observations:
            self.at(obs.lead.observed_at, lambda obs=obs: self.observe(obs))  # type: ignore[misc]
        for r in config.scenario.requests:
            if r.sender in agencies and r.recipient in agencies:
                request = Request(
                    id=r.id, sender=r.sender, recipient=r.recipient, about=r.about, act=r.act, what=r.what
                )
                self.at(r.at, lambda request=request: self._prompt(request))  # type: ignore[misc]
        self.collection = Collection(self, config, agencies)
        self.registries = Registries(self, config, agencies)

    def _injects(self, agencies: dict[str, ResolvedAgency]) -> list[Observation]:
        s = self.config.scenario
        return [
            Observation(
                lead=s.lead_of(i), inject=i.id, what=i.what, disputed=i.disputed, processing=i.processing
            )
            for i in self.config.injects()
            if i.observer in agencies
        ]

    def add(self, inject: Inject) -> None:
        """A facilitator's inject during a live exercise: observed at its time (not before now)."""
        if inject.at < self.now:
            raise RunError(
                f"inject {inject.id!r} is at {iso(inject.at)}, before the exercise clock ({iso(self.now)})"
            )
        lead = self.config.scenario.lead_of(inject)
        obs = Observation(
            lead=lead,
            inject=inject.id,
            what=inject.what,
            disputed=inject.disputed,
            processing=inject.processing,
        )
        self.at(inject.at, lambda: self.observe(obs))

    def note(self, text: str, at: SimTime) -> None:
        """A facilitator's note, into the record at ``at``."""
        self.at(at, lambda: self.record(NoteEvent, text=text))

    def desk(self, decision: DeskDecision, at: SimTime) -> None:
        """A player's decision at an agency's desk, carried to that agency at ``at``."""
        self.at(
            at,
            lambda: self._emit(
                self.topics.inbox(decision.agency), "desk-decision", decision, key=decision.lead, at=self.now
            ),
        )

    def _prompt(self, request: Request) -> None:
        """A request on the record: its sender makes it now (it goes out through the gateway)."""
        self._emit(self.topics.inbox(request.sender), "request", request, key=request.id, at=self.now)

    def withhold(self, decision: DeskDecision, at: SimTime) -> None:
        """A desk's withholding, carried to the gateway at ``at`` too: it releases that lead to that
        counterpart no more, whatever the policy says."""
        self.at(
            at,
            lambda: self._emit(
                self.topics.control, "desk-decision", decision, key=decision.lead, at=self.now
            ),
        )

    def change_policy(self, change: PolicyChange, at: SimTime) -> None:
        """The facilitator's change of policy, carried to the gateway at ``at``."""
        self.at(
            at, lambda: self._emit(self.topics.control, "policy-change", change, key=GATEWAY, at=self.now)
        )

    def handle(self, envelope: Envelope) -> None:
        if (
            envelope.kind not in ("action", "tasking")
            or envelope.body.agency != envelope.sender
            or envelope.sender not in self.agencies
        ):
            raise Rejected(
                f"the world takes only an agency's own action and tasking orders, not {envelope.kind!r}"
            )
        if envelope.kind == "tasking":
            if self.agencies[envelope.sender].surveillance <= 0:
                raise Rejected(f"{envelope.sender} has no surveillance slots to task")
            self.collection.task(envelope.body)
        else:
            self._carry_out(envelope.body)
            self.collection.hold(envelope.body)

    def _carry_out(self, order: ActionOrder) -> None:
        agency = self.agencies[order.agency]
        named = set(order.identifiers)
        placed = dict(order.placed)
        for actor in self.config.scenario.actors:
            if actor.identifier.key not in named or actor.id in self.removed:
                continue
            here = actor.where(self.now)
            where = here.country if here is not None else None
            chance = agency.action_success
            person = actor.role not in CONVEYANCES
            there = placed.get(actor.identifier.key, ()) if person else ()
            result: EffectResult
            if where is None or where not in agency.jurisdiction:
                result, chance = "out-of-reach", 0.0
            elif not person and not any(a <= self.now <= b for a, b in order.timing):
                result, chance = "no-window", 0.0
            else:
                # A person the case does not place where he is must be searched for.
                found = not person or where in there
                chance = chance if found else chance * agency.search_success
                draw = random.Random(f"{self.config.seed}:action:{order.agency}:{actor.id}:{self.now}")
                if chance > 0 and draw.random() < chance:
                    result = "arrested" if person else "intercepted"
                    self.removed.add(actor.id)
                else:
                    result = "failed" if found else "unplaced"
            self.record(
                EffectEvent,
                agency=order.agency,
                case=order.case,
                actor=actor.id,
                result=result,
                where=where,
                chance=chance,
                placed=there,
            )
        windows = [(max(self.now, a), b) for a, b in order.timing if b >= self.now]
        if not windows and agency.posture is not None:
            windows = [(self.now, self.now + agency.posture)]
        for place in order.guard:
            for start, end in windows:
                self.record(
                    ProtectionEvent, agency=order.agency, case=order.case, place=place, start=start, end=end
                )

    def observe(self, obs: Observation) -> None:
        """Its observer observes it now: recorded, and delivered to the observer's inbox."""
        self.record(
            InjectEvent,
            inject=obs.inject,
            observer=obs.lead.origin,
            lead=obs.lead.id,
            what=obs.what,
            noise=obs.noise,
            disputed=obs.disputed,
        )
        self._emit(self.topics.inbox(obs.lead.origin), "observation", obs, key=obs.lead.id, at=self.now)


def noise(config: RunConfig, agencies: dict[str, ResolvedAgency]) -> Iterator[Observation]:
    """Background false leads: a seeded Poisson stream per agency over the noise window.

    Their identifiers are random, so they rarely link to anything; their grading is modest. They
    matter because every one shared is one more lead a recipient's analysts must read. With
    ``noise.lookalike``, a report instead borrows a name (spelt another way, or a namesake's) or a
    place from the scenario's real leads, drawn from a stream of its own (so the rest of the noise
    is the same whatever the chance): a linker that accepts weak links will join it to real cases.
    """
    s = config.scenario
    names, places = _vocabulary(config) if s.noise.lookalike > 0 else ((), ())
    start: SimTime = s.noise.start if s.noise.start is not None else s.start
    end: SimTime = s.noise.end if s.noise.end is not None else s.horizon
    for agency_id in sorted(agencies):
        rate = s.noise.per_agency.get(agency_id, s.noise.per_day) * config.noise_scale
        if rate <= 0:
            continue
        draws = rng(config.seed, "noise", agency_id)
        t = float(start)
        n = 0
        while True:
            t += draws.expovariate(rate / DAY)
            if t > end:
                break
            n += 1
            obs = _noise_lead(draws, agency_id, n, int(t))
            if names or places:
                look = rng(config.seed, "lookalike", agency_id, str(n))
                if look.random() < s.noise.lookalike:
                    obs = obs.model_copy(update={"lead": _lookalike(look, obs.lead, names, places)})
            yield obs


def _vocabulary(config: RunConfig) -> tuple[tuple[str, ...], tuple[Identifier, ...]]:
    """The names (as written) and places the scenario's injects name, in a fixed order."""
    names: set[str] = set()
    places: dict[str, Identifier] = {}
    for inject in config.scenario.injects:
        for i in inject.lead.identifiers:
            if i.kind in _NAME_KINDS:
                names.add(i.value)
            elif i.kind in _PLACE_KINDS:
                places.setdefault(i.key, i)
    return tuple(sorted(names)), tuple(places[k] for k in sorted(places))


def _made_up_word(draws: random.Random) -> str:
    """A pronounceable made-up name word (two or three syllables)."""
    consonants, vowels = "bdfghjklmnrstvz", "aeiou"
    word = "".join(draws.choice(consonants) + draws.choice(vowels) for _ in range(draws.randint(2, 3)))
    return word + (draws.choice("dlmnrs") if draws.random() < 0.5 else "")


_RESPELL: tuple[tuple[str, str], ...] = (
    ("u", "ou"), ("ou", "u"), ("i", "y"), ("k", "q"), ("f", "ph"), ("a", "e"), ("e", "a"), ("o", "u"),
    ("s", "ss"), ("m", "mm"), ("d", "dd"),
)  # fmt: skip


def _respelt(draws: random.Random, name: str) -> str:
    """The same name written another way: one common transliteration change in one word."""
    words = name.split()
    k = draws.randrange(len(words))
    options = [(a, b) for a, b in _RESPELL if a in words[k][1:]]
    if not options:
        return name + draws.choice("aeiou")
    a, b = draws.choice(options)
    at = words[k].index(a, 1)
    words[k] = words[k][:at] + b + words[k][at + len(a) :]
    return " ".join(words)


def _lookalike(
    draws: random.Random, lead: Lead, names: tuple[str, ...], places: tuple[Identifier, ...]
) -> Lead:
    """A background report that borrows from the real ones: the same name spelt another way, a
    namesake sharing a surname, or a place a real lead names."""
    if names and (not places or draws.random() < 2 / 3):
        name = draws.choice(names)
        if draws.random() < 0.5 or len(name.split()) < 2:
            borrowed = Identifier(kind="person", value=_respelt(draws, name))
        else:
            given = draws.choice(names).split()[0] if draws.random() < 0.5 else _made_up_word(draws)
            borrowed = Identifier(kind="person", value=f"{given} {name.split()[-1]}")
    else:
        borrowed = draws.choice(places)
    return lead.model_copy(update={"identifiers": (borrowed, *lead.identifiers[1:])})


def watchlist(config: RunConfig, agency: ResolvedAgency) -> tuple[Lead, ...]:
    """An agency's watchlist: ``watchlist`` files on background people it already holds, drawn per
    seed. Each name's words are, with :data:`WATCHLIST_FAMILIAR`, words of names in the scenario's
    leads, else made up, so a few files share a surname (or more) with a plotter by chance — most
    are innocent, and a linker that accepts weak links will hit them."""
    if agency.watchlist <= 0:
        return ()
    names, _ = _vocabulary(config)
    given = tuple(sorted({n.split()[0] for n in names}))
    surnames = tuple(sorted({n.split()[-1] for n in names if len(n.split()) > 1}))
    draws = rng(config.seed, "watchlist", agency.id)
    files = []
    for k in range(1, agency.watchlist + 1):
        first = draws.choice(given) if given and draws.random() < WATCHLIST_FAMILIAR else _made_up_word(draws)
        last = (
            draws.choice(surnames)
            if surnames and draws.random() < WATCHLIST_FAMILIAR
            else _made_up_word(draws)
        )
        files.append(
            Lead(
                id=f"{agency.id}-w{k}",
                origin=agency.id,
                observed_at=config.scenario.start,
                identifiers=(Identifier(kind="person", value=f"{first} {last}"),),
                grading=WATCHLIST_GRADING,
                summary="watchlist file",
                detail="watchlist file",
            )
        )
    return tuple(files)


def _noise_lead(draws: random.Random, agency: str, n: int, at: SimTime) -> Observation:
    def token() -> str:
        return f"{draws.getrandbits(40):010x}"

    identifiers = [Identifier(kind=draws.choice(_NOISE_IDENTIFIERS), value=f"x-{token()}")]
    if draws.random() < 0.3:
        identifiers.append(Identifier(kind="venue", value=f"venue-{token()}"))
    indicators = [Indicator(kind=draws.choice(_NOISE_INDICATORS), detail="unconfirmed report")]
    if draws.random() < 0.3:
        begin = at + draws.randrange(0, 30) * DAY
        indicators.append(
            Indicator(
                kind="timing",
                detail="unconfirmed date",
                window=Window.model_validate({"from": begin, "to": begin + 3 * DAY}),
            )
        )
    lead = Lead(
        id=f"{agency}-n{n}",
        origin=agency,
        observed_at=at,
        identifiers=tuple(identifiers),
        indicators=tuple(indicators),
        marking=Marking(level=draws.choice(_LEVELS)),
        grading=Grading(reliability=draws.choice(_RELIABILITY), credibility=draws.randint(3, 6)),
        source=Source(type=draws.choice(_TYPES), sensitivity=draws.choice(_SENSITIVITIES)),
        summary="background report",
        detail="background report",
    )
    return Observation(lead=lead, inject=lead.id, what="background report", noise=True)
