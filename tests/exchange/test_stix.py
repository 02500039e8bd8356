"""STIX 2.1 export: bundles the OASIS validator accepts, with TLP 2.0, the handling extension and a run's sightings."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import stix2

from tearline import Identifier, RunResult, Scenario
from tearline.exchange import HANDLING_EXTENSION, TLP_MARKINGS, stix_bundle, validate_stix
from tearline.model import iso


def of_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [o for o in bundle["objects"] if o["type"] == kind]


class TestHistoricalBundles:
    @pytest.mark.parametrize("name", ["mumbai-2008", "paris-2015"])
    def test_validates_without_errors(self, historical: dict[str, Scenario], name: str) -> None:
        """The bundle of each historical scenario passes the OASIS STIX 2.1 validator with no error."""
        assert validate_stix(stix_bundle(historical[name])) == []

    @pytest.mark.parametrize("name", ["mumbai-2008", "paris-2015"])
    def test_the_stix2_library_parses_it(self, historical: dict[str, Scenario], name: str) -> None:
        """The stix2 library reads the bundle back, custom observable and extensions included."""
        parsed = stix2.parse(json.dumps(stix_bundle(historical[name])), allow_custom=True)
        assert parsed.type == "bundle"

    def test_a_broken_bundle_fails(self, historical: dict[str, Scenario]) -> None:
        """The validator really runs: a report with a malformed timestamp and no name is rejected."""
        bundle = copy.deepcopy(stix_bundle(historical["mumbai-2008"]))
        report = of_type(bundle, "report")[0]
        report["published"] = "26 November 2008"
        del report["name"]
        errors = validate_stix(bundle)
        assert errors
        assert any(report["id"] in e for e in errors)


class TestContent:
    def test_agencies_are_identities(self, historical: dict[str, Scenario]) -> None:
        """Every agency is an organisation identity named by its id."""
        s = historical["mumbai-2008"]
        names = {
            o["name"] for o in of_type(stix_bundle(s), "identity") if o["identity_class"] == "organization"
        }
        assert names == {a.id for a in s.agencies}

    def test_every_inject_is_a_report_with_its_tlp_and_handling(
        self, historical: dict[str, Scenario]
    ) -> None:
        """Each inject's lead is a report marked with FIRST's TLP 2.0 id and carrying its grading and classification."""
        s = historical["mumbai-2008"]
        reports = {o["name"].split(":")[0]: o for o in of_type(stix_bundle(s), "report")}
        for inject in s.injects:
            lead = s.lead_of(inject)
            report = reports[inject.id]
            assert report["object_marking_refs"] == [TLP_MARKINGS[lead.tlp]]
            ext = report["extensions"][HANDLING_EXTENSION]
            assert ext["admiralty_code"] == lead.grading.code
            assert ext["classification"] == lead.marking.level
            assert [r["external_id"] for r in report.get("external_references", [])] == list(lead.cites)

    def test_tlp_markings_use_the_published_ids(self, teaching: Scenario) -> None:
        """The TLP marking definitions are the published TLP 2.0 objects, with the tlp_2_0 extension."""
        markings = {o["id"]: o for o in of_type(stix_bundle(teaching), "marking-definition")}
        assert (
            markings["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]["name"] == "TLP:AMBER+STRICT"
        )
        ext = markings[TLP_MARKINGS["RED"]]["extensions"][
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
        ]
        assert ext == {"extension_type": "property-extension", "tlp_2_0": "red"}

    def test_handling_extension_is_defined_in_the_bundle(self, teaching: Scenario) -> None:
        """The property extension every lead uses has its own extension-definition object."""
        defs = {o["id"]: o for o in of_type(stix_bundle(teaching), "extension-definition")}
        assert set(defs[HANDLING_EXTENSION]["extension_types"]) == {"property-extension", "new-sco"}

    def test_plot_people_and_places(self, historical: dict[str, Scenario]) -> None:
        """A plot's people are threat actors, its places locations, linked by 'targets'."""
        s = historical["mumbai-2008"]
        bundle = stix_bundle(s)
        actors = {o["name"] for o in of_type(bundle, "threat-actor")}
        places = {o["name"] for o in of_type(bundle, "location")}
        for e in s.plots[0].entities:
            if e.kind in {"person", "alias"}:
                assert e.value in actors
            if e.kind in {"venue", "address"}:
                assert e.value in places
        assert any(r["relationship_type"] == "targets" for r in of_type(bundle, "relationship"))

    def test_same_scenario_same_bundle(self, teaching: Scenario) -> None:
        """Exports are deterministic: the same scenario gives the same bytes."""
        assert json.dumps(stix_bundle(teaching), sort_keys=True) == json.dumps(
            stix_bundle(teaching), sort_keys=True
        )


class TestAwkwardValues:
    def test_quotes_and_backslashes_make_valid_patterns(self, teaching: Scenario) -> None:
        """Identifier values with quotes, backslashes and unicode are escaped into patterns the validator parses."""
        inject = teaching.injects[0]
        odd = (
            Identifier(kind="person", value='o\'brien \\ "the fox"'),
            Identifier(kind="email", value="not an e-mail"),
            Identifier(kind="venue", value="café de l'ère", where="XN"),
        )
        lead = inject.lead.model_copy(update={"identifiers": odd})
        s = teaching.model_copy(
            update={"injects": (inject.model_copy(update={"lead": lead}), *teaching.injects[1:])}
        )
        bundle = stix_bundle(s)
        (indicator,) = [o for o in of_type(bundle, "indicator") if "'o\\'brien" in o["pattern"]]
        assert "tearline-identifier:kind = 'email'" in indicator["pattern"]
        assert validate_stix(bundle) == []


class TestRunBundle:
    def test_deliveries_are_sightings(self, teaching: Scenario, teaching_run: RunResult) -> None:
        """Every delivery of an inject's lead or an assessment is a sighting by the recipient, at the delivery time."""
        bundle = stix_bundle(teaching, teaching_run.events, teaching_run.config.run_id)
        exported = {i.id for i in teaching.injects} | {
            e.lead for e in teaching_run.events if e.kind == "action" and e.lead
        }
        deliveries = [e for e in teaching_run.events if e.kind == "delivery" and e.lead in exported]
        assert deliveries
        sightings = of_type(bundle, "sighting")
        assert len(sightings) == len(deliveries)
        identities = {o["id"]: o["name"] for o in of_type(bundle, "identity")}
        seen = sorted((identities[s["where_sighted_refs"][0]], s["first_seen"]) for s in sightings)
        assert seen == sorted((d.agency, iso(d.at).replace("Z", ".000Z")) for d in deliveries)

    def test_releases_are_relationships_and_the_bundle_validates(
        self, teaching: Scenario, teaching_run: RunResult
    ) -> None:
        """Releases become 'released-to' relationships naming their rule, and the run bundle is valid."""
        bundle = stix_bundle(teaching, teaching_run.events, teaching_run.config.run_id)
        released = [r for r in of_type(bundle, "relationship") if r["relationship_type"] == "released-to"]
        assert released
        assert all("under" in r["description"] for r in released)
        assert validate_stix(bundle) == []
