"""``reciprocity``: release to a partner in proportion to what it has released back.

Source: the quid-pro-quo that governs intelligence liaison — services trade information and
share with a partner in proportion to what it gives (see e.g. Sims, "Foreign Intelligence
Liaison: Devils, Deals, and Details", IJIC 19:2, 2006; Lefebvre, "The Difficulties and
Dilemmas of International Intelligence Cooperation", IJIC 16:4, 2003).

In a run it is a running account kept from the gateway's ledger: the sender releases to a
recipient while ``given < grace + ratio × received``, where ``given`` is what it has released
to that recipient so far in this run and ``received`` what that recipient has released to it.
``grace`` (default 3) is the goodwill extended before anything comes back; ``ratio`` (default
1) how many leads it gives per lead received.
"""

from __future__ import annotations

from tearline.model import Decision, Lead

from . import _options as opt
from ._base import BasePolicy, PolicyContext, Route


class Reciprocity(BasePolicy):
    name = "reciprocity"
    summary = "Release to a partner in proportion to what it has released back (grace + ratio × received)."

    def __init__(self, ratio: opt.Option = "1", grace: opt.Option = "3") -> None:
        self.ratio = opt.number(self.name, "ratio", ratio)
        self.grace = opt.number(self.name, "grace", grace)

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        s, r = route.sender.id, route.recipient.id
        given = ctx.ledger.released[(s, r)]
        received = ctx.ledger.released[(r, s)]
        credit = self.grace + self.ratio * received
        account = f"{s} has released {given} to {r} and received {received}; credit {credit:g}"
        if given < credit:
            return Decision.release("reciprocity: in credit", account)
        return Decision.withhold("reciprocity: no credit", account)
