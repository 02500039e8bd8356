"""Composition: XACML's combining algorithms, obligations, not-applicable members, the trail."""

from __future__ import annotations

import pytest

from tearline import Decision, Lead, PolicyError, SisAlert, Tearline
from tearline.model._decision import combine_transforms
from tearline.policies import Composite, build_policy, load_policy, policy_options
from tearline.policies._base import BasePolicy, PolicyContext, Route
from tearline.policies._compose import DenyOverrides, FirstApplicable, Only
from tearline.policies.approval_delay import ApprovalDelay
from tearline.policies.bilateral import Bilateral
from tearline.policies.releasability import Releasability
from tearline.policies.tearline_copy import TearlineCopy
from tearline.policies.tlp import Tlp
from tests.policies.world import WORLD, ctx, lead, route, world

RELEASE = Decision.release("r", "releases", delay=3600)
SLOW = Decision.release(
    "slow", "releases slowly", delay=86400, transforms=(Tearline(downgrade_to="CONFIDENTIAL"),)
)
WITHHOLD = Decision.withhold("w", "withholds")
NA = Decision.not_applicable("n", "has nothing to say")
NA_WITHHOLD = Decision.not_applicable("n", "has nothing to say", default="withhold")


def ask(who: str) -> Decision:
    return Decision.ask("c", f"asks {who}", who)


class Fixed(BasePolicy):
    def __init__(self, name: str, decision: Decision) -> None:
        self.name = name
        self.summary = name
        self.decision = decision

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        return self.decision


def decide(algorithm: str, *decisions: Decision, **options: object) -> Decision:
    members = [Fixed(f"m{i}", d) for i, d in enumerate(decisions)]
    return Composite(algorithm, members, **options).decide(lead(), route("IB", "RAW"), ctx())  # type: ignore[arg-type]


class TestDenyOverrides:
    def test_any_withhold_wins_and_names_its_rule(self) -> None:
        d = decide("deny-overrides", RELEASE, WITHHOLD, RELEASE)
        assert (d.action, d.rule) == ("withhold", "w")
        assert "deny-overrides: m1 withholds" in d.reason
        assert len(d.trail) == 3 and d.trail[1].startswith("m1: withhold [w]")

    def test_release_combines_every_obligation(self) -> None:
        d = decide("deny-overrides", RELEASE, SLOW)
        assert (d.action, d.delay, d.transforms) == ("release", 86400, SLOW.transforms)
        assert decide("deny-overrides", RELEASE, SLOW, delays="sum").delay == 90000
        assert decide("deny-overrides", RELEASE, SLOW, delays="min").delay == 3600

    def test_consult_waits_for_consent_unless_something_withholds(self) -> None:
        d = decide("deny-overrides", RELEASE, ask("CIA"))
        assert (d.action, d.consult) == ("consult", "CIA")
        assert decide("deny-overrides", ask("CIA"), WITHHOLD).action == "withhold"
        assert decide("deny-overrides", ask("CIA"), ask("CIA")).action == "consult"
        two = decide("deny-overrides", ask("CIA"), ask("DGSI"))
        assert two.action == "withhold" and "CIA and DGSI" in two.reason

    def test_not_applicable_members_are_skipped(self) -> None:
        assert decide("deny-overrides", NA_WITHHOLD, RELEASE).action == "release"
        assert decide("deny-overrides", NA, WITHHOLD).action == "withhold"

    def test_nothing_applicable_falls_back_to_the_default(self) -> None:
        d = decide("deny-overrides", NA, NA)
        assert (d.action, d.applicable) == ("withhold", False)
        assert decide("deny-overrides", NA, NA, default="release").action == "release"


class TestPermitOverrides:
    def test_any_release_wins(self) -> None:
        d = decide("permit-overrides", WITHHOLD, RELEASE, ask("CIA"))
        assert (d.action, d.rule) == ("release", "r")

    def test_obligations_of_every_release_apply(self) -> None:
        d = decide("permit-overrides", RELEASE, WITHHOLD, SLOW)
        assert d.delay == 86400 and d.transforms == SLOW.transforms

    def test_consult_beats_withhold(self) -> None:
        assert decide("permit-overrides", WITHHOLD, ask("CIA")).action == "consult"
        assert decide("permit-overrides", WITHHOLD, NA).action == "withhold"


class TestFirstApplicable:
    def test_first_applicable_member_decides_with_its_own_obligations(self) -> None:
        assert decide("first-applicable", NA, WITHHOLD, RELEASE).action == "withhold"
        d = decide("first-applicable", NA, SLOW, RELEASE)
        assert (d.action, d.delay, d.rule) == ("release", 86400, "slow")
        assert len(d.trail) == 3

    def test_only_turns_a_member_into_this_else_that(self) -> None:
        members = [Only(Fixed("a", WITHHOLD), "release"), Fixed("b", SLOW)]
        d = Composite("first-applicable", members).decide(lead(), route("IB", "RAW"), ctx())
        assert d.rule == "slow"
        members = [Only(Fixed("a", RELEASE), "release"), Fixed("b", SLOW)]
        assert Composite("first-applicable", members).decide(lead(), route("IB", "RAW"), ctx()).rule == "r"


class TestMostRestrictiveTransform:
    def test_tearlines_merge_to_the_strictest(self) -> None:
        merged = combine_transforms(
            [
                (Tearline(downgrade_to="SECRET", keep=("person", "phone", "venue")),),
                (Tearline(downgrade_to="RESTRICTED", keep=("person", "venue"), drop=("venue",)),),
                (),
            ]
        )
        assert merged == (Tearline(downgrade_to="RESTRICTED", keep=("person", "venue"), drop=("venue",)),)

    def test_alert_after_tearline_and_least_revealing_category(self) -> None:
        merged = combine_transforms(
            [(SisAlert(category="terrorism-marker"),), (Tearline(),), (SisAlert(category="discreet-check"),)]
        )
        assert merged == (Tearline(), SisAlert(category="discreet-check"))

    def test_no_transform_stays_none(self) -> None:
        assert combine_transforms([(), ()]) == ()


class TestBuiltFromSpecs:
    def test_spec_members_and_nested_trail(self) -> None:
        p = load_policy("deny-overrides:of=bilateral+releasability+approval-delay")
        d = p.decide(lead(level="CONFIDENTIAL", rel_to=("US",)), route("IB", "CIA"), ctx())
        assert d.action == "release" and d.rule == "bilateral: IN-US"
        assert d.delay == 2 * 86400  # bilateral 2d > approval 6h + 12h abroad
        assert [t.split(":")[0] for t in d.trail] == ["bilateral", "releasability", "approval-delay"]

    def test_nested_compositions_show_their_members(self) -> None:
        inner = load_policy("tearline:then=bilateral")
        outer = Composite("deny-overrides", [load_policy("releasability"), inner])
        d = outer.decide(lead(), route("IB", "CIA"), ctx())
        assert any(t.startswith("tearline › bilateral (on the copy)") for t in d.trail), d.trail

    def test_enables_is_the_union(self) -> None:
        s = world(
            agencies=[
                *WORLD["agencies"],
                {"id": "NCTC", "name": "NCTC", "country": "IN", "kind": "assessment", "counterfactual": True},
            ],
            centres=[{"name": "nctc", "members": ["IB", "NCTC"]}],
        )
        p = load_policy("deny-overrides:of=fusion-centre+tlp")
        assert p.enables(s) == {"IB", "NCTC"}

    @pytest.mark.parametrize("algorithm", ["deny-overrides", "permit-overrides", "first-applicable"])
    def test_every_algorithm_fills_the_trail(self, algorithm: str) -> None:
        p = load_policy(f"{algorithm}:of=siloed+tlp+embargo")
        d = p.decide(lead(tlp="CLEAR"), route("IB", "RAW"), ctx())
        assert len(d.trail) == 3 and d.rule and d.reason


class TestTrailWrittenWhenRead:
    def test_a_member_is_described_only_when_the_trail_is_read(self) -> None:
        """Deciding does not write the trail; reading it writes what the members' verdicts say."""
        described: list[str] = []

        class Counted(Decision):
            def verdict(self) -> str:
                described.append(self.rule)
                return super().verdict()

        member = Counted(action="release", rule="counted", reason="releases")
        d = Composite("deny-overrides", [Fixed("m", member), Fixed("w", WITHHOLD)]).decide(
            lead(), route("IB", "RAW"), ctx()
        )
        assert described == []
        assert d.trail == ("m: release [counted] releases", "w: withhold [w] withholds")
        assert d.trail == tuple(d.trail) and described == ["counted"]  # written once

    def test_a_recorded_trail_is_the_tuple_of_its_lines(self) -> None:
        d = load_policy("deny-overrides:of=bilateral+releasability").decide(lead(), route("IB", "CIA"), ctx())
        assert Decision.model_validate(d.model_dump()) == d
        assert isinstance(d.model_dump()["trail"], tuple) and len(d.trail) == 2


class TestPoliciesTakePolicies:
    def test_a_combinator_built_from_policies_equals_the_spec(self) -> None:
        """DenyOverrides(of=[...]) with built members decides as the registry's spec does."""
        built = DenyOverrides([Bilateral(), Releasability(), ApprovalDelay()])
        spec = load_policy("deny-overrides:of=bilateral+releasability+approval-delay")
        for one in (lead(level="CONFIDENTIAL", rel_to=("US",)), lead(noforn=True), lead(level="SECRET")):
            assert built.decide(one, route("IB", "CIA"), ctx()) == spec.decide(one, route("IB", "CIA"), ctx())

    @pytest.mark.parametrize(
        "make",
        [
            lambda: Composite("deny-overrides", ["bilateral"]),  # type: ignore[list-item]
            lambda: FirstApplicable(["bilateral", Tlp()]),  # type: ignore[list-item]
            lambda: TearlineCopy(then="bilateral"),  # type: ignore[arg-type]
        ],
        ids=["composite", "combinator", "tearline-then"],
    )
    def test_a_name_where_a_policy_belongs_is_a_clear_error(self, make: object) -> None:
        """A policy name handed to a constructor is refused: only the registry reads names."""
        with pytest.raises(PolicyError, match="'bilateral' is not a policy; build it first"):
            make()  # type: ignore[operator]

    def test_build_policy_takes_built_members_and_specs_alike(self) -> None:
        tlp = Tlp(community="IN+US")
        p = build_policy("permit-overrides", {"of": [tlp, "bilateral"], "delays": "min"})
        assert isinstance(p, Composite) and p.members[0] is tlp and p.labels == ["tlp", "bilateral"]
        t = build_policy("tearline", {"then": Bilateral()})
        assert isinstance(t, TearlineCopy) and isinstance(t.then, Bilateral)

    def test_only_the_options_annotated_as_policies_take_them(self) -> None:
        assert policy_options(DenyOverrides) == {"of": "many"}
        assert policy_options(TearlineCopy) == {"then": "one"}
        assert policy_options(Tlp) == {}

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ("first-applicable", "say which policies to combine"),
            ("first-applicable:of=", "say which policies to combine"),
            ("deny-overrides:of=tlp+bilaterl", "option of: unknown policy 'bilaterl'"),
            ("tearline:then=nobody", "option then: unknown policy 'nobody'"),
        ],
    )
    def test_spec_errors_name_the_option(self, spec: str, message: str) -> None:
        with pytest.raises(PolicyError, match=message):
            load_policy(spec)

    def test_nested_specs_build_inside_out(self) -> None:
        p = load_policy("first-applicable:of=tearline:then=bilateral+siloed")
        assert isinstance(p, Composite)
        first = p.members[0]
        assert isinstance(first, TearlineCopy) and isinstance(first.then, Bilateral)
