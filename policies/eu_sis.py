"""``eu-sis``: Schengen Information System alerts — person identifiers and a category, nothing else.

Source: Regulation (EU) 2018/1862 on the use of SIS in police and judicial cooperation, Art. 36
(alerts on persons for discreet, inquiry or specific checks) and the terrorism-related-activity
flag it added; before 2018, Council Decision 2007/533/JHA Art. 36. A member state's authority
enters an alert on a person; every member state's police, border and judicial authorities see
the person's identifiers and the alert category, and on a hit report back — they do not see
the intelligence behind it. The Paris 2015 record shows such a discreet-check alert on one of
the attackers reaching French gendarmes at a routine stop.

In a run: a lead with at least one person identifier (person, alias, passport) becomes an
alert that reaches agencies of other member states (``members``, default: the states connected
to SIS) whose kind consults SIS (``kinds``, default police, border, domestic-security,
judicial, military). The copy keeps only person identifiers and the category, no indicators,
no source. ``category``: discreet-check (default), specific-check, terrorism-marker, or ``auto``
(terrorism-marker when the lead shows intent or a target, else discreet-check). Leads without a
person, domestic routes, and non-members are withheld (SIS is not how they would travel).
"""

from __future__ import annotations

from typing import Literal

from tearline.model import AgencyKind, Decision, Lead, SisAlert

from . import _options as opt
from ._base import BasePolicy, PolicyContext, Route

SIS_STATES: tuple[str, ...] = (
    "AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip
"""States connected to SIS (the Schengen states plus Bulgaria, Romania, Cyprus and Ireland)."""

_KINDS: tuple[AgencyKind, ...] = (
    "domestic-security", "foreign-intelligence", "sigint", "police", "military", "border",
    "assessment", "judicial", "diplomatic", "private",
)  # fmt: skip
_PERSON = frozenset({"person", "alias", "passport"})
Category = Literal["discreet-check", "specific-check", "terrorism-marker", "auto"]
_CATEGORIES: tuple[Category, ...] = ("discreet-check", "specific-check", "terrorism-marker", "auto")


class EuSis(BasePolicy):
    name = "eu-sis"
    summary = "Schengen-style alerts: only person identifiers and an alert category reach member states."

    def __init__(
        self,
        members: opt.Option = None,
        kinds: opt.Option = "police+border+domestic-security+judicial+military",
        category: opt.Option = "discreet-check",
        delay: opt.Option = "0",
    ) -> None:
        self.members = frozenset(
            opt.items(self.name, "members", members) if members is not None else SIS_STATES
        )
        self.kinds = frozenset(opt.choices(self.name, "kinds", kinds, _KINDS))
        self.category = opt.choice(self.name, "category", category, _CATEGORIES)
        self.delay = opt.duration(self.name, "delay", delay)

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        s, r = route.sender, route.recipient
        if s.country not in self.members:
            return Decision.withhold(
                "eu-sis: not a member", f"{s.id}'s country {s.country} is not connected to SIS"
            )
        if r.country not in self.members:
            return Decision.withhold(
                "eu-sis: not a member", f"{r.id}'s country {r.country} is not connected to SIS"
            )
        if route.domestic:
            return Decision.withhold(
                "eu-sis: domestic", f"{s.id} and {r.id} are both in {s.country}; SIS is cross-border"
            )
        if r.kind not in self.kinds:
            return Decision.withhold(
                "eu-sis: not an SIS user", f"{r.id} is a {r.kind} agency, which does not consult SIS"
            )
        persons = [i for i in lead.identifiers if i.kind in _PERSON]
        if not persons:
            return Decision.withhold(
                "eu-sis: no person", "the lead names no person, so there is nothing to enter an alert on"
            )
        category = self.category
        if category == "auto":
            category = (
                "terrorism-marker"
                if {i.kind for i in lead.indicators} & {"intent", "target"}
                else "discreet-check"
            )
        return Decision.release(
            f"eu-sis: {category}",
            f"alert on {', '.join(i.value for i in persons)} from {s.country} to {r.country}: person identifiers "
            "and category only",
            delay=self.delay,
            transforms=(SisAlert(category=category),),
        )
