"""``bilateral``: the scenario's treaty table — release where an arrangement covers the pair.

Source: bilateral intelligence-sharing and mutual-legal-assistance arrangements, each with a
classification ceiling and a working delay (the scenario's ``treaties``). A party is an agency
or a country; a treaty between a country and itself is a domestic arrangement.
"""

from __future__ import annotations

from tearline.model import LEVELS, Decision, Lead, Treaty

from ._base import BasePolicy, PolicyContext, Route


class Bilateral(BasePolicy):
    name = "bilateral"
    summary = "Release along the scenario's treaty table, within each treaty's ceiling and delay."

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        s, r = route.sender.id, route.recipient.id
        covering: list[Treaty] = []
        for t in ctx.scenario.treaties:
            a, b = (ctx.members(p) for p in t.between)
            if (s in a and r in b) or (s in b and r in a):
                covering.append(t)
        if not covering:
            return Decision.withhold("bilateral: no treaty", f"no arrangement covers {s}→{r}")
        within = [t for t in covering if lead.marking.rank <= LEVELS.index(t.max_level)]
        if not within:
            ceilings = ", ".join(f"{t.name} ≤ {t.max_level}" for t in covering)
            return Decision.withhold(
                "bilateral: above ceiling", f"{lead.marking.level} exceeds every covering treaty ({ceilings})"
            )
        best = min(within, key=lambda t: (t.delay, t.name))
        return Decision.release(
            f"bilateral: {best.name}",
            f"{best.name} covers {s}→{r} up to {best.max_level}"
            + (f" ({', '.join(best.cites)})" if best.cites else ""),
            delay=best.delay,
        )
