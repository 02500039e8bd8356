"""``siloed``: nothing crosses an agency boundary.

The baseline every other rule is measured against: each agency works only from what it collects
itself. Real-world source: the default state the 9/11 Commission and the Mumbai inquiries
describe — "stovepipes" in which each service keeps its own holdings.
"""

from __future__ import annotations

from tearline.model import Decision, Lead

from ._base import BasePolicy, PolicyContext, Route


class Siloed(BasePolicy):
    name = "siloed"
    summary = "Nothing crosses an agency boundary: every agency works alone."

    def cache_key(self, lead: Lead, route: Route) -> tuple[str, str]:
        """It reads the route only."""
        return route.sender.id, route.recipient.id

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        return Decision.withhold("siloed", f"{route.sender.id} shares nothing with {route.recipient.id}")
