"""``tlp``: the Traffic Light Protocol, version 2.0, exactly as FIRST defines it.

Source: FIRST, *Traffic Light Protocol (TLP) Standard, version 2.0* (August 2022). TLP labels
say how far a *recipient* may spread what it received:

- ``TLP:CLEAR`` — disclosure is not limited.
- ``TLP:GREEN`` — the recipient may share within its community, not through public channels.
- ``TLP:AMBER`` — within the recipient organisation and its clients, on a need-to-know basis.
- ``TLP:AMBER+STRICT`` — within the recipient organisation only.
- ``TLP:RED`` — named recipients only.

Wider release needs the source's permission. How the terms map onto a run:

- *Community*: every agency in the run (``community=IN+US`` limits it to those parties:
  agency ids or country codes). There is no public in a run, so GREEN reaches the community.
- *Organisation*: one agency. *Clients*: the other agencies of its country (the government
  customers a national service serves); ``clients=none`` gives it none.
- *Need-to-know*: the recipient has jurisdiction where the lead places something (as in the
  ``need-to-know`` policy).
- *The source sharing its own lead* chooses recipients within its label: CLEAR anyone; GREEN
  the community; AMBER the named recipients and their clients with a need to know, or, if it
  names none, community members with a need to know; AMBER+STRICT the named recipients (or, if
  none, community members with a need to know); RED the named recipients only.
- *Onward release*: an assessment that carries other agencies' material (``third_party``) is
  labelled with the strictest label of its parts, and its author is a *recipient* of that
  material: CLEAR anyone; GREEN its community; AMBER its clients with a need to know;
  AMBER+STRICT and RED nobody. Beyond that it asks the source (a consent request through the
  gateway) and releases only if the source grants. When several sources' permission would be
  needed the lead is withheld (the gateway asks one originator per release).
"""

from __future__ import annotations

from tearline.model import Decision, Lead, ResolvedAgency

from . import _options as opt
from ._base import BasePolicy, PolicyContext, Route
from ._common import consent, listing, need_to_know, third_party_originators


class Tlp(BasePolicy):
    name = "tlp"
    summary = (
        "TLP 2.0: CLEAR anyone, GREEN community, AMBER org+clients need-to-know, +STRICT org, RED named."
    )

    def __init__(self, community: opt.Option = None, clients: opt.Option = "domestic") -> None:
        self.community = opt.items(self.name, "community", community) if community is not None else None
        self.clients = opt.choice(self.name, "clients", clients, ("domestic", "none"))

    # -- the terms ---------------------------------------------------------------------------
    def _in_community(self, agency: str, ctx: PolicyContext) -> bool:
        if self.community is None:
            return agency in ctx.agencies
        return any(agency in ctx.members(p) for p in self.community)

    def _client_of(self, client: ResolvedAgency, org: str, ctx: PolicyContext) -> bool:
        host = ctx.agencies.get(org)
        return (
            self.clients == "domestic"
            and host is not None
            and host.country == client.country
            and client.id != org
        )

    # -- decisions ---------------------------------------------------------------------------
    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        label = lead.tlp
        rule = f"tlp: {label}"
        if label == "CLEAR":
            return Decision.release(rule, "TLP:CLEAR: disclosure is not limited")
        if lead.third_party:
            onward = self._onward(lead, route, ctx)
            if onward is not None:
                return onward
        return self._source(lead, route, ctx)

    def _source(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        """The source sharing its own material, within its label."""
        s, r = route.sender.id, route.recipient.id
        label = lead.tlp
        rule = f"tlp: {label}"
        named = lead.named_recipients
        community = self._in_community(r, ctx)
        ntk = need_to_know(lead, route.recipient)
        if label == "GREEN":
            if community:
                return Decision.release(rule, f"TLP:GREEN: {r} is in the community")
            return Decision.withhold(rule, f"TLP:GREEN: {r} is outside the community")
        if label == "RED":
            if r in named:
                return Decision.release(rule, f"TLP:RED: {s} names {r} as a recipient")
            return Decision.withhold(
                rule, f"TLP:RED: named recipients only ({listing(named)}); {r} is not named"
            )
        # AMBER and AMBER+STRICT
        if named:
            if r in named:
                return Decision.release(rule, f"TLP:{label}: {r} is a named recipient organisation")
            if label == "AMBER" and ntk is not None:
                hosts = [n for n in named if self._client_of(route.recipient, n, ctx)]
                if hosts:
                    return Decision.release(
                        rule, f"TLP:AMBER: {r} is a client of {hosts[0]} with a need to know ({ntk.where})"
                    )
            scope = (
                "named recipients and their clients with a need to know"
                if label == "AMBER"
                else "named recipients"
            )
            return Decision.withhold(rule, f"TLP:{label}: only {scope} ({listing(named)}); {r} is neither")
        if community and ntk is not None:
            return Decision.release(
                rule, f"TLP:{label}: {r} is in the community and needs to know ({ntk.where})"
            )
        why = (
            "is outside the community"
            if not community
            else "has no need to know (no jurisdiction where the lead points)"
        )
        return Decision.withhold(rule, f"TLP:{label}: {r} {why}")

    def _onward(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision | None:
        """The sender as a recipient of third-party material; ``None`` if only its own rules apply."""
        s, r = route.sender.id, route.recipient.id
        label = lead.tlp
        rule = f"tlp: {label} onward"
        if label == "GREEN" and self._in_community(r, ctx):
            return Decision.release(
                rule, f"TLP:GREEN: {s} may share within its community, which includes {r}"
            )
        if label == "AMBER":
            ntk = need_to_know(lead, route.recipient)
            if self._client_of(route.recipient, s, ctx) and ntk is not None:
                return Decision.release(
                    rule, f"TLP:AMBER: {r} is a client of {s} with a need to know ({ntk.where})"
                )
        allowed = {
            "GREEN": f"only {s}'s community",
            "AMBER": f"only {s} and its clients with a need to know",
            "AMBER+STRICT": f"only within {s}",
            "RED": "only its named recipients",
        }[label]
        sources = third_party_originators(lead, r)
        if not sources:
            return None  # nothing of anyone else's that the recipient does not already own
        if len(sources) > 1:
            return Decision.withhold(
                rule,
                f"TLP:{label} material from {listing(sources)} may go {allowed}; wider release needs each "
                "source's permission and the gateway asks one originator per release",
            )
        source = sources[0]
        answer = consent(ctx, lead, r)
        if answer == "grant":
            return Decision.release(
                f"tlp: {label} source permission",
                f"{source} permitted release of its TLP:{label} material to {r}",
            )
        if answer == "refuse":
            return Decision.withhold(
                f"tlp: {label} source permission",
                f"{source} refused release of its TLP:{label} material to {r}",
            )
        return Decision.ask(
            f"tlp: {label} source permission",
            f"TLP:{label} material from {source} may go {allowed}; asking {source}",
            source,
        )
