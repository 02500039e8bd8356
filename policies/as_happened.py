"""``as-happened``: only the channels the scenario records as used historically, with their delays.

Source: the scenario's own record — each inject may list the historical onward releases of its
lead (``as_happened``), and ``channels`` lists routes that were in use (e.g. a standing liaison
from one service to another), with how long they took. Replaying it should reproduce history.
"""

from __future__ import annotations

from tearline.model import LEVELS, Decision, Lead

from ._base import BasePolicy, PolicyContext, Route


class AsHappened(BasePolicy):
    name = "as-happened"
    summary = "Only the channels the record shows were used, with their historical delays."

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        inject = ctx.scenario.inject(lead.sanitised_from or lead.id)
        if inject is not None and inject.as_happened and inject.observer == route.sender.id:
            for h in inject.as_happened:
                if h.to == route.recipient.id:
                    return Decision.release(
                        "as-happened: recorded release",
                        f"the record shows {route.sender.id} passed this to {h.to}"
                        + (f" ({', '.join(h.cites)})" if h.cites else ""),
                        delay=h.after,
                    )
            return Decision.withhold(
                "as-happened: recorded release",
                f"the record shows this lead went only to {', '.join(h.to for h in inject.as_happened)}",
            )
        kinds = {i.kind for i in lead.indicators}
        for c in ctx.scenario.channels:
            if c.sender != route.sender.id or c.recipient != route.recipient.id:
                continue
            if c.kinds is not None and not kinds.intersection(c.kinds):
                continue
            if lead.marking.rank > LEVELS.index(c.max_level):
                return Decision.withhold(
                    "as-happened: channel ceiling",
                    f"channel {c.sender}→{c.recipient} carried nothing above {c.max_level}",
                )
            return Decision.release(
                "as-happened: channel",
                f"historical channel {c.sender}→{c.recipient}"
                + (f" ({', '.join(c.cites)})" if c.cites else ""),
                delay=c.delay,
            )
        return Decision.withhold(
            "as-happened: no channel", f"no recorded channel from {route.sender.id} to {route.recipient.id}"
        )
