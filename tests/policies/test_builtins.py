"""Each built-in policy's exact semantics, on a small fixed world (see world.py)."""

from __future__ import annotations

import pytest

from tearline import PolicyError, SisAlert, Tearline
from tearline.model._decision import forward
from tearline.model._time import DAY, HOUR
from tearline.policies import BUILTIN, available, load_policy
from tearline.policies.approval_delay import ApprovalDelay
from tearline.policies.bilateral import Bilateral
from tearline.policies.embargo import Embargo
from tearline.policies.eu_sis import EuSis
from tearline.policies.misp import MispDistribution
from tearline.policies.need_to_know import NeedToKnow
from tearline.policies.reciprocity import Reciprocity
from tearline.policies.releasability import Releasability
from tearline.policies.tearline_copy import TearlineCopy
from tearline.policies.third_party import ThirdPartyRule
from tearline.policies.tlp import Tlp
from tests.policies.world import START, ctx, lead, route


def action(policy: object, lead_: object, sender: str, recipient: str, **context: object) -> str:
    d = policy.decide(lead_, route(sender, recipient), ctx(**context))  # type: ignore[attr-defined]
    return str(d.action) + ("" if d.applicable else "/na")


class TestRegistry:
    def test_fourteen_builtins_each_with_a_source_and_a_summary(self) -> None:
        infos = {i.name: i for i in available()}
        assert len(BUILTIN) >= 14
        for name in BUILTIN:
            info = infos[name]
            assert info.summary and "\n" not in info.summary and len(info.summary) <= 110, name
            assert len(info.doc) > 200, f"{name}: module docstring should state the real-world source"

    @pytest.mark.parametrize("name", sorted(BUILTIN))
    def test_every_builtin_builds_without_options(self, name: str) -> None:
        assert load_policy(name).name == name

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ("tlp:clients=sometimes", "clients='sometimes' is not one of domestic, none"),
            ("approval-delay:secret=soon", "secret='soon' is not a duration"),
            ("embargo:after=tomorrow", "after='tomorrow' is not a time"),
            ("tearline:downgrade_to=PUBLIC", "is not a classification level"),
            ("tearline:keep=person+dna", "unknown 'dna'"),
            ("reciprocity:ratio=-1", "is not a number ≥ 0"),
            ("misp-distribution:level=group:nope", "unknown sharing group"),
            ("eu-sis:kinds=spies", "unknown 'spies'"),
            ("tlp:colour=red", "has no option 'colour'"),
            ("deny-overrides", "say which policies to combine"),
            ("deny-overrides:of=bilateral+nonesuch", "unknown policy 'nonesuch'"),
        ],
    )
    def test_bad_options_say_what_is_wrong(self, spec: str, message: str) -> None:
        with pytest.raises(PolicyError, match=message.replace("+", r"\+").replace("(", r"\(")):
            load_policy(spec)


class TestNeedToKnow:
    def test_jurisdiction_over_a_placed_identifier(self) -> None:
        p, lead_ = NeedToKnow(), lead(where=("IN",))
        assert action(p, lead_, "IB", "MHPOL") == "release"
        assert action(p, lead_, "IB", "CIA") == "withhold"
        assert action(p, lead_, "IB", "FBI") == "release"  # FBI's jurisdiction includes IN

    def test_unplaced_leads(self) -> None:
        assert action(NeedToKnow(), lead(persons=("x",)), "IB", "RAW") == "withhold"
        assert action(NeedToKnow(unplaced="release"), lead(persons=("x",)), "IB", "RAW") == "release"


class TestTlp:
    def test_clear_goes_to_anyone(self) -> None:
        assert action(Tlp(), lead(tlp="CLEAR"), "IB", "BEPOL") == "release"

    def test_green_goes_to_the_community(self) -> None:
        assert action(Tlp(), lead(tlp="GREEN"), "IB", "BEPOL") == "release"
        only_india = Tlp(community="IN")
        assert action(only_india, lead(tlp="GREEN"), "IB", "MHPOL") == "release"
        assert action(only_india, lead(tlp="GREEN"), "IB", "CIA") == "withhold"

    def test_amber_without_named_recipients_is_need_to_know_in_the_community(self) -> None:
        lead_ = lead(tlp="AMBER", where=("IN",))
        assert action(Tlp(), lead_, "IB", "MHPOL") == "release"
        assert action(Tlp(), lead_, "IB", "CIA") == "withhold"
        assert action(Tlp(community="IN"), lead_, "IB", "FBI") == "withhold"

    def test_amber_reaches_named_organisations_and_their_clients_with_need_to_know(self) -> None:
        lead_ = lead(tlp="AMBER", where=("IN",), named=("CIA",))
        assert action(Tlp(), lead_, "IB", "CIA") == "release"
        assert action(Tlp(), lead_, "IB", "FBI") == "release"  # CIA's client, jurisdiction in IN
        assert action(Tlp(clients="none"), lead_, "IB", "FBI") == "withhold"
        assert action(Tlp(), lead_, "IB", "DGSI") == "withhold"
        assert action(Tlp(), lead_, "IB", "MHPOL") == "withhold"  # not named, not a named org's client

    def test_amber_strict_reaches_the_named_organisation_only(self) -> None:
        lead_ = lead(tlp="AMBER+STRICT", where=("IN",), named=("CIA",))
        assert action(Tlp(), lead_, "IB", "CIA") == "release"
        assert action(Tlp(), lead_, "IB", "FBI") == "withhold"

    def test_red_reaches_named_recipients_only(self) -> None:
        lead_ = lead(tlp="RED", where=("IN",), named=("CIA",))
        assert action(Tlp(), lead_, "IB", "CIA") == "release"
        assert action(Tlp(), lead_, "IB", "MHPOL") == "withhold"
        assert action(Tlp(), lead(tlp="RED"), "IB", "RAW") == "withhold"

    def test_onward_red_needs_the_sources_permission(self) -> None:
        assessment = lead(tlp="RED", where=("IN",), third_party=(("CIA", False),))
        d = Tlp().decide(assessment, route("IB", "MHPOL"), ctx())
        assert (d.action, d.consult) == ("consult", "CIA")
        assert action(Tlp(), assessment, "IB", "MHPOL", consents={("L1", "MHPOL"): "grant"}) == "release"
        assert action(Tlp(), assessment, "IB", "MHPOL", consents={("L1", "MHPOL"): "refuse"}) == "withhold"

    def test_onward_amber_goes_to_the_recipients_clients_with_need_to_know(self) -> None:
        assessment = lead(tlp="AMBER", where=("IN",), third_party=(("CIA", False),))
        assert action(Tlp(), assessment, "IB", "MHPOL") == "release"  # IB's client, needs to know
        d = Tlp().decide(assessment, route("IB", "DGSI"), ctx())
        assert (d.action, d.consult) == ("consult", "CIA")

    def test_onward_amber_strict_asks_even_for_clients(self) -> None:
        assessment = lead(tlp="AMBER+STRICT", where=("IN",), third_party=(("CIA", False),))
        assert action(Tlp(), assessment, "IB", "MHPOL") == "consult"

    def test_several_sources_cannot_all_be_asked(self) -> None:
        assessment = lead(tlp="RED", third_party=(("CIA", False), ("DGSI", False)))
        assert action(Tlp(), assessment, "IB", "MHPOL") == "withhold"


class TestReleasability:
    def test_noforn_stays_in_the_country(self) -> None:
        assert action(Releasability(), lead(noforn=True), "IB", "RAW") == "release"
        assert action(Releasability(), lead(noforn=True), "IB", "CIA") == "withhold"

    def test_noforn_assessment_binds_every_contributors_country(self) -> None:
        assessment = lead(noforn=True, third_party=(("CIA", False),))
        assert action(Releasability(), assessment, "IB", "RAW") == "withhold"

    def test_rel_to(self) -> None:
        lead_ = lead(rel_to=("US",))
        assert action(Releasability(), lead_, "IB", "CIA") == "release"
        assert action(Releasability(), lead_, "IB", "RAW") == "release"  # the originator's own country
        assert action(Releasability(), lead_, "IB", "DGSI") == "withhold"

    def test_unmarked_is_not_applicable(self) -> None:
        assert action(Releasability(), lead(), "IB", "DGSI") == "release/na"
        assert action(Releasability(unmarked="withhold"), lead(), "IB", "DGSI") == "withhold/na"


class TestThirdPartyRule:
    def test_own_material_is_not_its_concern(self) -> None:
        assert action(ThirdPartyRule(), lead(orcon=True), "IB", "CIA") == "release/na"

    def test_orcon_needs_consent_and_the_answer_decides(self) -> None:
        assessment = lead(third_party=(("CIA", True),))
        for unmarked in ("permit", "deny"):
            d = ThirdPartyRule(unmarked=unmarked).decide(assessment, route("IB", "MHPOL"), ctx())
            assert (d.action, d.consult) == ("consult", "CIA")
        granted = ctx(consents={("L1", "MHPOL"): "grant"})
        assert ThirdPartyRule().decide(assessment, route("IB", "MHPOL"), granted).action == "release"
        refused = ctx(consents={("L1", "MHPOL"): "refuse"})
        assert ThirdPartyRule().decide(assessment, route("IB", "MHPOL"), refused).action == "withhold"

    def test_unmarked_default_is_a_parameter(self) -> None:
        assessment = lead(third_party=(("CIA", False),))
        assert action(ThirdPartyRule(unmarked="permit"), assessment, "IB", "MHPOL") == "release"
        assert action(ThirdPartyRule(unmarked="deny"), assessment, "IB", "MHPOL") == "consult"

    def test_giving_an_agency_its_own_material_back_needs_no_consent(self) -> None:
        assessment = lead(third_party=(("CIA", True),))
        assert action(ThirdPartyRule(), assessment, "IB", "CIA") == "release"

    def test_several_originators(self) -> None:
        assessment = lead(third_party=(("CIA", True), ("DGSI", True)))
        assert action(ThirdPartyRule(), assessment, "IB", "MHPOL") == "withhold"
        assert action(ThirdPartyRule(), assessment, "IB", "CIA") == "consult"  # only DGSI's is third-party


class TestTearline:
    def test_copy_drops_source_and_method_downgrades_and_links_back(self) -> None:
        original = lead(level="TOP SECRET", persons=("karim vale",), phones=("+91 1",), source="SIGINT")
        d = TearlineCopy().decide(original, route("IB", "CIA"), ctx())
        assert d.action == "release" and d.rule == "tearline"
        copy = forward(original, d, "IB", "CIA", START)
        assert copy.source.method is None and copy.source.sensitivity == "low"
        assert copy.detail == copy.summary and "naming the source" not in copy.model_dump_json()
        assert copy.marking.level == "RESTRICTED"
        assert copy.sanitised_from == original.id
        assert [i.kind for i in copy.identifiers] == ["person"]  # a SIGINT selector is dropped

    def test_identifiers_kept_or_dropped_per_rule(self) -> None:
        original = lead(persons=("x",), phones=("1",), where=("IN",))
        d = TearlineCopy(keep="person+phone", drop="phone", selectors="keep").decide(
            original, route("IB", "CIA"), ctx()
        )
        assert d.transforms == (
            Tearline(downgrade_to="RESTRICTED", keep=("person", "phone"), drop=("phone",)),
        )
        assert [i.kind for i in forward(original, d, "IB", "CIA", START).identifiers] == ["person"]

    def test_then_asks_another_policy_about_the_copy(self) -> None:
        original = lead(level="SECRET")
        assert load_policy("bilateral").decide(original, route("IB", "CIA"), ctx()).action == "withhold"
        d = TearlineCopy(then=Bilateral()).decide(original, route("IB", "CIA"), ctx())
        assert d.action == "release" and d.delay == 2 * DAY and d.rule == "tearline then bilateral: IN-US"
        assert d.trail and d.transforms[0].kind == "tearline"
        assert (
            TearlineCopy(then=Bilateral()).decide(original, route("IB", "BEPOL"), ctx()).action == "withhold"
        )


class TestEuSis:
    def test_alert_carries_persons_and_category_only(self) -> None:
        original = lead("DGSI", persons=("salah a",), phones=("+32 1",), indicators=("intent",))
        d = EuSis().decide(original, route("DGSI", "BEPOL"), ctx())
        assert d.action == "release" and d.transforms == (SisAlert(category="discreet-check"),)
        copy = forward(original, d, "DGSI", "BEPOL", START)
        assert [i.kind for i in copy.identifiers] == ["person"] and copy.indicators == ()
        assert copy.source.method is None and copy.summary == "SIS alert (discreet-check)"

    def test_category_auto(self) -> None:
        d = EuSis(category="auto").decide(
            lead("DGSI", persons=("x",), indicators=("intent",)), route("DGSI", "BEPOL"), ctx()
        )
        assert d.transforms == (SisAlert(category="terrorism-marker"),)

    def test_who_receives(self) -> None:
        assert action(EuSis(), lead("DGSI", phones=("1",)), "DGSI", "BEPOL") == "withhold"  # no person
        assert action(EuSis(), lead(persons=("x",)), "IB", "CIA") == "withhold"  # not members
        assert (
            action(EuSis(members="FR+BE+US"), lead("DGSI", persons=("x",)), "DGSI", "CIA") == "withhold"
        )  # kind
        assert action(EuSis(members="FR+BE+US"), lead("DGSI", persons=("x",)), "DGSI", "FBI") == "release"


class TestReciprocity:
    def test_running_account(self) -> None:
        p = Reciprocity()
        assert action(p, lead(), "IB", "CIA") == "release"
        assert action(p, lead(), "IB", "CIA", released={("IB", "CIA"): 3}) == "withhold"
        assert action(p, lead(), "IB", "CIA", released={("IB", "CIA"): 3, ("CIA", "IB"): 1}) == "release"
        assert (
            action(
                Reciprocity(ratio="2", grace="0"),
                lead(),
                "IB",
                "CIA",
                released={("IB", "CIA"): 3, ("CIA", "IB"): 2},
            )
            == "release"
        )


class TestApprovalDelay:
    def test_delay_by_level_and_abroad(self) -> None:
        p = ApprovalDelay()
        assert p.decide(lead(level="SECRET"), route("IB", "RAW"), ctx()).delay == DAY
        assert p.decide(lead(level="CONFIDENTIAL"), route("IB", "CIA"), ctx()).delay == 18 * HOUR
        assert (
            ApprovalDelay(top_secret="1w", foreign="0")
            .decide(lead(level="TOP SECRET"), route("IB", "CIA"), ctx())
            .delay
            == 7 * DAY
        )


class TestEmbargo:
    def test_after_holds_until_then(self) -> None:
        d = Embargo(after="start+2d").decide(lead(), route("IB", "RAW"), ctx())
        assert (d.action, d.delay) == ("release", 2 * DAY)
        assert (
            Embargo(after="start+2d").decide(lead(), route("IB", "RAW"), ctx(now=START + 3 * DAY)).delay == 0
        )

    def test_until_withholds_after(self) -> None:
        assert action(Embargo(until="2030-01-02T00:00+00:00"), lead(), "IB", "RAW") == "release"
        assert action(Embargo(until="start+1d"), lead(), "IB", "RAW", now=START + 2 * DAY) == "withhold"
        assert action(Embargo(after="start+3d", until="start+1d"), lead(), "IB", "RAW") == "withhold"

    def test_no_time_is_not_applicable(self) -> None:
        assert action(Embargo(), lead(), "IB", "RAW") == "release/na"


class TestMisp:
    def test_community_reaches_the_instance_and_the_next_hosts(self) -> None:
        p, amber = MispDistribution(), lead(tlp="AMBER")
        assert action(p, amber, "IB", "RAW") == "release"  # same instance (IN)
        assert action(p, amber, "IB", "CIA") == "release"  # hosts the US instance, one hop
        assert action(p, amber, "IB", "FBI") == "withhold"  # not the host
        assert action(p, amber, "IB", "DGSI") == "withhold"  # two hops

    def test_connected_communities_one_step_down_per_hop(self) -> None:
        p, green = MispDistribution(), lead(tlp="GREEN")
        assert action(p, green, "IB", "FBI") == "release"  # one hop: becomes community there
        assert action(p, green, "IB", "DGSI") == "release"  # two hops: host only
        assert action(p, green, "IB", "BEPOL") == "withhold"  # three hops

    def test_all_organisation_and_groups(self) -> None:
        p = MispDistribution()
        assert action(p, lead(tlp="CLEAR"), "IB", "BEPOL") == "release"
        assert action(p, lead(tlp="AMBER+STRICT"), "IB", "RAW") == "withhold"
        assert action(p, lead(tlp="RED", named=("DGSI",)), "IB", "DGSI") == "release"
        assert action(p, lead(tlp="RED", named=("DGSI",)), "IB", "RAW") == "withhold"
        grouped = MispDistribution(level="group:ct", groups="ct:IN+BEPOL")
        assert action(grouped, lead(), "IB", "BEPOL") == "release"
        assert action(grouped, lead(), "IB", "CIA") == "withhold"

    def test_links(self) -> None:
        assert action(MispDistribution(links="none"), lead(tlp="AMBER"), "IB", "CIA") == "withhold"
        assert action(MispDistribution(links="mesh"), lead(tlp="AMBER"), "IB", "DGSI") == "release"
        assert action(MispDistribution(links="IN~BE"), lead(tlp="AMBER"), "IB", "BEPOL") == "release"
        assert action(MispDistribution(level="community", hosts="US:FBI"), lead(), "IB", "FBI") == "release"
