"""``need-to-know``: release only to agencies with jurisdiction over something the lead places.

Source: the need-to-know principle of every national security-clearance regime (e.g. US
Executive Order 13526 §4.1(a)(3), the UK Government Security Classifications policy): holding
a clearance is not enough, the recipient must need the information to do its job. Tearline's
test for "needs it": the recipient has jurisdiction (``jurisdiction`` in the scenario) over a
country in which the lead places an identifier, a place or a target (an identifier's
``where``). A lead that places nothing shows no such need and is withheld (``unplaced=release``
releases it to everyone instead).
"""

from __future__ import annotations

from tearline.model import Decision, Lead

from . import _options as opt
from ._base import BasePolicy, PolicyContext, Route
from ._common import need_to_know


class NeedToKnow(BasePolicy):
    name = "need-to-know"
    summary = "Release only to agencies with jurisdiction where the lead places a person, place or target."

    def __init__(self, unplaced: opt.Option = "withhold") -> None:
        self.unplaced = opt.choice(self.name, "unplaced", unplaced, ("withhold", "release"))

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        r = route.recipient
        hit = need_to_know(lead, r)
        if hit is not None:
            return Decision.release(
                "need-to-know: jurisdiction",
                f"{r.id} has jurisdiction in {hit.where}, where the lead places {hit.kind} {hit.value!r}",
            )
        placed = sorted({i.where for i in lead.identifiers if i.where is not None})
        if not placed:
            if self.unplaced == "release":
                return Decision.release(
                    "need-to-know: unplaced",
                    "the lead places nothing in any country; unplaced=release shares it",
                )
            return Decision.withhold(
                "need-to-know: unplaced",
                "the lead places nothing in any country, so no recipient shows a need to know",
            )
        return Decision.withhold(
            "need-to-know: no jurisdiction",
            f"{r.id} has jurisdiction in {', '.join(r.jurisdiction)}; the lead points only at {', '.join(placed)}",
        )
