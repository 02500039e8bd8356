"""Scenarios: agencies, their channels, the plots, and a timeline of injects.

A scenario is shaped like an exercise's master scenario events list. It never says what a
policy achieves: its ``expect`` block is only checked by ``tearline check``.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from ._base import Model
from ._errors import Problem, ScenarioError
from ._facts import Fact, load_facts
from ._lead import (
    TLP,
    AgencyId,
    Caveats,
    Compartment,
    Country,
    GradingField,
    Identifier,
    IdentifierKind,
    Indicator,
    Lead,
    Level,
    Marking,
    Source,
)
from ._paths import seeds_for
from ._time import DAY, Duration, SimTime, Time, local
from ._yaml import field_path, read, validate

AgencyKind = Literal[
    "domestic-security", "foreign-intelligence", "sigint", "police", "military", "border",
    "assessment", "judicial", "diplomatic", "private",
]  # fmt: skip
_INTERDICTING = frozenset({"domestic-security", "police", "military", "border", "judicial"})

Capability = Literal["sigint", "surveillance", "border", "database", "humint"]
CAPABILITIES: tuple[Capability, ...] = ("sigint", "surveillance", "border", "database", "humint")
CAPABILITIES_BY_KIND: dict[str, tuple[Capability, ...]] = {
    "domestic-security": ("surveillance", "database", "humint"),
    "foreign-intelligence": ("humint", "database"),
    "sigint": ("sigint",),
    "police": ("surveillance", "database"),
    "military": ("sigint",),
    "border": ("border", "database"),
}
"""What an agency of each kind can collect unless it lists its own ``capabilities`` (an assumption,
docs/model.md §3.6); kinds not named here collect nothing."""

Facet = Literal["identity", "target", "timing"]
FACETS: tuple[Facet, ...] = ("identity", "target", "timing")
Outcome = Literal["disrupted", "partly-disrupted", "attack"]
ActorRole = Literal["operative", "facilitator", "vessel", "vehicle"]
CONVEYANCES: frozenset[str] = frozenset({"vessel", "vehicle"})
"""Roles that are intercepted (stopped on the move) rather than arrested."""

NOISE_PER_DAY_MAX = 1000.0
"""Most background leads per agency per day a scenario may ask for (beyond it a run only eats memory)."""
WATCHLIST_MAX = 100_000
"""Most watchlist files one agency may hold in a scenario."""


class AnswerTerms(Model):
    """How an agency answers requests from others (for information, or to act in its jurisdiction).

    An agency with no answer terms is one nobody asks on their own initiative: it takes no requests
    (a historical request to it is still sent, and stays unanswered)."""

    chance: Annotated[float, Field(ge=0, le=1)] = 1.0
    """Probability that it answers a given request at all (a seeded draw per run, request and recipient)."""
    delay: Duration = 0
    """From receiving a request to its answer."""
    cites: tuple[str, ...] = ()
    note: str = ""


class ForwardRule(Model):
    """Which received leads an agency passes on (onward release, decided by the gateway like its
    own leads): those from ``senders`` (any, if empty) holding an identifier of ``kinds`` (any, if
    empty), ``after`` it has read them. ORCON material is never forwarded, and a forwarded copy
    names its originator as third party, so a policy applying the third-party rule asks its consent."""

    senders: tuple[AgencyId, ...] = ()
    kinds: tuple[IdentifierKind, ...] = ()
    after: Duration = 0
    cites: tuple[str, ...] = ()
    note: str = ""


class HoldTime(Model):
    """How long acting on a case holds one surveillance slot: fixed, or drawn per seed from an
    exponential distribution with this mean (as Kaplan's terror-queues model assumes)."""

    mean: Duration
    dist: Literal["fixed", "exponential"] = "fixed"


class AgencyDefaults(Model):
    """Values every agency takes unless it sets its own."""

    triage_per_day: Annotated[float, Field(gt=0)] = 24.0
    processing: Duration = 2 * 3600
    action_delay: Duration = 6 * 3600
    act_threshold: Annotated[float, Field(ge=0, le=1)] = 0.5
    act_on: tuple[Facet, ...] = FACETS
    clearance: Level = "TOP SECRET"
    accreditations: tuple[Compartment, ...] = ()
    action_success: Annotated[float, Field(ge=0, le=1)] = 1.0
    search_success: Annotated[float, Field(ge=0, le=1)] = 0.0
    answers: AnswerTerms | None = None
    capabilities: tuple[Capability, ...] | None = None
    """What agencies can collect; None: by kind (:data:`CAPABILITIES_BY_KIND`)."""
    surveillance: Annotated[int, Field(ge=0, le=10_000)] = 0
    """Surveillance slots: selectors or people it can actively follow at once (0: it tasks nothing)."""
    tasking_time: Duration = 7 * DAY
    posture: Duration | None = None
    """How long following one tasked selector holds a slot."""
    task_threshold: Annotated[float, Field(ge=0, le=1)] = 0.3
    """Least case score at which it tasks collection on the case's selectors."""
    interdiction_time: Duration | HoldTime = 2 * DAY
    """How long acting on a case holds a slot (a duration, or ``{mean, dist: exponential}``)."""
    forward: ForwardRule | None = None
    """Which received leads it passes on (none: only its own leads and assessments leave it)."""
    alert: Duration | None = None
    """A standing alert: each tasking also flags its selector this long; an observation on a flagged
    selector that becomes collectable is followed up by the next free slot (none: no alerts)."""
    retask_rise: Annotated[float, Field(gt=0, le=1)] | None = None
    """Re-task a selector whose last watch is over when its case gains a facet or its score rises by
    at least this much since that tasking (none: each selector is tasked once)."""
    link_threshold: Annotated[float, Field(gt=0, le=1)] = 1.0
    watchlist: Annotated[int, Field(ge=0, le=WATCHLIST_MAX)] = 0
    alert_expiry: Duration | None = None
    triage_priority: Duration | None = None


class Agency(Model):
    """A simulated agency: where it can act, how fast it reads and acts."""

    id: AgencyId
    name: str
    country: Country
    kind: AgencyKind
    jurisdiction: tuple[Country, ...] = ()
    """Countries where an action by this agency counts; defaults to its own country."""
    interdicts: bool | None = None
    """Whether it acts itself (arrest, search, stop) rather than warn; defaults by kind."""
    triage_per_day: Annotated[float, Field(gt=0)] | None = None
    """Received leads its analysts can read per day."""
    processing: Duration | None = None
    """From observing something to publishing it as a lead."""
    action_delay: Duration | None = None
    """From an actionable case to the action."""
    act_threshold: Annotated[float, Field(ge=0, le=1)] | None = None
    act_on: tuple[Facet, ...] | None = None
    clearance: Level | None = None
    """The highest level its people may hold; the gateway never delivers anything above it."""
    accreditations: tuple[Compartment, ...] | None = None
    """Compartments (control systems) it is accredited for, e.g. ``SI``."""
    action_success: Annotated[float, Field(ge=0, le=1)] | None = None
    """Chance that an arrest or interception within its reach succeeds."""
    search_success: Annotated[float, Field(ge=0, le=1)] | None = None
    """Chance that an order finds a person within its reach whom its case does not place there (no
    report names him, or one of his numbers or accounts, at a place in the country he is in); it
    multiplies ``action_success``. Default 0: an order finds only the people its case places."""
    answers: AnswerTerms | None = None
    """How it answers requests for information and requests to act (default: takes none)."""
    capabilities: tuple[Capability, ...] | None = None
    """What it can collect when it tasks (default: by its kind)."""
    surveillance: Annotated[int, Field(ge=0, le=10_000)] | None = None
    """Surveillance slots: how many selectors or people it can actively follow at once."""
    tasking_time: Duration | None = None
    """How long following one tasked selector holds a slot."""
    posture: Duration | None = None
    """How long an order on a place in its jurisdiction keeps the place guarded when the case has no
    timing window (a raised posture); none: a place is guarded only for the case's windows."""
    task_threshold: Annotated[float, Field(ge=0, le=1)] | None = None
    """Least case score at which it tasks collection on the case's selectors."""
    interdiction_time: Duration | HoldTime | None = None
    """How long acting on a case holds a slot."""
    forward: ForwardRule | None = None
    """Which received leads it passes on to the gateway (none: only its own leads and assessments)."""
    alert: Duration | None = None
    """How long a tasking also leaves its selector flagged (a standing alert): an observation on it
    that becomes collectable meanwhile is followed up by the next free slot."""
    retask_rise: Annotated[float, Field(gt=0, le=1)] | None = None
    """Re-task a selector (after its last watch) when its case gains a facet or its score rises by
    at least this much."""
    link_threshold: Annotated[float, Field(gt=0, le=1)] | None = None
    """Weakest link its analysts accept between two leads, 0..1 (1: identical identifiers only;
    lower also links aliases, transliterations, reformatted numbers, partial names, co-travel)."""
    watchlist: Annotated[int, Field(ge=0, le=WATCHLIST_MAX)] | None = None
    """Background files it already holds (people, most of them innocent) that incoming leads can hit."""
    alert_expiry: Duration | None = None
    """A case no lead has refreshed for this long lapses: it is closed and never acted on."""
    triage_priority: Duration | None = None
    """How far ahead of earlier arrivals a lead of top priority may be read (none: first come, first
    served). Priority weighs grading, marking and whether the lead links to an open case."""
    counterfactual: bool = False
    """Did not exist (or not in this role) at the time; only present when a run enables it."""
    cites: tuple[str, ...] = ()
    note: str = ""


class ResolvedAgency(Model):
    """An agency with the scenario defaults applied: what services actually use."""

    id: AgencyId
    name: str
    country: Country
    kind: AgencyKind
    jurisdiction: tuple[Country, ...]
    interdicts: bool
    triage_per_day: float
    processing: int
    action_delay: int
    act_threshold: float
    act_on: tuple[Facet, ...]
    clearance: Level
    accreditations: tuple[str, ...]
    action_success: float
    search_success: float = 0.0
    answers: AnswerTerms | None = None
    link_threshold: float = 1.0
    watchlist: int = 0
    alert_expiry: int | None = None
    triage_priority: int | None = None
    counterfactual: bool
    capabilities: tuple[Capability, ...] = ()
    surveillance: int = 0
    tasking_time: int = 7 * DAY
    posture: int | None = None
    task_threshold: float = 0.3
    interdiction_time: HoldTime = HoldTime(mean=2 * DAY)
    alert: int | None = None
    retask_rise: float | None = None
    forward: ForwardRule | None = None


class Channel(Model):
    """A route that was used historically (the ``as-happened`` policy follows these)."""

    model_config = ConfigDict(populate_by_name=True)

    sender: AgencyId = Field(alias="from")
    recipient: AgencyId = Field(alias="to")
    delay: Duration = 0
    kinds: tuple[str, ...] | None = None
    """Only leads carrying one of these indicator kinds travel this channel (default: all)."""
    max_level: Level = "TOP SECRET"
    cites: tuple[str, ...] = ()
    note: str = ""


class Treaty(Model):
    """A sharing arrangement between two parties (agencies or countries; same twice = domestic)."""

    name: str
    between: Annotated[tuple[str, str], Field()]
    delay: Duration = 0
    max_level: Level = "SECRET"
    cites: tuple[str, ...] = ()
    note: str = ""


class Centre(Model):
    """A joint centre: its members see each other's leads at once (``fusion-centre``)."""

    name: str
    members: Annotated[tuple[AgencyId, ...], Field(min_length=2)]
    delay: Duration = 0
    counterfactual: bool = True
    cites: tuple[str, ...] = ()
    note: str = ""


class Noise(Model):
    """Background false leads each agency observes, competing for triage capacity."""

    model_config = ConfigDict(populate_by_name=True)

    per_day: Annotated[float, Field(ge=0, le=NOISE_PER_DAY_MAX)] = 0.0
    start: Time | None = Field(default=None, alias="from")
    end: Time | None = Field(default=None, alias="to")
    per_agency: dict[AgencyId, Annotated[float, Field(ge=0, le=NOISE_PER_DAY_MAX)]] = Field(
        default_factory=dict
    )
    lookalike: Annotated[float, Field(ge=0, le=1)] = 0.0
    """Chance that a background report borrows from the scenario's own leads: a name spelt another
    way, a namesake sharing a surname, or a place they name. Such reports can link to real leads
    (wrongly): the price of a permissive linker."""
    cites: tuple[str, ...] = ()
    note: str = ""


class Whereabouts(Model):
    """Where an actor is from a time on (until its next whereabouts): a country (for a vessel, the
    country whose waters it is in), and a place for people to read."""

    model_config = ConfigDict(populate_by_name=True)

    since: Time = Field(alias="from")
    country: Country = Field(alias="in")
    place: str = ""
    cites: tuple[str, ...] = ()


class Actor(Model):
    """Ground truth about one person or conveyance of the adversary: how agencies name it and where
    it is over time. Only the world reads it; agencies know only what their leads say."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    identifier: Identifier
    """The identifier an action must name to reach it."""
    role: ActorRole = "operative"
    whereabouts: Annotated[tuple[Whereabouts, ...], Field(min_length=1)]
    cites: tuple[str, ...] = ()

    def where(self, t: SimTime) -> Whereabouts | None:
        """Its whereabouts at ``t`` (None before the first one is known)."""
        found = None
        for w in self.whereabouts:
            if w.since <= t:
                found = w
        return found


class Plot(Model):
    """The adversary's side: who, where, when, and what it takes to disrupt it."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: str
    attack_at: Time
    place: str
    jurisdiction: Annotated[tuple[Country, ...], Field(min_length=1)]
    """Countries where an action can disrupt it."""
    entities: Annotated[tuple[Identifier, ...], Field(min_length=1)]
    """Ground truth: the identifiers that belong to the plot."""
    needs: tuple[Facet, ...] = ("identity", "target")
    """For a plot without ``team`` or ``approach``: what an acting agency's case must hold about
    this plot for its action to disrupt it."""
    team: tuple[str, ...] = ()
    """Actor ids of the operatives who carry out the attack."""
    approach: tuple[str, ...] = ()
    """Actor ids of the conveyances that bring them: intercepting one before the attack stops it."""
    disrupt_at: Annotated[int, Field(ge=1)] | None = None
    """Operatives removed before the attack for it to count as disrupted (default: the whole team);
    fewer than that, but at least one, is a partial disruption."""
    cites: tuple[str, ...] = ()

    @property
    def judged_by_actors(self) -> bool:
        """Whether the world's arrests and interceptions decide this plot (else: the case rule)."""
        return bool(self.team or self.approach)

    @property
    def enough(self) -> int:
        return self.disrupt_at if self.disrupt_at is not None else len(self.team)


class HistoricalRelease(Model):
    """A release of this inject's lead that happened historically."""

    to: AgencyId
    after: Duration = 0
    cites: tuple[str, ...] = ()


class InjectLead(Model):
    """The lead an inject yields; id, origin and time come from the inject."""

    identifiers: tuple[Identifier, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    marking: Marking = Marking()
    caveats: Caveats = Caveats()
    tlp: TLP = "AMBER"
    grading: GradingField = "C3"  # type: ignore[assignment]
    source: Source = Source()
    summary: str = ""
    detail: str = ""
    named_recipients: tuple[AgencyId, ...] = ()

    def as_lead(self, id: str, origin: str, at: SimTime, what: str, cites: tuple[str, ...]) -> Lead:
        """The lead this body becomes for ``origin`` at ``at`` (``what`` stands in for an empty
        summary or detail)."""
        return Lead(
            id=id,
            origin=origin,
            observed_at=at,
            identifiers=self.identifiers,
            indicators=self.indicators,
            marking=self.marking,
            caveats=self.caveats,
            tlp=self.tlp,
            grading=self.grading,
            source=self.source,
            summary=self.summary or what,
            detail=self.detail or what,
            named_recipients=self.named_recipients,
            cites=cites,
        )


class Uncertainty(Model):
    """What the record leaves open about an inject; each run's seed draws it."""

    until: Time | None = None
    """The inject happens at a time drawn uniformly (to the minute) between its ``at`` and this."""
    chance: Annotated[float, Field(ge=0, le=1)] = 1.0
    """Probability that it happens at all in a run (for a disputed or uncertain fact)."""
    cites: tuple[str, ...] = ()
    note: str = ""


class Inject(Model):
    """One line of the master events list: at this time, this agency observes this."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    at: Time
    observer: AgencyId
    what: str
    """One line for timelines: what the observer learns."""
    lead: InjectLead
    cites: tuple[str, ...] = ()
    disputed: bool = False
    as_happened: tuple[HistoricalRelease, ...] = ()
    uncertain: Uncertainty | None = None
    """A date window or a chance of happening, drawn per seed (see :meth:`RunConfig.injects`)."""
    processing: Duration | None = None
    """From this observation to its lead's publication, where the record gives this material a delay
    of its own (a live bug heard at once, collection left unread); none: the observer's ``processing``."""
    checks: tuple[str, ...] = ()
    """Registries (by id) the observer checks this lead's identifiers against when it observes it
    (a border or roadside check); a hit gives it the entry and reports back to the entry's owner."""


class HistoricalRequest(Model):
    """A request one agency made of another on the record: injected at its time, from its sender."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    at: Time
    sender: AgencyId
    recipient: AgencyId
    about: Annotated[tuple[Identifier, ...], Field(min_length=1)]
    """The selectors it asks about (or, with ``act``, on which it asks the recipient to act)."""
    what: str
    """One line for timelines: what was asked."""
    act: bool = False
    """A request to act (arrest, search, stop) in the recipient's jurisdiction, not for information."""
    cites: tuple[str, ...] = ()
    note: str = ""


class Latent(Model):
    """Something that was collectable but not collected: an agency reveals it by tasking its
    selector (with the capability, inside the window), or finds it by random search."""

    model_config = ConfigDict(populate_by_name=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    what: str
    """One line for timelines: what collection reveals."""
    selector: Identifier | None = None
    """What reveals it when an agency tasks it; None: found only by random search."""
    capability: Capability
    by: tuple[AgencyId, ...] = ()
    """Only these agencies can collect it (default: any with the capability)."""
    start: Time = Field(alias="from")
    end: Time = Field(alias="to")
    """Collectable from ``from`` to ``to``."""
    delay: Duration = 0
    """From collection (a tasking, or a find) to the lead; the find holds its slot this long."""
    chance: Annotated[float, Field(ge=0, le=1)] = 1.0
    """Probability that one tasking on the selector reveals it."""
    search_rate: Annotated[float, Field(ge=0, le=1000)] = 0.0
    """Finds per day per free surveillance slot without a selector (random search)."""
    lead: InjectLead
    cites: tuple[str, ...] = ()
    note: str = ""


class RegistryEntry(Model):
    """One entry in a registry: who entered it, on what, and whether it flags terrorism."""

    at: Time
    owner: AgencyId
    """The agency that entered it (and receives the hit reports)."""
    identifier: Identifier
    """What a check must hold to hit it (a person, a passport, a vehicle)."""
    terrorism: bool = False
    """Whether the entry carries a terrorism marker (else it reads as routine: a discreet check, an
    ordinary-crime entry)."""
    what: str
    """One line: what the entry says."""
    cites: tuple[str, ...] = ()
    note: str = ""


class Registry(Model):
    """A hit-based database its members check (e.g. the Schengen Information System): a check that
    holds an entry's identifier hits it; the checker receives the entry as a lead at once, and the
    entry's owner a hit report after ``report_delay``."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    name: str
    members: tuple[AgencyId, ...]
    """Agencies whose checks query it."""
    report_delay: Duration = 0
    """From a hit to the hit report reaching the entry's owner."""
    entries: tuple[RegistryEntry, ...] = ()
    cites: tuple[str, ...] = ()
    note: str = ""


class Expectation(Model):
    """What ``tearline check`` asserts for one policy (never used to decide anything)."""

    policy: str
    seed: int = 1
    outcomes: dict[str, Outcome]
    min_warning: Duration | None = None
    """For disrupted plots: at least this much warning before the attack."""
    exclude_disputed: bool = False
    enable: tuple[AgencyId, ...] = ()


class Scenario(Model):
    """A whole scenario file."""

    model_config = ConfigDict(populate_by_name=True)

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    title: str
    description: str
    fictional: Annotated[str | None, Field(min_length=10, exclude=True)] = None
    """Why the scenario describes no real event (one line). A fictional scenario need cite nothing:
    its injects and plots may leave ``cites`` out. Kept out of the run id, so it never changes a record."""
    start: Time
    end: Time | None = None
    transit: Duration = 1800
    """Least time any message takes between two services (also the clock's step)."""
    timezone: Annotated[str, Field(pattern=r"^[+-]\d{2}:\d{2}$")] = "+00:00"
    """UTC offset in which timelines are shown to people (records stay in UTC)."""
    defaults: AgencyDefaults = AgencyDefaults()
    agencies: Annotated[tuple[Agency, ...], Field(min_length=2)]
    channels: tuple[Channel, ...] = ()
    treaties: tuple[Treaty, ...] = ()
    centres: tuple[Centre, ...] = ()
    noise: Noise = Noise()
    actors: tuple[Actor, ...] = ()
    """People and conveyances of the adversary with their whereabouts (ground truth, world only)."""
    plots: Annotated[tuple[Plot, ...], Field(min_length=1)]
    injects: tuple[Inject, ...] = ()
    """What agencies observe, when (a scenario needs injects, latent observations, or both)."""
    requests: tuple[HistoricalRequest, ...] = ()
    """Requests between agencies on the record (for information, or to act), sent at their time."""
    latent: tuple[Latent, ...] = ()
    """Observations that were collectable but not collected (world only, until tasking reveals one)."""
    registries: tuple[Registry, ...] = ()
    """Hit-based databases agencies check (entries, who checks them); checked by injects' ``checks``."""
    consent: ConsentTerms | None = None
    clearance: ClearanceTerms = Field(default_factory=lambda: ClearanceTerms())
    """What the gateway does with a release above the recipient's clearance (whatever the policy)."""
    expect: tuple[Expectation, ...] = ()

    @model_validator(mode="after")
    def _positive_transit(self) -> Scenario:
        if self.transit < 60:
            raise ValueError("transit must be at least 1m")
        if not self.injects and not self.latent:
            raise ValueError("a scenario needs at least one inject or latent observation")
        return self

    def local(self, t: SimTime) -> str:
        """A sim time as people in the scenario's time zone read it."""
        return local(t, self.timezone)

    @cached_property
    def horizon(self) -> SimTime:
        """When the run stops: ``end``, or a day after the last attack."""
        return self.end if self.end is not None else max(p.attack_at for p in self.plots) + DAY

    @cached_property
    def resolved(self) -> dict[str, ResolvedAgency]:
        d = self.defaults
        out = {}
        for a in self.agencies:
            out[a.id] = ResolvedAgency(
                id=a.id,
                name=a.name,
                country=a.country,
                kind=a.kind,
                jurisdiction=a.jurisdiction or (a.country,),
                interdicts=a.interdicts if a.interdicts is not None else a.kind in _INTERDICTING,
                triage_per_day=a.triage_per_day or d.triage_per_day,
                processing=a.processing if a.processing is not None else d.processing,
                action_delay=a.action_delay if a.action_delay is not None else d.action_delay,
                act_threshold=a.act_threshold if a.act_threshold is not None else d.act_threshold,
                act_on=a.act_on or d.act_on,
                clearance=a.clearance or d.clearance,
                accreditations=a.accreditations if a.accreditations is not None else d.accreditations,
                action_success=a.action_success if a.action_success is not None else d.action_success,
                search_success=a.search_success if a.search_success is not None else d.search_success,
                answers=a.answers if a.answers is not None else d.answers,
                link_threshold=a.link_threshold if a.link_threshold is not None else d.link_threshold,
                watchlist=a.watchlist if a.watchlist is not None else d.watchlist,
                alert_expiry=a.alert_expiry if a.alert_expiry is not None else d.alert_expiry,
                triage_priority=a.triage_priority if a.triage_priority is not None else d.triage_priority,
                counterfactual=a.counterfactual,
                capabilities=_capabilities(a, d),
                surveillance=a.surveillance if a.surveillance is not None else d.surveillance,
                tasking_time=a.tasking_time if a.tasking_time is not None else d.tasking_time,
                posture=a.posture if a.posture is not None else d.posture,
                task_threshold=a.task_threshold if a.task_threshold is not None else d.task_threshold,
                interdiction_time=_hold_time(
                    a.interdiction_time if a.interdiction_time is not None else d.interdiction_time
                ),
                alert=a.alert if a.alert is not None else d.alert,
                forward=a.forward if a.forward is not None else d.forward,
                retask_rise=a.retask_rise if a.retask_rise is not None else d.retask_rise,
            )
        return out

    def active_agencies(self, enable: frozenset[str] = frozenset()) -> tuple[ResolvedAgency, ...]:
        """Agencies taking part: the historical ones plus any counterfactual ones enabled."""
        return tuple(a for a in self.resolved.values() if not a.counterfactual or a.id in enable)

    def lead_of(self, inject: Inject) -> Lead:
        """The lead an inject yields, owned by its observer."""
        return inject.lead.as_lead(inject.id, inject.observer, inject.at, inject.what, inject.cites)

    def latent_lead(self, latent: Latent, agency: str, at: SimTime) -> Lead:
        """The lead a latent observation becomes once ``agency`` collects it at ``at``."""
        return latent.lead.as_lead(f"{latent.id}-{agency.lower()}", agency, at, latent.what, latent.cites)

    @cached_property
    def actor(self) -> dict[str, Actor]:
        return {a.id: a for a in self.actors}

    def inject(self, inject_id: str) -> Inject | None:
        return self._injects_by_id.get(inject_id)

    @cached_property
    def _injects_by_id(self) -> dict[str, Inject]:
        return {i.id: i for i in self.injects}


def _capabilities(a: Agency, d: AgencyDefaults) -> tuple[Capability, ...]:
    chosen = a.capabilities if a.capabilities is not None else d.capabilities
    return chosen if chosen is not None else CAPABILITIES_BY_KIND.get(a.kind, ())


def _hold_time(value: int | HoldTime) -> HoldTime:
    return value if isinstance(value, HoldTime) else HoldTime(mean=value)


class ConsentTerms(Model):
    """How originators answer consent requests (third-party rule)."""

    delay: Duration = DAY
    refusal: Annotated[float, Field(ge=0, le=1)] = 0.2
    cites: tuple[str, ...] = ()
    note: str = ""


class ClearanceTerms(Model):
    """The clearance floor under every policy: a release the recipient may not hold becomes a
    tearline written down to its clearance (without source, method or compartments), or is withheld."""

    above: Literal["tearline", "withhold"] = "tearline"
    delay: Duration = 0
    """Time to write the tearline (added to the policy's delay)."""
    cites: tuple[str, ...] = ()
    note: str = ""


Scenario.model_rebuild()


def _reference_problems(
    s: Scenario, facts: dict[str, Fact] | None
) -> Iterator[tuple[tuple[int | str, ...], str]]:
    """Cross-field checks pydantic cannot do: references, times, citations."""
    ids = [a.id for a in s.agencies]
    known = set(ids)
    countries = {a.country for a in s.agencies}
    hint = ", ".join(sorted(known))
    for i, a in enumerate(s.agencies):
        if ids.index(a.id) != i:
            yield ("agencies", i, "id"), f"duplicate agency id {a.id!r}"

    def agency(loc: tuple[int | str, ...], value: str) -> Iterator[tuple[tuple[int | str, ...], str]]:
        if value not in known:
            yield loc, f"unknown agency {value!r} (this scenario has: {hint})"

    def cited(
        loc: tuple[int | str, ...], cites: tuple[str, ...], required: bool
    ) -> Iterator[tuple[tuple[int | str, ...], str]]:
        if required and not cites:
            yield (
                loc,
                (
                    "missing citation: cite at least one fact id from seeds/ (see seeds/README.md), "
                    "or mark the scenario 'fictional: <why>'"
                ),
            )
        if facts is not None:
            for j, fact_id in enumerate(cites):
                if fact_id not in facts:
                    yield (*loc, j), f"cites unknown fact {fact_id!r}; no seeds/*.yaml defines it"

    for i, a in enumerate(s.agencies):
        yield from cited(("agencies", i, "cites"), a.cites, False)
    for i, ch in enumerate(s.channels):
        yield from agency(("channels", i, "from"), ch.sender)
        yield from agency(("channels", i, "to"), ch.recipient)
        yield from cited(("channels", i, "cites"), ch.cites, False)
    for i, t in enumerate(s.treaties):
        for j, party in enumerate(t.between):
            if party not in known and party not in countries:
                yield (
                    ("treaties", i, "between", j),
                    (f"{party!r} is neither an agency nor a country of this scenario"),
                )
        yield from cited(("treaties", i, "cites"), t.cites, False)
    for i, c in enumerate(s.centres):
        for j, member in enumerate(c.members):
            yield from agency(("centres", i, "members", j), member)
        yield from cited(("centres", i, "cites"), c.cites, False)
    for agency_id in s.noise.per_agency:
        yield from agency(("noise", "per_agency", agency_id), agency_id)
    registry_ids = [x.id for x in s.registries]
    for i, registry in enumerate(s.registries):
        if registry_ids.index(registry.id) != i:
            yield ("registries", i, "id"), f"duplicate registry id {registry.id!r}"
        for j, member in enumerate(registry.members):
            yield from agency(("registries", i, "members", j), member)
        yield from cited(("registries", i, "cites"), registry.cites, False)
        for j, entry in enumerate(registry.entries):
            yield from agency(("registries", i, "entries", j, "owner"), entry.owner)
            yield from cited(("registries", i, "entries", j, "cites"), entry.cites, s.fictional is None)
    for i, inj in enumerate(s.injects):
        for j, name in enumerate(inj.checks):
            reg = next((x for x in s.registries if x.id == name), None)
            if reg is None:
                yield (
                    ("injects", i, "checks", j),
                    f"unknown registry {name!r} (this scenario has: {', '.join(registry_ids) or 'none'})",
                )
            elif inj.observer not in reg.members:
                yield ("injects", i, "checks", j), f"{inj.observer} is not a member of registry {name!r}"
    actor_ids = [a.id for a in s.actors]
    for i, actor in enumerate(s.actors):
        if actor_ids.index(actor.id) != i:
            yield ("actors", i, "id"), f"duplicate actor id {actor.id!r}"
        times = [w.since for w in actor.whereabouts]
        if times != sorted(times):
            yield ("actors", i, "whereabouts"), "whereabouts are not in time order"
        yield from cited(("actors", i, "cites"), actor.cites, s.fictional is None)
        for j, w in enumerate(actor.whereabouts):
            yield from cited(("actors", i, "whereabouts", j, "cites"), w.cites, False)
    plot_ids = [p.id for p in s.plots]
    for i, p in enumerate(s.plots):
        for field in ("team", "approach"):
            for j, actor_id in enumerate(getattr(p, field)):
                if actor_id not in s.actor:
                    yield ("plots", i, field, j), f"unknown actor {actor_id!r} (define it under actors)"
                elif (s.actor[actor_id].role in CONVEYANCES) != (field == "approach"):
                    yield (
                        ("plots", i, field, j),
                        f"actor {actor_id!r} is a {s.actor[actor_id].role}: "
                        + (
                            "conveyances go under approach" if field == "team" else "only conveyances go here"
                        ),
                    )
        if p.disrupt_at is not None and p.disrupt_at > len(p.team):
            yield ("plots", i, "disrupt_at"), f"more than the team's {len(p.team)} operatives"
        if plot_ids.index(p.id) != i:
            yield ("plots", i, "id"), f"duplicate plot id {p.id!r}"
        if p.attack_at <= s.start:
            yield ("plots", i, "attack_at"), "the attack is at or before the scenario start"
        yield from cited(("plots", i, "cites"), p.cites, s.fictional is None)
    inject_ids = [inj.id for inj in s.injects]
    for i, inj in enumerate(s.injects):
        if inject_ids.index(inj.id) != i:
            yield ("injects", i, "id"), f"duplicate inject id {inj.id!r}"
        if inj.at < s.start:
            yield ("injects", i, "at"), "inject is before the scenario start; move it or move 'start'"
        if inj.at > s.horizon:
            yield ("injects", i, "at"), "inject is after the scenario end"
        if inj.uncertain is not None and inj.uncertain.until is not None:
            if inj.uncertain.until <= inj.at:
                yield ("injects", i, "uncertain", "until"), "the window ends at or before the inject's 'at'"
            elif inj.uncertain.until > s.horizon:
                yield ("injects", i, "uncertain", "until"), "the window ends after the scenario end"
        if inj.uncertain is not None:
            yield from cited(("injects", i, "uncertain", "cites"), inj.uncertain.cites, False)
        yield from agency(("injects", i, "observer"), inj.observer)
        for j, r in enumerate(inj.lead.named_recipients):
            yield from agency(("injects", i, "lead", "named_recipients", j), r)
        for j, h in enumerate(inj.as_happened):
            yield from agency(("injects", i, "as_happened", j, "to"), h.to)
            yield from cited(("injects", i, "as_happened", j, "cites"), h.cites, False)
        yield from cited(("injects", i, "cites"), inj.cites, s.fictional is None)
    request_ids = [r.id for r in s.requests]
    for i, req in enumerate(s.requests):
        if request_ids.index(req.id) != i or req.id in inject_ids:
            yield ("requests", i, "id"), f"duplicate id {req.id!r} (requests and injects share one id space)"
        yield from agency(("requests", i, "sender"), req.sender)
        yield from agency(("requests", i, "recipient"), req.recipient)
        if req.sender == req.recipient:
            yield ("requests", i, "recipient"), "an agency does not send a request to itself"
        if req.at < s.start:
            yield ("requests", i, "at"), "request is before the scenario start; move it or move 'start'"
        if req.at > s.horizon:
            yield ("requests", i, "at"), "request is after the scenario end"
        yield from cited(("requests", i, "cites"), req.cites, s.fictional is None)
    if s.defaults.answers is not None:
        yield from cited(("defaults", "answers", "cites"), s.defaults.answers.cites, False)
    for i, a in enumerate(s.agencies):
        if a.answers is not None:
            yield from cited(("agencies", i, "answers", "cites"), a.answers.cites, False)
    for i, lat in enumerate(s.latent):
        if lat.id in inject_ids or [x.id for x in s.latent].index(lat.id) != i:
            yield ("latent", i, "id"), f"duplicate id {lat.id!r} (latent observations and injects share ids)"
        if lat.end <= lat.start:
            yield ("latent", i, "to"), "the window ends at or before its 'from'"
        if lat.selector is None and lat.search_rate <= 0:
            yield ("latent", i, "selector"), "neither a selector nor a search_rate: nothing can reveal it"
        for j, agency_id in enumerate(lat.by):
            yield from agency(("latent", i, "by", j), agency_id)
        for j, r in enumerate(lat.lead.named_recipients):
            yield from agency(("latent", i, "lead", "named_recipients", j), r)
        yield from cited(("latent", i, "cites"), lat.cites, s.fictional is None)
    for i, e in enumerate(s.expect):
        for plot_id in e.outcomes:
            if plot_id not in plot_ids:
                yield ("expect", i, "outcomes", plot_id), f"unknown plot {plot_id!r}"
        for j, agency_id in enumerate(e.enable):
            yield from agency(("expect", i, "enable", j), agency_id)


def load_scenario(path: Path, seeds_dir: Path | None = None) -> Scenario:
    """Load and check a scenario file. Raises ScenarioError naming file, field and reason."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), [Problem("(file)", "no such scenario file")])
    data, locate = read(path)
    scenario = validate(Scenario, data, path, locate)
    seeds = seeds_dir or seeds_for(path)
    if seeds_dir is not None and not seeds_dir.is_dir():
        raise ScenarioError(str(seeds_dir), [Problem("(seeds)", "no such seeds folder")])
    facts = load_facts(seeds) if seeds is not None else None
    problems = [
        Problem(field_path(loc), reason, locate(loc)) for loc, reason in _reference_problems(scenario, facts)
    ]
    if facts is None and scenario.fictional is None:
        problems.append(
            Problem(
                "(file)", "no seeds/ folder found above the scenario to check citations; pass --seeds DIR"
            )
        )
    if problems:
        raise ScenarioError(str(path), problems)
    disputed = disputed_injects(scenario, facts or {})
    return scenario.model_copy(
        update={
            "injects": tuple(i.model_copy(update={"disputed": i.id in disputed}) for i in scenario.injects)
        }
    )


def disputed_injects(scenario: Scenario, facts: dict[str, Fact]) -> frozenset[str]:
    """Injects flagged disputed, or citing a fact the digest marks disputed."""
    return frozenset(
        i.id for i in scenario.injects if i.disputed or any(facts[c].disputed for c in i.cites if c in facts)
    )
