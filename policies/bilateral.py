"""``bilateral``: the scenario's treaty table — release where an arrangement covers the pair.

Source: bilateral intelligence-sharing and mutual-legal-assistance arrangements, each with a
classification ceiling and a working delay (the scenario's ``treaties``). A party is an agency
or a country; a treaty between a country and itself is a domestic arrangement.
"""

from __future__ import annotations

from collections.abc import Mapping

from tearline.model import LEVELS, Decision, Lead, ResolvedAgency, Scenario, Treaty

from ._base import BasePolicy, PolicyContext, Route

Coverage = dict[tuple[str, str], tuple[Treaty, ...]]


class Bilateral(BasePolicy):
    name = "bilateral"
    summary = "Release along the scenario's treaty table, within each treaty's ceiling and delay."

    def __init__(self) -> None:
        self._coverage: tuple[Scenario, Mapping[str, ResolvedAgency], Coverage] | None = None

    def cache_key(self, lead: Lead, route: Route) -> tuple[str, str, str]:
        """It reads the route and the lead's marking level (and the treaties, fixed for a run)."""
        return route.sender.id, route.recipient.id, lead.marking.level

    def covering(self, ctx: PolicyContext) -> Coverage:
        """The treaties covering each (sender, recipient) route, in table order, computed once per run."""
        known = self._coverage
        if known is not None and known[0] is ctx.scenario and known[1] is ctx.agencies:
            return known[2]
        coverage: dict[tuple[str, str], list[Treaty]] = {}
        for t in ctx.scenario.treaties:
            a, b = (ctx.members(p) for p in t.between)
            pairs = {(s, r) for s in a for r in b} | {(s, r) for s in b for r in a}
            for pair in sorted(pairs):
                coverage.setdefault(pair, []).append(t)
        table = {pair: tuple(ts) for pair, ts in coverage.items()}
        self._coverage = (ctx.scenario, ctx.agencies, table)
        return table

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        s, r = route.sender.id, route.recipient.id
        covering = self.covering(ctx).get((s, r), ())
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
