"""MISP: leads out as events (tags, distribution, sharing groups), and events back in as the same leads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymisp import MISPEvent

from tearline import RunResult, Scenario, ScenarioError
from tearline.exchange import DISTRIBUTION, NOT_MAPPED, injects_from_misp, misp_events, misp_json


def round_trip(s: Scenario, tmp_path: Path, policy: str = "misp-distribution") -> list:  # type: ignore[type-arg]
    path = tmp_path / f"{s.id}.misp.json"
    path.write_text(misp_json(misp_events(s, policy)))
    return injects_from_misp(path).injects


class TestRoundTrip:
    @pytest.mark.parametrize("name", ["mumbai-2008", "paris-2015"])
    def test_scenario_to_misp_to_injects_gives_the_same_leads(
        self, historical: dict[str, Scenario], tmp_path: Path, name: str
    ) -> None:
        """Every inject comes back with the same lead (id, time, holder, identifiers, indicators, markings, text)."""
        s = historical[name]
        back = round_trip(s, tmp_path)
        assert [i.id for i in back] == [i.id for i in s.injects]
        for original, imported in zip(s.injects, back, strict=True):
            assert s.lead_of(imported) == s.lead_of(original)

    def test_only_the_listed_fields_are_lost(self, historical: dict[str, Scenario], tmp_path: Path) -> None:
        """An imported inject equals the original once the fields MISP cannot carry are cleared."""
        s = historical["mumbai-2008"]
        assert any(i.as_happened for i in s.injects)  # something to lose
        cleared = {
            f: {"disputed": False, "uncertain": None, "processing": None}.get(f, ()) for f in NOT_MAPPED
        }
        for original, imported in zip(s.injects, round_trip(s, tmp_path), strict=True):
            assert imported == original.model_copy(update=cleared)

    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        text=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
            lambda t: t.strip() == t  # MISP strips every attribute value (docs/formats.md)
        )
    )
    def test_any_text_survives(self, teaching: Scenario, tmp_path: Path, text: str) -> None:
        """Whatever an inject says (quotes, unicode, markup) comes back unchanged, but for whitespace at
        either end, which MISP strips."""
        inject = teaching.injects[0].model_copy(update={"what": text})
        s = teaching.model_copy(update={"injects": (inject, *teaching.injects[1:])})
        assert round_trip(s, tmp_path)[0].what == text


class TestExport:
    def test_tags_carry_tlp_and_admiralty(self, teaching: Scenario) -> None:
        """Each event is tagged with the tlp and admiralty-scale taxonomies of its lead."""
        for inject, ev in zip(teaching.injects, misp_events(teaching), strict=True):
            lead = teaching.lead_of(inject)
            tags = {t.name for t in ev.tags}
            assert f"tlp:{lead.tlp.lower()}" in tags
            assert f'admiralty-scale:source-reliability="{lead.grading.reliability.lower()}"' in tags
            assert f'admiralty-scale:information-credibility="{lead.grading.credibility}"' in tags

    def test_distribution_follows_the_policy(self, teaching: Scenario) -> None:
        """Levels come from the misp-distribution settings: TLP by default, or a fixed level."""
        by_tlp = {"CLEAR": 3, "GREEN": 2, "AMBER": 1, "AMBER+STRICT": 0, "RED": 4}
        for inject, ev in zip(teaching.injects, misp_events(teaching), strict=True):
            assert ev.distribution == by_tlp[teaching.lead_of(inject).tlp]
        assert {ev.distribution for ev in misp_events(teaching, "misp-distribution:level=connected")} == {
            DISTRIBUTION["connected"]
        }

    def test_sharing_groups_come_from_the_policy(self, teaching: Scenario) -> None:
        """level=group:NAME gives every event that sharing group, with its member agencies as organisations."""
        events = misp_events(teaching, "misp-distribution:level=group:north,groups=north:XN")
        for ev in events:
            assert ev.distribution == 4
            group = ev.SharingGroup
            assert group.name == "north"
            assert sorted(o["Organisation"]["name"] for o in group.SharingGroupOrg) == ["NSIG", "NSS"]

    def test_not_a_misp_policy_is_a_clear_error(self, teaching: Scenario) -> None:
        """Another policy cannot say how MISP distributes: a PolicyError, not a crash."""
        from tearline import PolicyError

        with pytest.raises(PolicyError, match="not a misp-distribution policy"):
            misp_events(teaching, "bilateral")

    def test_pymisp_loads_the_export(self, teaching: Scenario) -> None:
        """The JSON is MISP's event format: PyMISP loads every event back."""
        for item in json.loads(misp_json(misp_events(teaching))):
            ev = MISPEvent()
            ev.load(item)
            assert ev.info and ev.Orgc.name

    def test_a_run_adds_sightings(self, teaching: Scenario, teaching_run: RunResult) -> None:
        """For a run, each delivery of a lead is a sighting by the recipient agency."""
        events = misp_events(teaching, events=teaching_run.events)
        sightings = {
            (ev.info, s["source"])
            for ev in events
            for obj in ev.objects
            for a in obj.attributes
            for s in getattr(a, "sightings", [])
        }
        delivered = {
            (teaching.inject(e.lead).what, e.agency)
            for e in teaching_run.events
            if e.kind == "delivery" and teaching.inject(e.lead)
        }  # type: ignore[union-attr]
        assert delivered and sightings == delivered


class TestImportErrors:
    def write(self, tmp_path: Path, event: dict) -> Path:  # type: ignore[type-arg]
        path = tmp_path / "event.json"
        path.write_text(json.dumps({"Event": event}, indent=2))
        return path

    def test_unmappable_attribute_names_file_line_and_field(self, tmp_path: Path) -> None:
        """An attribute type with no identifier kind is an error naming its place in the file."""
        path = self.write(tmp_path, {"info": "x", "Orgc": {"name": "IB"}, "date": "2008-11-19",
                                     "Attribute": [{"type": "ip-src", "value": "10.0.0.1"}]})  # fmt: skip
        with pytest.raises(ScenarioError) as exc:
            injects_from_misp(path)
        (problem,) = exc.value.problems
        assert problem.field == "Event.Attribute[0].type"
        assert "ip-src" in problem.reason
        assert problem.line is not None

    def test_skip_unmapped_lists_what_was_left_out(self, tmp_path: Path) -> None:
        """With skip_unmapped the event imports and the left-out attribute is listed."""
        path = self.write(tmp_path, {"info": "x", "Orgc": {"name": "IB"}, "date": "2008-11-19",
                                     "Attribute": [{"type": "ip-src", "value": "10.0.0.1"},
                                                   {"type": "email", "value": "a@b.example"}]})  # fmt: skip
        result = injects_from_misp(path, skip_unmapped=True)
        assert [i.key for i in result.injects[0].lead.identifiers] == ["email:a@b.example"]
        assert [p.field for p in result.skipped] == ["Event.Attribute[0].type"]

    def test_an_organisation_that_is_no_agency_id(self, tmp_path: Path) -> None:
        """An Orgc name that cannot be an agency id is reported against the event."""
        path = self.write(tmp_path, {"info": "x", "Orgc": {"name": "circl.lu"}, "date": "2008-11-19"})
        with pytest.raises(ScenarioError, match="observer"):
            injects_from_misp(path)
