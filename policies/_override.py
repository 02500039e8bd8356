"""Counterfactual overrides: a policy object that delegates to another except on named routes."""

from __future__ import annotations

from collections.abc import Sequence

from tearline.model import Decision, Lead, Override, Scenario

from ._base import Policy, PolicyContext, Route


class Overridden:
    """``inner`` with some routes forced: release at once, or withhold (first matching override wins).

    It wraps the policy object itself (a composite included), so the run's policy is asked exactly
    as before on every route the overrides do not cover."""

    def __init__(self, inner: Policy, overrides: Sequence[Override]) -> None:
        self.inner = inner
        self.overrides = tuple(overrides)
        self.name = inner.name
        self.summary = inner.summary

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        for o in self.overrides:
            if o.covers(lead.id, lead.sanitised_from, route.sender.id, route.recipient.id):
                rule = f"override: {o.label}"
                if o.action == "release":
                    return Decision.release(
                        rule, "counterfactual: released at once, whatever the policy says"
                    )
                return Decision.withhold(rule, "counterfactual: withheld, whatever the policy says")
        return self.inner.decide(lead, route, ctx)

    def enables(self, scenario: Scenario) -> frozenset[str]:
        return self.inner.enables(scenario)

    def __repr__(self) -> str:
        return f"<policy {self.name} with {len(self.overrides)} override(s)>"


def with_overrides(policy: Policy, overrides: Sequence[Override]) -> Policy:
    """The policy itself when there is nothing to override, else an :class:`Overridden` wrapper."""
    return Overridden(policy, overrides) if overrides else policy
