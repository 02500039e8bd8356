"""Decisions remembered by the key a policy declares are the decisions it would make."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tearline.policies import CachedPolicy, Policy, load_policy
from tearline.policies._compose import Only
from tests.policies.strategies import Case, cases, leads
from tests.policies.world import ctx, lead, route

KEYED = {
    "siloed": "siloed",
    "fusion-centre": "fusion-centre",
    "bilateral": "bilateral",
    "approval-delay": "approval-delay",
    "releasability": "releasability",
    "releasability, unmarked withheld": "releasability:unmarked=withhold",
    "tearline": "tearline",
    "tearline, selectors always dropped": "tearline:selectors=drop",
    "tearline then bilateral": "tearline:then=bilateral",
    "tearline at SECRET then bilateral": "tearline:then=bilateral,downgrade_to=SECRET",
    "misp-distribution": "misp-distribution",
    "misp-distribution, fixed level": "misp-distribution:level=connected",
    "deny-overrides of keyed members": "deny-overrides:of=bilateral+fusion-centre",
    "permit-overrides of keyed members": "permit-overrides:of=siloed+bilateral",
}


class TestDeclaredKeys:
    @pytest.mark.parametrize(
        "name",
        [
            "siloed",
            "fusion-centre",
            "bilateral",
            "approval-delay",
            "releasability",
            "tearline",
            "misp-distribution",
        ],
    )
    def test_route_policies_declare_a_key(self, name: str) -> None:
        """Policies that read the route and a marking or two declare what they read; a composite of
        them does too."""
        assert callable(getattr(load_policy(name), "cache_key", None))
        composite = load_policy(f"deny-overrides:of={name}+siloed")
        assert callable(getattr(composite, "cache_key", None))

    @pytest.mark.parametrize("name", ["tlp", "third-party-rule", "reciprocity", "embargo"])
    def test_policies_that_read_the_lead_declare_none(self, name: str) -> None:
        """A policy that reads caveats, the ledger or the clock is asked every time, and so is a
        composite with such a member."""
        assert getattr(load_policy(name), "cache_key", None) is None
        assert getattr(load_policy(f"deny-overrides:of=bilateral+{name}"), "cache_key", None) is None

    def test_only_reads_what_its_member_reads(self) -> None:
        """A member counted for one effect follows its member's key."""
        only = Only(load_policy("bilateral"), "release")
        assert only.cache_key is not None


class TestCachedDecisions:
    @pytest.mark.parametrize("spec", list(KEYED.values()), ids=list(KEYED))
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def test_a_warm_cache_decides_as_the_policy(self, spec: str, data: st.DataObject) -> None:
        """After another lead on the same route, the cached decision equals the policy's own."""
        case: Case = data.draw(cases())
        other = data.draw(leads(case.ctx.scenario, None))
        policy: Policy = load_policy(spec)
        cached = CachedPolicy(load_policy(spec))
        cached.decide(other, case.route, case.ctx)
        assert cached.decide(case.lead, case.route, case.ctx) == policy.decide(
            case.lead, case.route, case.ctx
        )

    def test_a_run_asks_once_per_distinct_question(self) -> None:
        """Many leads on few routes: the policy is asked once per route and level."""
        cached = CachedPolicy(load_policy("bilateral"))
        context = ctx()
        for n in range(50):
            cached.decide(lead(id=f"L{n}"), route("IB", "CIA"), context)
        assert cached.cached == 1

    def test_a_tearline_then_a_policy_reads_what_that_policy_reads_of_the_copy(self) -> None:
        """Copies at different levels on a route with a ceiling between them: each gets its own decision."""
        spec = "tearline:then=bilateral,downgrade_to=SECRET"
        cached, policy = CachedPolicy(load_policy(spec)), load_policy(spec)
        context, ib_cia = ctx(), route("IB", "CIA")  # IN-US: up to CONFIDENTIAL
        made = [
            cached.decide(lead(id=f"L{level}", level=level), ib_cia, context)
            for level in ("CONFIDENTIAL", "SECRET", "TOP SECRET")
        ]
        assert [d.action for d in made] == ["release", "withhold", "withhold"]
        assert made == [
            policy.decide(lead(id=f"L{level}", level=level), ib_cia, context)
            for level in ("CONFIDENTIAL", "SECRET", "TOP SECRET")
        ]
        assert cached.cached == 2
