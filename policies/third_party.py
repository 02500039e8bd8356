"""``third-party-rule``: onward release of another agency's material needs that agency's consent.

Source: the "third-party rule" (originator control) of intelligence liaison — material received
from a partner service may not be passed to anyone else without the originator's consent; in US
markings it is the ORCON caveat (ICD 710), in NATO and Commonwealth practice it is the default
for all liaison material. It is the rule the Mumbai and Paris inquiries name as slowing how
warnings moved between services.

In a run, agencies publish their own observations (the originator decides; not this rule's
concern) and assessments built from their cases, whose ``third_party`` lists other agencies'
material. For each such contribution (other than the recipient's own — passing an agency's
material back to it is not onward release):

- marked ORCON → the originator's consent is required;
- unmarked → ``unmarked=deny`` (default, the rule as practised) requires consent too;
  ``unmarked=permit`` releases it without asking.

Consent travels as messages: the gateway sends a consent request to the originator, which
answers after the scenario's ``consent.delay`` and refuses with probability
``consent.refusal`` (seeded); the gateway then asks this policy again, which releases on a
grant and withholds on a refusal. If several originators would have to consent, the lead is
withheld (the gateway asks one originator per release, and one answer cannot stand for all).
"""

from __future__ import annotations

from tearline.model import Decision, Lead

from . import _options as opt
from ._base import BasePolicy, PolicyContext, Route
from ._common import consent, listing, third_party_originators


class ThirdPartyRule(BasePolicy):
    name = "third-party-rule"
    summary = (
        "Onward release of another agency's material (ORCON, or all if unmarked=deny) needs its consent."
    )

    def __init__(self, unmarked: opt.Option = "deny") -> None:
        self.unmarked = opt.choice(self.name, "unmarked", unmarked, ("permit", "deny"))

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        r = route.recipient.id
        if not lead.third_party:
            return Decision.not_applicable(
                "third-party-rule: own material", f"{route.sender.id} releases only its own material"
            )
        needed = third_party_originators(lead, r, only_orcon=self.unmarked == "permit")
        if not needed:
            others = third_party_originators(lead, r)
            why = (
                f"material from {listing(others)} is not ORCON and unmarked=permit"
                if others
                else f"the only third-party material is {r}'s own"
            )
            return Decision.release("third-party-rule: no consent needed", why)
        marking = "ORCON " if self.unmarked == "permit" else ""
        if len(needed) > 1:
            return Decision.withhold(
                "third-party-rule: several originators",
                f"carries {marking}material from {listing(needed)}; each must consent and the gateway asks one "
                "originator per release",
            )
        originator = needed[0]
        answer = consent(ctx, lead, r)
        if answer == "grant":
            return Decision.release(
                "third-party-rule: consent granted", f"{originator} consented to release to {r}"
            )
        if answer == "refuse":
            return Decision.withhold(
                "third-party-rule: consent refused", f"{originator} refused release to {r}"
            )
        return Decision.ask(
            "third-party-rule: consent requested",
            f"carries {marking}material from {originator}; asking its consent to release to {r}",
            originator,
        )
