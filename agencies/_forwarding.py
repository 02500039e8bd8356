"""Forwarding: which received leads an agency passes on, and the copy it publishes.

A forwarded copy is the agency's own publication (it is the sender, so the gateway decides it under
the policy and the clearance floor like any lead), derived from the lead it received and naming
that lead's originator, and every agency whose material the lead already carried, as third party:
a policy applying the third-party rule therefore asks the originator's consent. ORCON material is
never forwarded (originator control: the receiver may not pass it on at all on its own motion), nor
material the agency itself contributed to (no lead returns to a forwarder in a loop).
"""

from __future__ import annotations

from tearline.model import Contribution, ForwardRule, Lead


def forwards(rule: ForwardRule, agency: str, lead: Lead, sender: str) -> bool:
    """Whether ``agency``'s rule passes on ``lead``, received from ``sender``."""
    if lead.origin == agency or lead.caveats.orcon or any(c.orcon for c in lead.third_party):
        return False
    if any(c.agency == agency for c in lead.third_party):
        return False
    if rule.senders and sender not in rule.senders:
        return False
    return not rule.kinds or any(i.kind in rule.kinds for i in lead.identifiers)


def forwarded_copy(agency: str, lead: Lead, number: int, at: int) -> Lead:
    """The copy ``agency`` publishes: the lead's content as received, its own id and time, derived
    from the received lead, with the originator (and earlier third parties) listed as third party."""
    third = {(c.agency, c.lead): c for c in lead.third_party}
    third.setdefault((lead.origin, lead.id), Contribution(agency=lead.origin, lead=lead.id))
    return lead.model_copy(
        update={
            "id": f"{agency}-f{number}",
            "origin": agency,
            "observed_at": at,
            "provenance": (),
            "derived_from": (lead.id,),
            "third_party": tuple(third[k] for k in sorted(third)),
        }
    )
