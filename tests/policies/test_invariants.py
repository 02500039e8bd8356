"""Property tests: the invariants the sharing rules promise, over generated worlds, leads and routes.

Each invariant is a function that builds a hypothesis test for a given policy. It runs against
the real policy, and against a deliberately broken one (a "mutant") to show the test can fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Literal, get_args

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tearline import Decision, Lead
from tearline.model._decision import forward
from tearline.model._scenario import AgencyKind
from tearline.policies import BUILTIN, Composite, Policy, RuleSet, combine, load_policy
from tearline.policies._base import BasePolicy, PolicyContext, Route
from tearline.policies._schema import Rule
from tearline.policies.bilateral import Bilateral
from tearline.policies.releasability import Releasability
from tearline.policies.siloed import Siloed
from tearline.policies.tearline_copy import TearlineCopy
from tearline.policies.third_party import ThirdPartyRule
from tearline.policies.tlp import Tlp
from tests.policies.strategies import Case, cases

EXAMPLES = Path(__file__).resolve().parents[2] / "policies" / "examples"
FAST = settings(
    max_examples=100, deadline=None, database=None, report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
LIGHT = settings(FAST, max_examples=40)
"""For the broad sweeps (every policy × one simple invariant)."""
HUNT = settings(FAST, max_examples=400, derandomize=True, phases=[Phase.generate])
"""For the mutants: a fixed sequence of examples, stop at the first failure, no shrinking."""
Answer = Literal["grant", "refuse"]


def final(policy: Policy, case: Case, answer: Answer | None) -> Decision:
    """What the gateway ends with: decide; on consult, record ``answer`` and decide once more."""
    d = policy.decide(case.lead, case.route, case.ctx)
    if d.action != "consult" or answer is None:
        return d
    if d.consult not in case.ctx.agencies:
        return Decision.withhold(d.rule, "originator not in this run")
    ledger = dataclasses.replace(case.ctx.ledger, consents={**case.ctx.ledger.consents})
    ledger.consents[(case.lead.id, case.route.recipient.id)] = answer
    again = policy.decide(case.lead, case.route, dataclasses.replace(case.ctx, ledger=ledger))
    return Decision.withhold(again.rule, "asked twice") if again.action == "consult" else again


# -- the invariants -------------------------------------------------------------------------------
def red_reaches_named_only(make: Callable[[], Policy], config: settings = FAST) -> Callable[[], None]:
    """TLP:RED never reaches an agency the lead does not name, unless the source consented."""
    policy = make()

    @config
    @given(case=cases(tlp="RED"), answer=st.sampled_from(["refuse", None]))
    def prop(case: Case, answer: Answer | None) -> None:
        d = final(policy, case, answer)
        if d.action == "release" and not case.granted:
            assert case.route.recipient.id in case.lead.named_recipients, d

    return prop


def noforn_stays_home(make: Callable[[], Policy], config: settings = FAST) -> Callable[[], None]:
    """NOFORN never leaves the originator's country (nor any contributor's)."""
    policy = make()

    @config
    @given(case=cases(), answer=st.sampled_from(["grant", "refuse", None]))
    def prop(case: Case, answer: Answer | None) -> None:
        d = final(policy, case, answer)
        if d.action == "release" and case.lead.caveats.noforn:
            r = case.route.recipient
            assert r.country == case.ctx.agencies[case.lead.origin].country, d
            for c in case.lead.third_party:
                assert c.agency in case.ctx.agencies and case.ctx.agencies[c.agency].country == r.country, d

    return prop


def orcon_needs_consent(make: Callable[[], Policy], config: settings = FAST) -> Callable[[], None]:
    """Without its originator's consent, ORCON material is never forwarded onward."""
    policy = make()

    @config
    @given(case=cases(consents=False), answer=st.sampled_from(["refuse", None]))
    def prop(case: Case, answer: Answer | None) -> None:
        r = case.route.recipient.id
        controlled = [c for c in case.lead.third_party if c.orcon and c.agency not in (r, case.lead.origin)]
        d = final(policy, case, answer)
        if controlled:
            assert d.action != "release", d

    return prop


def siloed_releases_nothing(make: Callable[[], Policy], config: settings = FAST) -> Callable[[], None]:
    policy = make()

    @config
    @given(case=cases(), answer=st.sampled_from(["grant", "refuse", None]))
    def prop(case: Case, answer: Answer | None) -> None:
        assert final(policy, case, answer).action == "withhold"

    return prop


_DENY_MATCHES = st.fixed_dictionaries(
    {},
    optional={
        "tlp": st.sampled_from(["RED", "AMBER", "GREEN"]),
        "domestic": st.booleans(),
        "classification": st.sampled_from(["SECRET", "CONFIDENTIAL"]),
        "recipient_country": st.sampled_from(["AA", "BB"]),
        "third_party": st.booleans(),
        "source": st.sampled_from(["SIGINT", "HUMINT"]),
    },
)
_MEMBERS = sorted(BUILTIN)
ALL_KINDS = "+".join(get_args(AgencyKind))


def deny_never_adds(
    algorithm: Callable[[list[Policy]], Policy], config: settings = FAST
) -> Callable[[], None]:
    """Adding a deny rule under deny-overrides never increases what is released."""

    @config
    @given(
        case=cases(consents=False),
        names=st.lists(st.sampled_from(_MEMBERS), min_size=1, max_size=4),
        match=_DENY_MATCHES,
        where=st.integers(0, 4),
        answer=st.sampled_from(["grant", "refuse"]),
    )
    def prop(case: Case, names: list[str], match: dict[str, object], where: int, answer: Answer) -> None:
        members = [load_policy(n) for n in names]
        deny = RuleSet("deny", [Rule.model_validate({"name": "deny", "match": match, "action": "withhold"})])
        before = final(algorithm(members), case, answer)
        after = final(algorithm([*members[:where], deny, *members[where:]]), case, answer)
        if after.action == "release":
            assert before.action == "release", (before, after)

    return prop


def copy_hides_source(
    make: Callable[[], Policy], *, always: bool = False, config: settings = FAST
) -> Callable[[], None]:
    """A sanitised copy never carries the source's method, sensitivity or full text, and links
    back to its original. ``always``: every release of this policy must be such a copy."""
    policy = make()

    @config
    @given(case=cases())
    def prop(case: Case) -> None:
        d = policy.decide(case.lead, case.route, case.ctx)
        if d.action != "release":
            return
        if always:
            assert d.transforms, d
        if d.transforms:
            copy = forward(case.lead, d, case.route.sender.id, case.route.recipient.id, case.ctx.now)
            text = copy.model_dump_json()
            assert copy.source.method is None and copy.source.sensitivity == "low", copy.source
            assert case.lead.source.method is not None and case.lead.source.method not in text
            assert case.lead.detail not in text and "DETAIL-" not in text
            assert copy.sanitised_from == case.lead.id

    return prop


def names_its_rule(make: Callable[[], Policy], config: settings = LIGHT) -> Callable[[], None]:
    """Every decision names its rule and a reason; a composed one has a verdict per member."""
    policy = make()

    @config
    @given(case=cases())
    def prop(case: Case) -> None:
        d = policy.decide(case.lead, case.route, case.ctx)
        assert d.rule.strip() and d.reason.strip(), d
        if d.action == "consult":
            assert d.consult, d
        if isinstance(policy, Composite):
            assert len(d.trail) >= len(policy.members), d

    return prop


# -- the real policies hold them ------------------------------------------------------------------
def _deny_overrides(members: list[Policy]) -> Policy:
    return Composite("deny-overrides", members)


class TestInvariants:
    def test_tlp_red_reaches_named_only(self) -> None:
        red_reaches_named_only(Tlp)()

    @pytest.mark.parametrize(
        "other", ["bilateral", "fusion-centre", "approval-delay", "tearline", "as-happened"]
    )
    def test_tlp_red_binds_under_deny_overrides(self, other: str) -> None:
        red_reaches_named_only(lambda: Composite("deny-overrides", [load_policy(other), Tlp()]))()

    def test_noforn_stays_home(self) -> None:
        noforn_stays_home(Releasability)()

    def test_noforn_binds_under_deny_overrides(self) -> None:
        noforn_stays_home(lambda: load_policy("deny-overrides:of=approval-delay+releasability+tearline"))()

    @pytest.mark.parametrize("unmarked", ["permit", "deny"])
    def test_orcon_needs_consent(self, unmarked: str) -> None:
        orcon_needs_consent(lambda: ThirdPartyRule(unmarked=unmarked))()

    def test_orcon_binds_under_deny_overrides(self) -> None:
        orcon_needs_consent(lambda: load_policy("deny-overrides:of=fusion-centre+third-party-rule+tlp"))()

    def test_siloed_releases_nothing(self) -> None:
        siloed_releases_nothing(Siloed)()

    def test_deny_never_adds_under_deny_overrides(self) -> None:
        deny_never_adds(_deny_overrides)()

    @pytest.mark.parametrize(
        "make", [TearlineCopy, lambda: TearlineCopy(then=Bilateral())], ids=["plain", "then"]
    )
    def test_tearline_always_sanitises(self, make: Callable[[], Policy]) -> None:
        copy_hides_source(make, always=True)()

    @pytest.mark.parametrize(
        "make",
        [
            TearlineCopy,
            lambda: TearlineCopy(then=Bilateral(), downgrade_to="CONFIDENTIAL", keep="person+venue"),
            lambda: load_policy(f"eu-sis:members=AA+BB+CC,kinds={ALL_KINDS}"),
            lambda: load_policy(str(EXAMPLES / "liaison-rules.yaml")),
            lambda: load_policy("permit-overrides:of=tearline+eu-sis+bilateral"),
        ],
        ids=["tearline", "tearline-then", "eu-sis", "yaml-tearline", "combined-transforms"],
    )
    def test_copies_hide_source(self, make: Callable[[], Policy]) -> None:
        copy_hides_source(make)()

    @pytest.mark.parametrize("name", sorted(BUILTIN))
    def test_every_builtin_names_its_rule(self, name: str) -> None:
        names_its_rule(lambda: load_policy(name))()

    @pytest.mark.parametrize("spec", [
        "deny-overrides:of=bilateral+tlp+releasability+third-party-rule",
        "permit-overrides:of=fusion-centre+tearline+need-to-know",
        "first-applicable:of=embargo+misp-distribution+reciprocity",
        *sorted(str(p) for p in EXAMPLES.glob("*.yaml")),
    ])  # fmt: skip
    def test_every_composition_names_its_rule(self, spec: str) -> None:
        names_its_rule(lambda: load_policy(spec))()


# -- and broken ones fail them ------------------------------------------------------------------
class _RedAsGreen(Tlp):
    """Mutant: treats TLP:RED like TLP:GREEN."""

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        return super().decide(
            lead.model_copy(update={"tlp": "GREEN"}) if lead.tlp == "RED" else lead, route, ctx
        )


class _NoNoforn(Releasability):
    """Mutant: forgets NOFORN on assessments (checks only the author's country)."""

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        return super().decide(lead.model_copy(update={"third_party": ()}), route, ctx)


class _AskOnlyWhenMarkedOnLead(ThirdPartyRule):
    """Mutant: reads the ORCON caveat of the assessment instead of its contributions."""

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        if not lead.caveats.orcon:
            return Decision.release("mutant", "not marked ORCON")
        return super().decide(lead, route, ctx)


class _Leaky(BasePolicy):
    """Mutant: siloed, except to agencies of the same country."""

    name = "leaky"

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        if route.domestic:
            return Decision.release("leaky", "same country")
        return Decision.withhold("leaky", "abroad")


class _InvertedDeny(Composite):
    """Mutant: a deny-overrides that lets a withhold unlock a consult-free release."""

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        verdicts = [(m.name, m.decide(lead, route, ctx)) for m in self.members]
        if any(d.action == "withhold" and d.applicable and m == "deny" for m, d in verdicts):
            return Decision.release("mutant", "a deny rule fired, so release")
        return combine("deny-overrides", verdicts, name=self.name)


class _ForgetfulTearline(TearlineCopy):
    """Mutant: forgets to sanitise HUMINT leads."""

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        d = super().decide(lead, route, ctx)
        return d.model_copy(update={"transforms": ()}) if lead.source.type == "HUMINT" else d


class _Nameless(BasePolicy):
    name = "nameless"

    def decide(self, lead: Lead, route: Route, ctx: PolicyContext) -> Decision:
        return Decision.withhold(" " if lead.tlp == "RED" else "x", "why")


class TestMutantsAreCaught:
    """Each property test fails for a policy that breaks its invariant."""

    def test_red(self) -> None:
        with pytest.raises(AssertionError):
            red_reaches_named_only(_RedAsGreen, HUNT)()

    def test_noforn(self) -> None:
        with pytest.raises(AssertionError):
            noforn_stays_home(_NoNoforn, HUNT)()

    def test_orcon(self) -> None:
        with pytest.raises(AssertionError):
            orcon_needs_consent(_AskOnlyWhenMarkedOnLead, HUNT)()

    def test_siloed(self) -> None:
        with pytest.raises(AssertionError):
            siloed_releases_nothing(_Leaky, HUNT)()

    def test_deny(self) -> None:
        with pytest.raises(AssertionError):
            deny_never_adds(lambda members: _InvertedDeny("deny-overrides", members), HUNT)()

    def test_copy(self) -> None:
        with pytest.raises(AssertionError):
            copy_hides_source(_ForgetfulTearline, always=True, config=HUNT)()

    def test_nameless(self) -> None:
        with pytest.raises(AssertionError):
            names_its_rule(_Nameless, HUNT)()
