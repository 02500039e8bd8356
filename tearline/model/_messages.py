"""Bodies of the messages services exchange (inside a signed envelope)."""

from __future__ import annotations

from typing import Literal

from ._base import Model
from ._lead import AgencyId, Lead


class Observation(Model):
    """The world tells an agency what it observes (a scenario inject or background noise)."""

    lead: Lead
    inject: str
    what: str
    noise: bool = False
    disputed: bool = False


class Release(Model):
    """The gateway delivers a (possibly sanitised) copy of a lead to a recipient."""

    lead: Lead
    sender: AgencyId
    rule: str


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
