"""Bodies of the messages services exchange (inside a signed envelope)."""

from __future__ import annotations

from typing import Literal

from ._base import Model
from ._lead import AgencyId, Country, Identifier, Lead


class Observation(Model):
    """The world tells an agency what it observes (a scenario inject or background noise)."""

    lead: Lead
    inject: str
    what: str
    noise: bool = False
    disputed: bool = False
    processing: int | None = None
    """Seconds from observing to publishing, where the inject sets its own (else the observer's)."""


class Provenance(Model):
    """The originator's signature on the message that carried the original lead.

    The gateway's transforms change a released copy, so the copy cannot carry a signature over
    itself by its originator; it carries this instead: the SHA-256 of the originator's signed
    message and the originator's signature over it (base64), which anyone with the key registry
    can check."""

    origin: AgencyId
    digest: str
    signature: str


class Release(Model):
    """The gateway delivers a (possibly sanitised) copy of a lead to one named recipient."""

    lead: Lead
    sender: AgencyId
    rule: str
    recipient: AgencyId
    provenance: Provenance | None = None


class ConsentRequest(Model):
    """The gateway asks an originator whether a lead containing its material may go on."""

    lead: str
    sender: AgencyId
    recipient: AgencyId


class ConsentAnswer(Model):
    """The originator's answer."""

    lead: str
    sender: AgencyId
    recipient: AgencyId
    answer: Literal["grant", "refuse"]


DeskAction = Literal["release", "withhold", "request"]


class DeskDecision(Model):
    """A player's decision at an agency's desk in a live exercise, carried by the world to that agency.

    ``release``/``withhold``: the agency's own choice about one of its holdings and one recipient
    (``counterpart``); ``request``: it asks ``counterpart`` for what it has that bears on one of its
    holdings."""

    agency: AgencyId
    lead: str
    action: DeskAction
    counterpart: AgencyId
    note: str = ""


class Share(Model):
    """An agency tells the gateway to release one of its holdings to a recipient (a desk's decision)."""

    lead: Lead
    recipient: AgencyId


class PolicyChange(Model):
    """The facilitator tells the gateway to decide by another policy from now on (a live exercise),
    carried by the world from the driver's process."""

    policy: str
    previous: str


class ActionOrder(Model):
    """An agency tells the world it arrests or intercepts whoever its case names (the world checks
    reach and draws success)."""

    agency: AgencyId
    case: str
    identifiers: tuple[str, ...]
    """Identifier keys (``kind:value``) the case holds."""
    timing: tuple[tuple[int, int], ...] = ()
    placed: tuple[tuple[str, tuple[Country, ...]], ...] = ()
    """Per person the case names (identifier key), the countries where it places him."""
    guard: tuple[str, ...] = ()
    """Places of the case (identifier keys) within the agency's jurisdiction: guarded for the
    timing windows, or for the agency's ``posture`` when there is none."""


class Request(Model):
    """An agency asks another for what it holds on some selectors, or (``act``) to act on them in
    the recipient's jurisdiction. It travels sender's outbox → gateway → recipient's inbox; what an
    answer releases goes through the gateway and its policy like any lead."""

    id: str
    sender: AgencyId
    recipient: AgencyId
    about: tuple[Identifier, ...]
    act: bool = False
    case: str = ""
    """The sender's case it bears on (empty for a historical request or a desk's)."""
    timing: tuple[tuple[int, int], ...] = ()
    """For a request to act: the case's timing windows (as the recipient receives them)."""
    placed: tuple[tuple[str, tuple[Country, ...]], ...] = ()
    """For a request to act: where the case places each person it names (as in an action order)."""
    score: float = 0.0
    """For a request to act: the sender's score of its case (what the recipient acts on)."""
    what: str = ""
    lead: Lead | None = None
    """For a request to act: the sender's assessment it carries; the gateway asks the policy about
    it for the recipient, and carries the request only if the policy would release it."""

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(i.key for i in self.about)


class RequestAnswer(Model):
    """A recipient's answer to a request for information: the leads it holds on what was asked,
    for the gateway to decide (policy, then the clearance floor) for the requester."""

    request: Request
    leads: tuple[Lead, ...]


class TaskingOrder(Model):
    """An agency tells the world it tasks collection on one selector its case holds (the world
    knows what is there to collect, holds one of the agency's surveillance slots for the work,
    and delivers what it reveals as the agency's own observation)."""

    agency: AgencyId
    case: str
    selector: str
    """The identifier key (``kind:value``) to follow."""
    priority: float
    """The case's score when tasked: waiting taskings start highest first, then first come."""
