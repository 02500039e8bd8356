"""``approval-delay``: bureaucratic latency — the higher the classification, the longer release takes.

Source: release approval as practised — a report must be cleared for release by its owner
(and, for foreign partners, by a foreign-disclosure officer: US NDP-1 and DoDD 5230.11, the UK
"originator's approval"), which takes longer the higher it is classified. The 9/11 Commission
Report (ch. 13) and the Mumbai inquiry (Pradhan committee) describe warnings that took days to
move for this reason.

Every lead is released to every agency after the delay for its level (options
``unclassified``, ``restricted``, ``confidential``, ``secret``, ``top_secret``; defaults 0, 1h,
6h, 1d, 3d) plus ``foreign`` (default 12h) when the recipient is in another country. The
figures are assumptions, not measured values: set them per study. Composed under
deny-overrides it adds this latency to what other policies release.
"""

from __future__ import annotations

from tearline.model import Decision, Lead, human_duration

from . import _options as opt
from ._base import BasePolicy, PolicyContext, Route


class ApprovalDelay(BasePolicy):
    name = "approval-delay"
    summary = "Bureaucratic latency: release after a delay set by classification level (longer abroad)."

    def __init__(
        self,
        unclassified: opt.Option = "0",
        restricted: opt.Option = "1h",
        confidential: opt.Option = "6h",
        secret: opt.Option = "1d",  # noqa: S107 - a classification level, not a password
        top_secret: opt.Option = "3d",  # noqa: S107
        foreign: opt.Option = "12h",
    ) -> None:
        self.delays = {
            "UNCLASSIFIED": opt.duration(self.name, "unclassified", unclassified),
            "RESTRICTED": opt.duration(self.name, "restricted", restricted),
            "CONFIDENTIAL": opt.duration(self.name, "confidential", confidential),
            "SECRET": opt.duration(self.name, "secret", secret),
            "TOP SECRET": opt.duration(self.name, "top_secret", top_secret),
        }
        self.foreign = opt.duration(self.name, "foreign", foreign)

    def cache_key(self, lead: Lead, route: Route) -> tuple[str, str, str]:
        """It reads the lead's marking level and the route (whether it is domestic, the recipient's country)."""
        return route.sender.id, route.recipient.id, lead.marking.level

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        level = lead.marking.level
        delay = self.delays[level]
        reason = f"{level} takes {human_duration(delay)} to approve"
        if not route.domestic and self.foreign:
            delay += self.foreign
            reason += f", plus {human_duration(self.foreign)} foreign-disclosure review for {route.recipient.country}"
        return Decision.release(f"approval-delay: {level}", reason, delay=delay)
