"""Forwarding of received leads, and registries answering checks (docs/model.md §3.9)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tearline import RunConfig, Scenario, replay
from tearline.model import (
    LEVELS,
    ConsentEvent,
    DecisionEvent,
    Event,
    ForwardEvent,
    InjectEvent,
    OutcomeEvent,
    RegistryEvent,
    ScenarioError,
)

DAY = 86400
START = "2030-03-01T00:00+00:00"
RUNS = settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def world(**override: Any) -> dict[str, Any]:
    """A foreign service (FIS) learns who, where and when; only the border police (BORD) shares
    with it, and only the security service (NSS) can act. The border police does not judge the
    report worth a warning of its own (act threshold 0.95), but passes on what it receives if its
    forwarding rule says so."""
    data: dict[str, Any] = {
        "id": "forwarding", "title": "forwarding", "description": "forwarding",
        "fictional": "invented to test forwarding and registries",
        "start": START, "end": "2030-03-25T00:00+00:00",
        "defaults": {"processing": "1h", "action_delay": "2h", "act_on": ["identity", "target", "timing"]},
        "agencies": [
            {"id": "FIS", "name": "Foreign service", "country": "XS", "kind": "foreign-intelligence"},
            {"id": "BORD", "name": "Border police", "country": "XN", "kind": "border", "interdicts": False,
             "act_threshold": 0.95},
            {"id": "NSS", "name": "Security service", "country": "XN", "kind": "domestic-security"},
        ],
        "treaties": [
            {"name": "liaison", "between": ["FIS", "BORD"], "delay": 0, "max_level": "TOP SECRET"},
            {"name": "domestic", "between": ["BORD", "NSS"], "delay": 0, "max_level": "TOP SECRET"},
        ],
        "actors": [{"id": "omar", "identifier": {"kind": "person", "value": "Omar Stone"},
                    "whereabouts": [{"from": START, "in": "XN"}]}],
        "plots": [{"id": "station", "name": "station", "attack_at": "2030-03-20T08:00+00:00",
                   "place": "Northport Central Station", "jurisdiction": ["XN"],
                   "entities": [{"kind": "person", "value": "Omar Stone"}], "team": ["omar"]}],
        "injects": [{
            "id": "courier", "at": "2030-03-03T10:00+00:00", "observer": "FIS",
            "what": "Omar Stone will bomb Northport Central Station on 20 March",
            "lead": {"identifiers": [{"kind": "person", "value": "Omar Stone"},
                                     {"kind": "venue", "value": "Northport Central Station", "where": "XN"}],
                     "indicators": [{"kind": "timing", "detail": "20 March",
                                     "window": {"from": "2030-03-19T00:00+00:00", "to": "2030-03-21T00:00+00:00"}}],
                     "marking": {"level": "SECRET"}, "grading": "B2"},
        }],
    }  # fmt: skip
    data.update(override)
    return data


def scenario(data: dict[str, Any]) -> Scenario:
    return Scenario.model_validate_json(json.dumps(data))


def forwarding(rule: dict[str, Any] | None = None, **override: Any) -> dict[str, Any]:
    data = world(**override)
    data["agencies"][1]["forward"] = rule if rule is not None else {"senders": ["FIS"], "after": "1h"}
    return data


async def events(s: Scenario, policy: str = "bilateral", seed: int = 1) -> list[Event]:
    return list((await replay(RunConfig(scenario=s, policy=policy, seed=seed))).events)


def outcome(found: list[Event]) -> str:
    return next(e.result for e in found if isinstance(e, OutcomeEvent) and e.plot == "station")


class TestForwarding:
    async def test_without_a_forwarding_rule_a_received_lead_goes_no_further(self) -> None:
        found = await events(scenario(world()))
        assert not any(isinstance(e, ForwardEvent) for e in found)
        assert not any(
            isinstance(e, DecisionEvent) and e.recipient == "NSS" and e.action == "release" for e in found
        )
        assert outcome(found) == "attack"

    async def test_the_border_police_passes_it_on_and_the_security_service_acts(self) -> None:
        found = await events(scenario(forwarding()))
        fwd = next(e for e in found if isinstance(e, ForwardEvent))
        assert (fwd.agency, fwd.received, fwd.sender, fwd.originator) == ("BORD", "courier", "FIS", "FIS")
        release = next(
            e for e in found if isinstance(e, DecisionEvent) and e.lead == fwd.lead and e.recipient == "NSS"
        )
        assert release.action == "release" and release.sender == "BORD"
        assert outcome(found) == "disrupted"

    async def test_a_rule_for_other_senders_or_kinds_passes_nothing_on(self) -> None:
        for rule in ({"senders": ["NSS"]}, {"kinds": ["phone"]}):
            found = await events(scenario(forwarding(rule)))
            assert not any(isinstance(e, ForwardEvent) for e in found), rule

    async def test_orcon_material_is_never_forwarded(self) -> None:
        data = forwarding()
        data["injects"][0]["lead"]["caveats"] = {"orcon": True}
        found = await events(scenario(data))
        assert not any(isinstance(e, ForwardEvent) for e in found)
        assert outcome(found) == "attack"

    async def test_the_third_party_rule_asks_the_originator(self) -> None:
        """The forwarded copy names its originator: under the third-party rule the gateway asks FIS."""
        found = await events(scenario(forwarding()), policy="deny-overrides:of=bilateral+third-party-rule")
        fwd = next(e for e in found if isinstance(e, ForwardEvent))
        asked = [
            e for e in found if isinstance(e, ConsentEvent) and e.lead == fwd.lead and e.step == "request"
        ]
        assert asked and {e.originator for e in asked} == {"FIS"}

    async def test_a_forwarded_copy_above_the_recipients_clearance_goes_as_a_tearline(self) -> None:
        data = forwarding()
        data["injects"][0]["lead"]["marking"] = {"level": "TOP SECRET"}
        data["agencies"][2]["clearance"] = "SECRET"
        found = await events(scenario(data))
        fwd = next(e for e in found if isinstance(e, ForwardEvent))
        release = next(
            e for e in found if isinstance(e, DecisionEvent) and e.lead == fwd.lead and e.recipient == "NSS"
        )
        assert release.rule == "clearance floor" and release.transforms


@st.composite
def forwarding_worlds(draw: st.DrawFn) -> tuple[Scenario, str]:
    """Three agencies with drawn clearances and forwarding rules, leads at drawn levels with drawn
    ORCON caveats, and a policy drawn from those that let a received lead travel on."""
    data = world()
    for a in data["agencies"]:
        a["clearance"] = draw(st.sampled_from(LEVELS))
        a["act_threshold"] = (
            1.0  # no assessments (B2 leads never score 1): every lead that travels is an inject or a forwarded copy
        )
        if draw(st.booleans()):
            a["forward"] = {"after": draw(st.sampled_from(["0s", "1h", "1d"]))}
    data["treaties"].append(
        {"name": "third", "between": ["FIS", "NSS"], "delay": "1d", "max_level": "SECRET"}
    )
    injects = []
    for n in range(draw(st.integers(1, 4))):
        inject = json.loads(json.dumps(data["injects"][0]))
        inject["id"] = f"i{n}"
        inject["observer"] = draw(st.sampled_from(["FIS", "BORD", "NSS"]))
        inject["at"] = f"2030-03-0{draw(st.integers(2, 9))}T10:00+00:00"
        inject["lead"]["marking"] = {"level": draw(st.sampled_from(LEVELS))}
        inject["lead"]["caveats"] = {"orcon": draw(st.booleans())}
        injects.append(inject)
    data["injects"] = injects
    policy = draw(
        st.sampled_from(["bilateral", "fusion-centre", "deny-overrides:of=bilateral+third-party-rule"])
    )
    if policy == "fusion-centre":
        data["centres"] = [{"name": "all", "members": ["FIS", "BORD", "NSS"]}]
    return scenario(data), policy


class TestForwardingProperties:
    @RUNS
    @given(drawn=forwarding_worlds(), seed=st.integers(0, 20))
    async def test_forwarding_never_delivers_above_clearance_or_against_originator_control(
        self, drawn: tuple[Scenario, str], seed: int
    ) -> None:
        """A forwarded copy is never of ORCON material; it reaches a recipient above its clearance only
        as a tearline; and under the third-party rule it reaches anyone but its originator only after
        the originator consented."""
        s, policy = drawn
        found = await events(s, policy=policy, seed=seed)
        clearance = {a.id: LEVELS.index(a.clearance) for a in s.resolved.values()}
        level = {i.id: LEVELS.index(i.lead.marking.level) for i in s.injects}
        orcon = {i.id for i in s.injects if i.lead.caveats.orcon}
        forwarded = {e.lead: e for e in found if isinstance(e, ForwardEvent)}
        origin_of: dict[str, str] = {}
        for e in forwarded.values():  # in record order: a copy's source is known before it
            origin_of[e.lead] = origin_of.get(e.received, e.received)
            assert origin_of[e.lead] not in orcon, e
            # what the forwarder holds: at most the level it received, and never above its clearance
            level[e.lead] = min(level[e.received], clearance[e.agency])
        granted = {(e.lead, e.recipient) for e in found if isinstance(e, ConsentEvent) and e.step == "grant"}
        for e in found:
            if not (isinstance(e, DecisionEvent) and e.lead in forwarded and e.action == "release"):
                continue
            if level[e.lead] > clearance[e.recipient]:
                assert "tearline" in e.transforms, e
            if "third-party-rule" in policy and e.recipient != forwarded[e.lead].originator:
                assert (e.lead, e.recipient) in granted, e


class TestRegistries:
    def registry_world(self, terrorism: bool, checked_at: str = "2030-03-10T10:00+00:00") -> dict[str, Any]:
        data = world()
        data["injects"] = [{
            "id": "border-check", "at": checked_at, "observer": "BORD", "checks": ["sis"],
            "what": "Omar Stone crosses at the northern border with a second man",
            "lead": {"identifiers": [{"kind": "person", "value": "Omar Stone"},
                                     {"kind": "person", "value": "Ray Dunn"}],
                     "indicators": [{"kind": "travel", "detail": "crosses northbound by car"}],
                     "marking": {"level": "RESTRICTED"}, "grading": "A2"},
        }]  # fmt: skip
        data["registries"] = [{
            "id": "sis", "name": "Schengen Information System", "members": ["BORD", "NSS"],
            "report_delay": "2h",
            "entries": [{"at": "2030-03-05T00:00+00:00", "owner": "NSS", "terrorism": terrorism,
                         "identifier": {"kind": "person", "value": "Omar Stone"},
                         "what": "discreet check requested"}],
        }]  # fmt: skip
        return data

    @pytest.mark.parametrize("terrorism", [True, False])
    async def test_a_check_hits_the_entry_and_reports_to_its_owner(self, terrorism: bool) -> None:
        found = await events(scenario(self.registry_world(terrorism)), policy="siloed")
        steps = [(e.step, e.agency, e.terrorism) for e in found if isinstance(e, RegistryEvent)]
        assert steps == [
            ("entered", None, terrorism),
            ("hit", "BORD", terrorism),
            ("reported", None, terrorism),
        ]
        hit = next(e for e in found if isinstance(e, RegistryEvent) and e.step == "hit")
        report = next(e for e in found if isinstance(e, RegistryEvent) and e.step == "reported")
        assert report.at == hit.at + 7200
        seen = {e.lead: e.observer for e in found if isinstance(e, InjectEvent)}
        assert seen[hit.lead] == "BORD" and seen[report.lead] == "NSS"

    async def test_a_check_before_the_entry_hits_nothing(self) -> None:
        found = await events(scenario(self.registry_world(True, "2030-03-04T10:00+00:00")), policy="siloed")
        assert [e.step for e in found if isinstance(e, RegistryEvent)] == ["entered"]

    def test_an_unknown_registry_or_a_non_member_is_a_located_error(self) -> None:
        from tearline.model._scenario import _reference_problems

        data = self.registry_world(True)
        data["injects"][0]["checks"] = ["vis"]
        problems = list(_reference_problems(scenario(data), None))
        assert any(loc == ("injects", 0, "checks", 0) and "unknown registry" in why for loc, why in problems)
        data["injects"][0]["checks"] = ["sis"]
        data["registries"][0]["members"] = ["NSS"]
        problems = list(_reference_problems(scenario(data), None))
        assert any("not a member" in why for _, why in problems)
        assert ScenarioError  # the loader turns these into file:line errors (tests/test_cli_input.py)
