"""``fusion-centre``: members of a joint centre receive everything at once.

Source: joint counter-terrorism centres such as the UK's JTAC, the US NCTC, Belgium's OCAM and
the plan, shelved in India after 2012, for a National Counter Terrorism Centre (and the 2014
proposal to seat IB and RAW counter-terrorism staff together). Members share all leads with all
members, after the centre's delay; nothing goes to non-members.
"""

from __future__ import annotations

from tearline.model import Centre, Decision, Lead, PolicyError, Scenario

from ._base import BasePolicy, PolicyContext, Route


class FusionCentre(BasePolicy):
    name = "fusion-centre"
    summary = "Members of a joint centre receive every lead at once; nothing goes to others."

    def __init__(self, centre: str | None = None) -> None:
        self.centre = centre

    def _centres(self, scenario: Scenario) -> tuple[Centre, ...]:
        if self.centre is None:
            return scenario.centres
        chosen = tuple(c for c in scenario.centres if c.name == self.centre)
        if not chosen:
            names = ", ".join(c.name for c in scenario.centres) or "none"
            raise PolicyError(f"fusion-centre: no centre named {self.centre!r} (scenario has: {names})")
        return chosen

    def enables(self, scenario: Scenario) -> frozenset[str]:
        return frozenset(m for c in self._centres(scenario) for m in c.members)

    def cache_key(self, lead: Lead, route: Route) -> tuple[str, str]:
        """It reads the route only (and the scenario's centres, fixed for a run)."""
        return route.sender.id, route.recipient.id

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        s, r = route.sender.id, route.recipient.id
        shared = [c for c in self._centres(ctx.scenario) if s in c.members and r in c.members]
        if not shared:
            return Decision.withhold("fusion-centre: not members", f"{s} and {r} share no joint centre")
        c = min(shared, key=lambda c: (c.delay, c.name))
        return Decision.release(
            f"fusion-centre: {c.name}", f"{s} and {r} both sit in {c.name}", delay=c.delay
        )
