"""``embargo``: release only after a time (held until then), or only until a time.

Source: release embargoes and time-limited dissemination — material held until an operation
has run or a source is out of harm's way (an "embargo until" date on a report), and releases
valid only until a decision point (e.g. a pre-event threat window after which it is stale).
Options: ``after=TIME`` — leads decided earlier are held and delivered at TIME; ``until=TIME``
— leads decided after TIME (including any hold) are withheld. TIME is an ISO date-time with an
offset (``2008-11-20T00:00+05:30``) or relative to the scenario start (``start+3d``). With
neither option set it has nothing to say (not applicable; standing alone it releases).
"""

from __future__ import annotations

from tearline.model import Decision, Lead, iso

from . import _options as opt
from ._base import BasePolicy, PolicyContext, Route


class Embargo(BasePolicy):
    name = "embargo"
    summary = "Release only after a time (held until then) and/or only until a time (withheld after)."

    def __init__(self, after: opt.Option = None, until: opt.Option = None) -> None:
        self.after = opt.timepoint(self.name, "after", after) if after is not None else None
        self.until = opt.timepoint(self.name, "until", until) if until is not None else None

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        if self.after is None and self.until is None:
            return Decision.not_applicable("embargo: none set", "no embargo time is set (after= or until=)")
        now = ctx.now
        hold = 0
        window = []
        if self.after is not None:
            after = self.after.at(ctx.scenario)
            hold = max(0, after - now)
            window.append(f"after {iso(after)}")
        if self.until is not None:
            until = self.until.at(ctx.scenario)
            if now + hold > until:
                return Decision.withhold("embargo: expired", f"releasable only until {iso(until)}")
            window.append(f"until {iso(until)}")
        if hold:
            return Decision.release(
                "embargo: held", f"embargoed until {iso(now + hold)}; held until then", delay=hold
            )
        return Decision.release("embargo: open", f"within the release window ({' and '.join(window)})")
