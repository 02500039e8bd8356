"""The clearance floor: whatever the policy says, nothing reaches a recipient above its clearance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tearline import RunConfig, load_scenario, replay
from tearline.broker import CLEARANCE_RULE, clearance_floor
from tearline.model import ClearanceTerms, Decision, DecisionEvent, Lead, Marking, ResolvedAgency, forward
from tearline.policies import ALGORITHMS, BUILTIN, Composite, Policy, load_policy
from tests.policies.strategies import Case, cases
from tests.policies.test_invariants import FAST, HUNT, Answer, final
from tests.policies.world import SMALL, lead

ROOT = Path(__file__).resolve().parents[2]
Floor = Callable[[Lead, Decision, ResolvedAgency, ClearanceTerms], Decision]
_TERMS = st.builds(ClearanceTerms, above=st.sampled_from(["tearline", "withhold"]))
_POLICIES = {name: load_policy(name) for name in sorted(BUILTIN)}


def delivered_within_clearance(floor: Floor, config: object = FAST) -> Callable[[], None]:
    """Whatever a built-in policy, alone or composed, decides, the copy the gateway delivers
    (after the floor) is at or below the recipient's clearance and in no compartment it lacks."""

    @config  # type: ignore[operator]
    @given(
        case=cases(),
        names=st.lists(st.sampled_from(sorted(BUILTIN)), min_size=1, max_size=3),
        algorithm=st.sampled_from(ALGORITHMS),
        terms=_TERMS,
        answer=st.sampled_from(["grant", "refuse", None]),
    )
    def prop(
        case: Case, names: list[str], algorithm: str, terms: ClearanceTerms, answer: Answer | None
    ) -> None:
        members: list[Policy] = [_POLICIES[n] for n in names]
        policy = members[0] if len(members) == 1 else Composite(algorithm, members)  # type: ignore[arg-type]
        recipient = case.route.recipient
        d = floor(case.lead, final(policy, case, answer), recipient, terms)
        if d.action != "release":
            return
        copy = forward(case.lead, d, case.route.sender.id, recipient.id, case.ctx.now)
        assert copy.marking.readable_by(recipient.clearance, recipient.accreditations), (d, copy.marking)

    return prop


def _no_floor(lead: Lead, d: Decision, recipient: ResolvedAgency, terms: ClearanceTerms) -> Decision:
    return d


def _level_only(lead: Lead, d: Decision, recipient: ResolvedAgency, terms: ClearanceTerms) -> Decision:
    """Mutant: checks the level but forgets compartments."""
    return clearance_floor(
        lead.model_copy(update={"marking": lead.marking.model_copy(update={"compartments": ()})}),
        d,
        recipient,
        terms,
    )


class TestClearanceProperty:
    def test_no_policy_gets_material_above_clearance_delivered(self) -> None:
        delivered_within_clearance(clearance_floor)()

    @pytest.mark.parametrize("mutant", [_no_floor, _level_only], ids=["no-floor", "level-only"])
    def test_a_broken_floor_is_caught(self, mutant: Floor) -> None:
        with pytest.raises(AssertionError):
            delivered_within_clearance(mutant, HUNT)()


def _cleared(level: str, *accreditations: str) -> ResolvedAgency:
    return SMALL.resolved["MHPOL"].model_copy(update={"clearance": level, "accreditations": accreditations})


class TestClearanceFloor:
    def test_a_release_within_clearance_is_unchanged(self) -> None:
        """A release the recipient may hold passes as the policy decided it."""
        d = Decision.release("p", "ok")
        assert clearance_floor(lead(level="SECRET"), d, _cleared("SECRET"), ClearanceTerms()) is d

    def test_above_clearance_becomes_a_tearline_at_the_clearance(self) -> None:
        """A TOP SECRET release to a SECRET-cleared recipient becomes a SECRET tearline; the trail keeps
        the policy's verdict."""
        d = clearance_floor(
            lead(level="TOP SECRET"),
            Decision.release("p", "ok", delay=3600),
            _cleared("SECRET"),
            ClearanceTerms(),
        )
        assert d.action == "release" and d.rule == CLEARANCE_RULE and d.delay == 3600
        assert "MHPOL is cleared to SECRET; the copy is TOP SECRET" in d.reason
        assert d.trail[0].startswith("policy: release [p]")
        copy = forward(lead(level="TOP SECRET"), d, "IB", "MHPOL", 0)
        assert copy.marking.level == "SECRET" and copy.source.method is None

    def test_a_compartment_without_accreditation_is_withheld_when_the_terms_say_so(self) -> None:
        """An SI release to an agency without SI is withheld under ``above: withhold``."""
        marked = lead(level="SECRET").model_copy(
            update={"marking": Marking(level="SECRET", compartments=("SI",))}
        )
        d = clearance_floor(
            marked, Decision.release("p", "ok"), _cleared("TOP SECRET"), ClearanceTerms(above="withhold")
        )
        assert d.action == "withhold" and "the copy is SECRET SI: withheld" in d.reason
        assert (
            clearance_floor(
                marked, Decision.release("p", "ok"), _cleared("TOP SECRET", "SI"), ClearanceTerms()
            ).rule
            == "p"
        )

    def test_withholdings_pass_untouched(self) -> None:
        d = Decision.withhold("p", "no")
        assert clearance_floor(lead(level="TOP SECRET"), d, _cleared("RESTRICTED"), ClearanceTerms()) is d


class TestClearanceInARun:
    async def test_the_gateway_applies_the_floor_and_records_why(self) -> None:
        """In a whole run, a SECRET-cleared agency receives only tearlines of the SECRET report, each
        decision naming the floor."""
        s = load_scenario(ROOT / "scenarios" / "examples" / "connect-the-dots.yaml")
        low = s.model_copy(
            update={
                "agencies": tuple(
                    a.model_copy(update={"clearance": "CONFIDENTIAL"}) if a.id == "NSS" else a
                    for a in s.agencies
                )
            }
        )
        result = await replay(RunConfig(scenario=low, policy="fusion-centre", seed=1))
        to_nss = [
            e
            for e in result.events
            if isinstance(e, DecisionEvent) and e.recipient == "NSS" and e.action == "release"
        ]
        floored = [e for e in to_nss if e.rule == CLEARANCE_RULE]
        assert floored and all(e.transforms == ("tearline",) for e in floored)
        assert all("NSS is cleared to CONFIDENTIAL" in e.reason for e in floored)
