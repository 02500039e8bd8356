"""Small helpers several policies share: need-to-know, third-party material, consent answers."""

from __future__ import annotations

from collections.abc import Collection

from tearline.model import Identifier, Lead, ResolvedAgency

from ._base import ConsentAnswer, PolicyContext


def need_to_know(lead: Lead, recipient: ResolvedAgency) -> Identifier | None:
    """The first identifier in the lead placed in a country the recipient has jurisdiction over."""
    for i in lead.identifiers:
        if i.where is not None and i.where in recipient.jurisdiction:
            return i
    return None


def third_party_originators(lead: Lead, recipient: str, *, only_orcon: bool = False) -> tuple[str, ...]:
    """Other agencies whose material the lead carries (sorted), leaving out the recipient itself
    (passing an agency's own material back to it is not onward release)."""
    return tuple(
        sorted(
            {
                c.agency
                for c in lead.third_party
                if c.agency not in (lead.origin, recipient) and (c.orcon or not only_orcon)
            }
        )
    )


def consent(ctx: PolicyContext, lead: Lead, recipient: str) -> ConsentAnswer | None:
    """The originator's answer to the consent request for this lead and recipient, if any came."""
    return ctx.ledger.consents.get((lead.id, recipient))


def listing(names: Collection[str]) -> str:
    return ", ".join(sorted(names)) or "nobody"
