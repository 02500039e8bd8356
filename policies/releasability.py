"""``releasability``: REL TO lists and NOFORN.

Source: US/NATO dissemination control markings (the Intelligence Community's *Authorized
Classification and Control Markings Register*, ICD 710 and ICD 403): ``NOFORN`` — not
releasable to foreign nationals; ``REL TO USA, GBR`` — releasable only to the listed countries
(the originator's own country is always included). Both bind everyone who holds the material.

In a run: a NOFORN lead goes only to agencies of the originator's country. An assessment that
carries other agencies' material inherits NOFORN from any part, and Tearline does not know which
part it came from, so a NOFORN assessment goes only to agencies whose country is both the
author's and every contributor's (conservative). A REL TO lead goes only to agencies of the
listed countries and the originator's. A lead with neither marking is not this policy's concern
(not applicable; standing alone it releases, ``unmarked=withhold`` withholds instead).
"""

from __future__ import annotations

from collections.abc import Hashable

from tearline.model import Decision, Lead

from . import _options as opt
from ._base import BasePolicy, PolicyContext, Route


class Releasability(BasePolicy):
    name = "releasability"
    summary = "REL TO lists and NOFORN: marked leads go only to the countries their markings allow."

    def __init__(self, unmarked: opt.Option = "release") -> None:
        self.unmarked = opt.choice(self.name, "unmarked", unmarked, opt.DEFAULTS)

    def cache_key(self, lead: Lead, route: Route) -> Hashable:
        """It reads the lead's REL TO and NOFORN markings (nothing else when it has neither), the
        route and, under NOFORN, where the lead's originator and contributors are."""
        caveats = lead.caveats
        if not caveats.noforn:
            return None if caveats.rel_to is None else (route.sender.id, route.recipient.id, caveats.rel_to)
        agencies = tuple(c.agency for c in lead.third_party)
        return route.sender.id, route.recipient.id, caveats.rel_to, lead.origin, agencies

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        r = route.recipient
        caveats = lead.caveats
        if caveats.noforn:
            homes = {route.sender.country}
            origin = ctx.agencies.get(lead.origin)
            if origin is not None:
                homes.add(origin.country)
            for c in lead.third_party:
                contributor = ctx.agencies.get(c.agency)
                homes.add(contributor.country if contributor is not None else f"?{c.agency}")
            if homes != {r.country}:
                where = ", ".join(sorted(h for h in homes if not h.startswith("?"))) or "unknown"
                return Decision.withhold(
                    "releasability: NOFORN",
                    f"NOFORN: releasable only within {where}; {r.id} is in {r.country}",
                )
            if caveats.rel_to is None:
                return Decision.release(
                    "releasability: NOFORN", f"NOFORN, and {r.id} is in {r.country}, the originator's"
                )
        if caveats.rel_to is not None:
            allowed = {route.sender.country, *caveats.rel_to}
            listed = ", ".join(sorted(allowed))
            if r.country in allowed:
                return Decision.release("releasability: REL TO", f"REL TO {listed} includes {r.country}")
            return Decision.withhold(
                "releasability: REL TO", f"REL TO {listed} excludes {r.country} ({r.id})"
            )
        return Decision.not_applicable(
            "releasability: unmarked", "no REL TO or NOFORN marking", default=self.unmarked
        )
