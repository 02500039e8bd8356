"""The run record: every event of a run, canonically serialised; its SHA-256 is the digest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from ._base import Model
from ._decision import Action
from ._lead import AgencyId, Country
from ._messages import DeskAction
from ._scenario import Facet, Outcome
from ._time import Time

WORLD = "WORLD"
"""The world's name: it records injects and signs the observations it delivers."""
GATEWAY = "GATEWAY"
"""The release gateway's name: it records every sharing decision and signs the released copies."""


class _Event(Model):
    at: Time
    by: str
    """The service that recorded it: an agency id, :data:`GATEWAY` or :data:`WORLD`."""
    seq: int
    """The recording service's own sequence number (its outputs, in order)."""


class InjectEvent(_Event):
    kind: Literal["inject"] = "inject"
    inject: str
    observer: AgencyId
    lead: str
    what: str
    noise: bool = False
    disputed: bool = False


class PublishEvent(_Event):
    kind: Literal["publish"] = "publish"
    agency: AgencyId
    lead: str
    assessment: bool = False
    """True for a lead the agency derived from a case (a warning to others)."""


class DecisionEvent(_Event):
    kind: Literal["decision"] = "decision"
    lead: str
    sender: AgencyId
    recipient: AgencyId
    action: Action
    rule: str
    reason: str
    delay: int = 0
    transforms: tuple[str, ...] = ()
    trail: tuple[str, ...] = ()
    deliver_at: Time | None = None
    exposure: float = 0.0
    """Cost of exposing the source to the recipient (sensitivity weight, 0 if sanitised)."""


class ConsentEvent(_Event):
    kind: Literal["consent"] = "consent"
    lead: str
    sender: AgencyId
    recipient: AgencyId
    originator: AgencyId
    step: Literal["request", "grant", "refuse"]


class DeliveryEvent(_Event):
    kind: Literal["delivery"] = "delivery"
    agency: AgencyId
    lead: str
    sender: AgencyId
    backlog: int
    """Leads waiting for triage at this agency, including this one."""


class TriageEvent(_Event):
    kind: Literal["triage"] = "triage"
    agency: AgencyId
    lead: str
    waited: int
    """Seconds between delivery and an analyst reading it."""


class CaseEvent(_Event):
    kind: Literal["case"] = "case"
    agency: AgencyId
    case: str
    leads: tuple[str, ...]
    identifiers: tuple[str, ...]
    timing: tuple[tuple[int, int], ...] = ()
    """Windows of the case's timing indicators, as (from, to) sim times."""
    facets: tuple[Facet, ...]
    score: float
    actionable: bool


class LinkEvent(_Event):
    """A lead linked to another lead (or to a watchlist file) by less than an identical identifier,
    or to a watchlist file at all: what joined them and how strongly (docs/model.md §3.4)."""

    kind: Literal["link"] = "link"
    agency: AgencyId
    lead: str
    other: str
    strength: float
    why: str
    """The kind of link: spelling, transliteration, document, number-suffix, surname, co-travel, …"""
    left: str = ""
    right: str = ""
    """The two identifier keys (or the country, for co-travel) that made the link."""
    watchlist: bool = False
    """The other end is a file of the agency's watchlist."""


class ExpiryEvent(_Event):
    """A case no lead refreshed within the agency's ``alert_expiry``: closed, never acted on."""

    kind: Literal["expiry"] = "expiry"
    agency: AgencyId
    case: str
    leads: tuple[str, ...]
    refreshed: Time
    """When a lead last joined it."""


class ForwardEvent(_Event):
    """An agency passes on a lead it received (its forwarding rule): ``lead`` is the forwarded copy
    it publishes (itself as sender, the originator listed as third party), ``received`` the lead it
    read, from ``sender``."""

    kind: Literal["forward"] = "forward"
    agency: AgencyId
    lead: str
    received: str
    sender: AgencyId
    originator: AgencyId


class RegistryEvent(_Event):
    """A check against a registry (e.g. the Schengen Information System): ``entered`` (an entry on
    ``identifier`` by ``owner``, with or without a terrorism marker), ``hit`` (a check by ``agency``
    matched it; the checker receives the entry as lead ``lead``), ``reported`` (the hit report reaches
    the entry's owner as lead ``lead``)."""

    kind: Literal["registry"] = "registry"
    registry: str
    step: Literal["entered", "hit", "reported"]
    identifier: str
    owner: AgencyId
    terrorism: bool = False
    agency: AgencyId | None = None
    inject: str | None = None
    lead: str | None = None


class ActionEvent(_Event):
    kind: Literal["action"] = "action"
    agency: AgencyId
    case: str
    action: Literal["interdict", "warn"]
    identifiers: tuple[str, ...]
    timing: tuple[tuple[int, int], ...] = ()
    score: float
    lead: str | None = None
    """For a warning: the assessment lead published."""


EffectResult = Literal["arrested", "intercepted", "failed", "out-of-reach", "no-window", "unplaced"]


class EffectEvent(_Event):
    """What an action did in the world: who it reached, where they were, and whether it worked."""

    kind: Literal["effect"] = "effect"
    agency: AgencyId
    case: str
    actor: str
    result: EffectResult
    where: str | None = None
    """The actor's country at the time (None when unknown)."""
    chance: float = 1.0
    """The success probability drawn against (for arrests and interceptions within reach)."""
    placed: tuple[Country, ...] = ()
    """For a person: the countries where the acting case placed him (a report naming him, or one of
    his numbers or accounts, at a place there); an order finds him only in one of them."""


class ProtectionEvent(_Event):
    """A place an order guards, and for how long: the case's timing window, or the agency's raised
    ``posture`` when the case has none."""

    kind: Literal["protection"] = "protection"
    agency: AgencyId
    case: str
    place: str
    """The place's identifier key (``venue:…``, ``address:…``)."""
    start: Time
    end: Time


RequestStep = Literal["sent", "answered", "declined"]


class RequestEvent(_Event):
    """A request between agencies: sent (by its sender), answered (by its recipient, with what it
    offers), or declined (by the recipient, which cannot act, or by the gateway, whose policy
    withholds all it would carry). A request with no answer by the end of the run is unanswered."""

    kind: Literal["request"] = "request"
    request: str
    sender: AgencyId
    recipient: AgencyId
    step: RequestStep
    act: bool = False
    about: tuple[str, ...] = ()
    """Identifier keys asked about."""
    leads: tuple[str, ...] = ()
    """For an answer: the leads offered (each then decided by the policy)."""
    reason: str = ""
    what: str = ""


TaskingStep = Literal[
    "task", "start", "revealed", "nothing", "found", "hold", "alert", "hit", "follow", "lapsed"
]


class TaskingEvent(_Event):
    """Collection work and the surveillance slots it holds.

    ``task``: an agency tasks a selector of a case (recorded by the agency). The rest are recorded
    by the world: ``start`` (a slot takes the tasking), ``revealed`` (a latent observation becomes
    the agency's lead), ``nothing`` (the tasking ends having revealed nothing), ``found`` (random
    search by a free slot finds a latent observation), ``hold`` (an interdiction holds a slot).
    Standing alerts: ``alert`` (a tasking flags its selector ``until`` the alert expires), ``hit``
    (an observation on a flagged selector becomes collectable and waits for a slot), ``follow`` (a
    slot follows the hit up ``until`` the lead, collecting it), ``lapsed`` (no slot was free before
    the alert expired or the observation stopped being collectable); ``nothing`` after a hit names
    its ``latent`` (the draw found nothing)."""

    kind: Literal["tasking"] = "tasking"
    agency: AgencyId
    step: TaskingStep
    case: str | None = None
    selector: str | None = None
    latent: str | None = None
    lead: str | None = None
    """For ``revealed`` and ``found``: the lead the agency receives."""
    busy: int = 0
    """Slots of the agency busy after this step."""
    until: Time | None = None
    """For ``start`` and ``hold``: when the slot is free again."""


class OutcomeEvent(_Event):
    kind: Literal["outcome"] = "outcome"
    plot: str
    result: Outcome
    disrupted_by: AgencyId | None = None
    disrupted_at: Time | None = None
    warning: int | None = None
    """Seconds between the disrupting action and the attack time."""
    detected_by: AgencyId | None = None
    detected_at: Time | None = None
    """First time any agency's case held what the plot's ``needs`` ask for."""
    removed: tuple[str, ...] = ()
    """Actors of the plot arrested or intercepted before the attack."""
    protected: tuple[str, ...] = ()
    """The plot's places (identifier keys) guarded when the attack came."""


class DeskEvent(_Event):
    """A player's decision at an agency's desk in a live exercise (recorded by that agency)."""

    kind: Literal["desk"] = "desk"
    agency: AgencyId
    lead: str
    action: DeskAction
    counterpart: AgencyId
    note: str = ""
    held: bool = True
    """False when the agency did not hold the lead (nothing was released)."""


class NoteEvent(_Event):
    """A facilitator's note in a live exercise (recorded by the world)."""

    kind: Literal["note"] = "note"
    text: str


class PolicyEvent(_Event):
    """The gateway adopts another sharing policy mid-exercise ("what if they shared now?")."""

    kind: Literal["policy"] = "policy"
    policy: str
    previous: str


Event = Annotated[
    InjectEvent
    | PublishEvent
    | DecisionEvent
    | ConsentEvent
    | DeliveryEvent
    | TriageEvent
    | CaseEvent
    | ActionEvent
    | OutcomeEvent
    | DeskEvent
    | NoteEvent
    | PolicyEvent
    | EffectEvent
    | ProtectionEvent
    | RequestEvent
    | TaskingEvent
    | LinkEvent
    | ExpiryEvent
    | ForwardEvent
    | RegistryEvent,
    Field(discriminator="kind"),
]
EVENT = TypeAdapter(Event)


def record_order(e: Event) -> tuple[int, str, int]:
    """The record's canonical order, as a sort key: time, then recording service, then that
    service's sequence number."""
    return (e.at, e.by, e.seq)


def canonical_line(e: Event) -> bytes:
    """One event as compact JSON (field order fixed by the model), newline-terminated.

    Written by the event's own class's serialiser: the same bytes as through :data:`EVENT`, without
    first finding which member of the union the event is."""
    return e.__pydantic_serializer__.to_json(e, by_alias=True) + b"\n"


def canonical(events: Iterable[Event], *, ordered: bool = False) -> bytes:
    """The whole record, sorted canonically (``ordered``: ``events`` already are)."""
    return b"".join(canonical_line(e) for e in (events if ordered else sorted(events, key=record_order)))


def digest(record: bytes) -> str:
    return hashlib.sha256(record).hexdigest()
