"""Decisions remembered by what a policy reads: one verdict per distinct question, not per lead.

A policy may declare ``cache_key(lead, route)``: a value that changes whenever anything the policy
reads to decide changes (``siloed`` and ``fusion-centre`` read only the route; ``bilateral`` and
``approval-delay`` the route and the lead's marking level; ``releasability`` its REL TO and
NOFORN markings; ``misp-distribution`` the route and the TLP; ``tearline`` the source type and what
its ``then`` policy reads of the copy). Two questions with the same key get the same decision, so
it is computed once per run. Policies that read more (identifiers, indicators, consent answers,
the ledger, the clock, random streams) declare nothing and are always asked. The context's
scenario and agencies are fixed for a run; a cache lives as long as one run's policy (the gateway
makes a new one when the policy changes).

A policy whose key is made of its parts' keys (a composite, a tearline asking another policy) may
also declare ``decide_keyed(key, lead, route, ctx)``: the decision for a key already computed,
so that on a miss its parts are not asked for their keys again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

from tearline.model import Decision, Lead, Scenario

from ._base import Policy, PolicyContext, Route

KeyOf = Callable[[Lead, Route], Hashable]
DecideKeyed = Callable[[Hashable, Lead, Route, PolicyContext], Decision]


class CachedPolicy:
    """``policy``, its decisions remembered by the key it declares (if it declares one)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.name = policy.name
        self.summary = policy.summary
        self._key: KeyOf | None = getattr(policy, "cache_key", None)
        self._keyed: DecideKeyed | None = getattr(policy, "decide_keyed", None) if self._key else None
        self._decisions: dict[Hashable, Decision] = {}

    @property
    def cached(self) -> int:
        """How many distinct decisions are remembered."""
        return len(self._decisions)

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        if self._key is None:
            return self.policy.decide(lead, route, ctx)
        return self.decide_keyed(self._key(lead, route), lead, route, ctx)

    def decide_keyed(self, key: Hashable, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        """The decision for ``key``, already computed from ``lead`` and ``route`` by the caller."""
        decision = self._decisions.get(key)
        if decision is None:
            keyed = self._keyed
            decision = self._decisions[key] = (
                keyed(key, lead, route, ctx) if keyed is not None else self.policy.decide(lead, route, ctx)
            )
        return decision

    def enables(self, scenario: Scenario) -> frozenset[str]:
        return self.policy.enables(scenario)

    def __repr__(self) -> str:
        return f"<cached {self.policy!r}>"
