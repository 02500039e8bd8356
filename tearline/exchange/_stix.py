"""STIX 2.1: a scenario (and, for a run, who received what and when) as one bundle.

- each agency is an ``identity`` (organisation), located in its country (``location``);
- each inject's lead is a ``report`` (its text, tags and citations), an ``observed-data`` of its
  identifiers (the observables) and, when it has any, an ``indicator`` whose pattern matches them;
- the plots' people are ``threat-actor`` objects, their places ``location`` objects, linked by
  ``targets``; an indicator naming a plot's person ``indicates`` that threat actor;
- leads sharing an identifier are ``related-to`` one another (the links analysts draw);
- for a run: every release is a ``released-to`` relationship (rule, reason, delay in its
  description), every delivery a ``sighting`` of the report where the recipient saw it, and
  every warning an assessment ``report`` ``derived-from`` the leads of its case;
- TLP labels are FIRST's TLP 2.0 marking definitions (their published ids); classification,
  national marking, caveats, Admiralty grading and source are the ``tearline-handling`` property
  extension, defined by its own ``extension-definition`` (which also defines the
  ``tearline-identifier`` observable for identifiers STIX has no type for: phones, vessels...).

Noise leads are not exported: the record names them but their content is drawn at run time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import stix2

from tearline.model import (
    TLP,
    ActionEvent,
    CaseEvent,
    DecisionEvent,
    DeliveryEvent,
    Event,
    Identifier,
    Lead,
    Scenario,
    human_duration,
)

from ._ids import stable_uuid, stix_time

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
"""FIRST's TLP 2.0 extension for STIX marking definitions (published by OASIS)."""

TLP_MARKINGS: dict[TLP, str] = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
"""The published STIX ids of the TLP 2.0 marking definitions (the ``stix2`` library ships TLP 1.0 only)."""

HANDLING_EXTENSION = (
    f"extension-definition--{stable_uuid('extension-definition', 'tearline-handling', '1.0.0')}"
)
"""Tearline's own extension: handling (classification, caveats, grading) and the identifier observable."""

_PRODUCER = f"identity--{stable_uuid('identity', 'tearline')}"
_EPOCH = "2026-01-01T00:00:00.000Z"
_HANDLING_SCHEMA = (
    "Property extension 'tearline-handling' on report, observed-data and indicator objects: "
    "classification (UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET|TOP SECRET), national_marking (string), "
    "orcon (boolean), noforn (boolean), rel_to (list of ISO 3166-1 alpha-2 codes; absent = unmarked), "
    "admiralty_reliability (A-F), admiralty_credibility (1-6), admiralty_code (e.g. B2), source_type, "
    "source_sensitivity (low|moderate|high|critical), tearline_summary (the releasable text), "
    "named_recipients (agency ids), indicators (list of {kind, detail, from, to}). "
    "New SCO 'tearline-identifier': kind (person|alias|phone|sim|voip|email|account|vessel|passport|"
    "vehicle|address|venue), value (normalised), where (country code, optional). "
    "Documented in Tearline's docs/formats.md."
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _sid(kind: str, *parts: str) -> str:
    return f"{kind}--{stable_uuid(kind, *parts)}"


def _sdo(kind: str, key: tuple[str, ...], at: str, **props: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "spec_version": "2.1",
        "id": _sid(kind, *key),
        "created": at,
        "modified": at,
        **{k: v for k, v in props.items() if v not in (None, [], "")},
    }


def _tlp_marking(label: TLP) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKINGS[label],
        "created": "2022-10-01T00:00:00.000Z",
        "name": f"TLP:{label}",
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": label.lower()}},
    }


def _pattern_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


class _Builder:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.objects: dict[str, dict[str, Any]] = {}
        self.start = stix_time(scenario.start)

    def add(self, obj: dict[str, Any]) -> str:
        self.objects.setdefault(obj["id"], obj)
        return str(obj["id"])

    # -- who -------------------------------------------------------------------------------------
    def agencies(self) -> None:
        for a in self.s.agencies:
            country = self.add(
                _sdo("location", ("country", a.country), self.start, name=a.country, country=a.country)
            )
            agency = self.add(
                _sdo(
                    "identity", ("agency", a.id), self.start, name=a.id, identity_class="organization",
                    description=f"{a.name} ({a.kind}, {a.country})" + (" — counterfactual" if a.counterfactual else ""),
                    roles=[a.kind], sectors=["government-national"], created_by_ref=_PRODUCER,
                )
            )  # fmt: skip
            self.add(
                _sdo(
                    "relationship", ("located-at", a.id), self.start, relationship_type="located-at",
                    source_ref=agency, target_ref=country, created_by_ref=_PRODUCER,
                )
            )  # fmt: skip

    def agency(self, agency_id: str) -> str:
        return _sid("identity", "agency", agency_id)

    # -- the plots -------------------------------------------------------------------------------
    def plots(self) -> dict[str, str]:
        """Threat actors and places; returns the id of each person/alias entity's threat actor."""
        actors: dict[str, str] = {}
        for p in self.s.plots:
            at = stix_time(p.attack_at)
            places = []
            for e in p.entities:
                if e.kind in {"person", "alias"}:
                    actors[e.key] = self.add(
                        _sdo(
                            "threat-actor", ("entity", e.key), self.start, name=e.value,
                            description=f"{e.kind} in plot {p.id} ({p.name})",
                            threat_actor_types=["terrorist"], created_by_ref=_PRODUCER,
                        )
                    )  # fmt: skip
                elif e.kind in {"venue", "address"}:
                    places.append(
                        self.add(
                            _sdo(
                                "location", ("entity", e.key), self.start, name=e.value,
                                description=f"{e.kind} targeted by plot {p.id}; attack at {at}",
                                country=e.where or p.jurisdiction[0], created_by_ref=_PRODUCER,
                            )
                        )
                    )  # fmt: skip
            for e in p.entities:
                if e.key in actors:
                    for place in places:
                        self.add(
                            _sdo(
                                "relationship", ("targets", actors[e.key], place), self.start,
                                relationship_type="targets", source_ref=actors[e.key], target_ref=place,
                                start_time=at, created_by_ref=_PRODUCER,
                            )
                        )  # fmt: skip
        return actors

    # -- leads -----------------------------------------------------------------------------------
    def observable(self, ident: Identifier) -> dict[str, Any]:
        if ident.kind == "email" and _EMAIL.match(ident.value):
            return json.loads(stix2.EmailAddress(value=ident.value).serialize())  # type: ignore[no-any-return]
        if ident.kind == "account":
            return json.loads(stix2.UserAccount(user_id=ident.value).serialize())  # type: ignore[no-any-return]
        obj: dict[str, Any] = {
            "type": "tearline-identifier",
            "spec_version": "2.1",
            "id": _sid("tearline-identifier", ident.key, ident.where or ""),
            "kind": ident.kind,
            "value": ident.value,
            "extensions": {HANDLING_EXTENSION: {"extension_type": "new-sco"}},
        }
        if ident.where:
            obj["where"] = ident.where
        return obj

    def pattern_term(self, ident: Identifier) -> str:
        value = _pattern_value(ident.value)
        if ident.kind == "email" and _EMAIL.match(ident.value):
            return f"[email-addr:value = '{value}']"
        if ident.kind == "account":
            return f"[user-account:user_id = '{value}']"
        return f"[tearline-identifier:kind = '{ident.kind}' AND tearline-identifier:value = '{value}']"

    def handling(self, lead: Lead) -> dict[str, Any]:
        ext: dict[str, Any] = {
            "extension_type": "property-extension",
            "classification": lead.marking.level,
            "orcon": lead.caveats.orcon,
            "noforn": lead.caveats.noforn,
            "admiralty_reliability": lead.grading.reliability,
            "admiralty_credibility": lead.grading.credibility,
            "admiralty_code": lead.grading.code,
            "source_type": lead.source.type,
            "source_sensitivity": lead.source.sensitivity,
        }
        if lead.marking.national:
            ext["national_marking"] = lead.marking.national
        if lead.caveats.rel_to is not None:
            ext["rel_to"] = list(lead.caveats.rel_to)
        if lead.summary:
            ext["tearline_summary"] = lead.summary
        if lead.named_recipients:
            ext["named_recipients"] = list(lead.named_recipients)
        if lead.indicators:
            ext["indicators"] = [
                {
                    "kind": i.kind,
                    **({"detail": i.detail} if i.detail else {}),
                    **(
                        {"from": stix_time(i.window.start), "to": stix_time(i.window.end)} if i.window else {}
                    ),
                }
                for i in lead.indicators
            ]
        return {HANDLING_EXTENSION: ext}

    def lead(self, lead: Lead, title: str, actors: dict[str, str], key: str) -> str:
        at = stix_time(lead.observed_at)
        common = {
            "created_by_ref": self.agency(lead.origin),
            "object_marking_refs": [TLP_MARKINGS[lead.tlp]],
            "extensions": self.handling(lead),
        }
        refs: list[str] = []
        if lead.identifiers:
            scos = [self.add(self.observable(i)) for i in lead.identifiers]
            refs.append(
                self.add(
                    _sdo(
                        "observed-data", ("lead", key), at, first_observed=at, last_observed=at,
                        number_observed=1, object_refs=scos, **common,
                    )
                )
            )  # fmt: skip
            indicator = self.add(
                _sdo(
                    "indicator", ("lead", key), at, name=f"identifiers of lead {lead.id}",
                    description=f"Matches the identifiers {lead.origin} reported in lead {lead.id}.",
                    indicator_types=["attribution"],
                    pattern=" OR ".join(self.pattern_term(i) for i in lead.identifiers),
                    pattern_type="stix", valid_from=at, **common,
                )
            )  # fmt: skip
            refs.append(indicator)
            for i in lead.identifiers:
                if i.key in actors:
                    refs.append(actors[i.key])
                    self.add(
                        _sdo(
                            "relationship", ("indicates", indicator, actors[i.key]), at,
                            relationship_type="indicates", source_ref=indicator, target_ref=actors[i.key],
                            created_by_ref=self.agency(lead.origin),
                        )
                    )  # fmt: skip
                place = _sid("location", "entity", i.key)
                if place in self.objects:
                    refs.append(place)
        report = _sdo(
            "report", ("lead", key), at, name=title, description=lead.detail or lead.summary,
            report_types=["threat-actor" if actors.keys() & {i.key for i in lead.identifiers} else "threat-report"],
            published=at, object_refs=refs or [self.agency(lead.origin)], labels=sorted({i.kind for i in lead.indicators}),
            external_references=[
                {"source_name": "tearline-seeds", "external_id": c, "description": "fact in Tearline's seeds/"}
                for c in lead.cites
            ],
            **common,
        )  # fmt: skip
        return self.add(report)

    def report_id(self, key: str) -> str:
        return _sid("report", "lead", key)


def _links(b: _Builder, leads: Sequence[Lead]) -> None:
    """Leads naming the same identifier: each is related to the earlier one that named it."""
    last: dict[str, Lead] = {}
    for lead in sorted(leads, key=lambda x: (x.observed_at, x.id)):
        for i in lead.identifiers:
            before = last.get(i.key)
            if before is not None and before.id != lead.id:
                at = stix_time(lead.observed_at)
                b.add(
                    _sdo(
                        "relationship", ("related-to", before.id, lead.id), at,
                        relationship_type="related-to", source_ref=b.report_id(lead.id),
                        target_ref=b.report_id(before.id), description=f"both name {i.kind} {i.value}",
                        created_by_ref=_PRODUCER,
                    )
                )  # fmt: skip
            last[i.key] = lead


def _run(b: _Builder, events: Sequence[Event], exported: set[str]) -> None:
    """Releases, deliveries (sightings) and assessments from a run's record."""
    for e in events:
        if isinstance(e, ActionEvent) and e.action == "warn" and e.lead:
            at = stix_time(e.at)
            case = next(
                (c for c in events if isinstance(c, CaseEvent) and c.case == e.case and c.at <= e.at), None
            )
            built_from = [lead for lead in (case.leads if case else ()) if lead in exported]
            idents = [Identifier(kind=k.split(":", 1)[0], value=k.split(":", 1)[1]) for k in e.identifiers]  # type: ignore[arg-type]
            scos = [b.add(b.observable(i)) for i in idents]
            rid = b.add(
                _sdo(
                    "report", ("lead", e.lead), at, name=f"{e.lead}: assessment by {e.agency} (case {e.case})",
                    description=f"{e.agency} warns: case {e.case} scores {e.score:.2f} on {len(idents)} identifier(s).",
                    report_types=["threat-report"], published=at,
                    object_refs=scos or [b.agency(e.agency)], created_by_ref=b.agency(e.agency),
                )
            )  # fmt: skip
            exported.add(e.lead)
            for src in built_from:
                b.add(
                    _sdo(
                        "relationship", ("derived-from", e.lead, src), at, relationship_type="derived-from",
                        source_ref=rid, target_ref=b.report_id(src), created_by_ref=b.agency(e.agency),
                    )
                )  # fmt: skip
    for e in events:
        if isinstance(e, DecisionEvent) and e.action == "release" and e.lead in exported:
            text = f"{e.sender} releases lead {e.lead} to {e.recipient} under {e.rule}: {e.reason}"
            if e.delay:
                text += f"; after {human_duration(e.delay)}"
            if e.transforms:
                text += f"; transformed: {', '.join(e.transforms)}"
            b.add(
                _sdo(
                    "relationship", ("released-to", e.lead, e.sender, e.recipient), stix_time(e.at),
                    relationship_type="released-to", source_ref=b.report_id(e.lead),
                    target_ref=b.agency(e.recipient), description=text, start_time=stix_time(e.at),
                    created_by_ref=b.agency(e.sender),
                )
            )  # fmt: skip
        elif isinstance(e, DeliveryEvent) and e.lead in exported:
            at = stix_time(e.at)
            b.add(
                _sdo(
                    "sighting", ("delivery", e.lead, e.agency, str(e.at)), at,
                    description=f"{e.agency} received lead {e.lead} from {e.sender} ({e.backlog} waiting for triage)",
                    sighting_of_ref=b.report_id(e.lead), where_sighted_refs=[b.agency(e.agency)],
                    first_seen=at, last_seen=at, count=1, created_by_ref=b.agency(e.agency),
                )
            )  # fmt: skip


def stix_bundle(
    scenario: Scenario, events: Sequence[Event] | None = None, run_id: str = ""
) -> dict[str, Any]:
    """The scenario (with a run's releases, deliveries and assessments when ``events`` is given) as a
    STIX 2.1 bundle, ready for ``json.dumps``. Same inputs, same bundle, byte for byte."""
    b = _Builder(scenario)
    b.add(
        _sdo(
            "identity", ("tearline",), _EPOCH, name="Tearline", identity_class="system",
            description="The simulator that produced this bundle.",
        )
    )  # fmt: skip
    b.add(
        _sdo(
            "extension-definition", ("tearline-handling", "1.0.0"), _EPOCH, name="tearline-handling",
            description="Handling of an intelligence lead (classification, caveats, Admiralty grading, source) "
            "and the identifier observable.",
            created_by_ref=_PRODUCER, schema=_HANDLING_SCHEMA, version="1.0.0",
            extension_types=["property-extension", "new-sco"],
        )
    )  # fmt: skip
    for label in TLP_MARKINGS:
        b.add(_tlp_marking(label))
    b.agencies()
    actors = b.plots()
    leads = [scenario.lead_of(i) for i in scenario.injects]
    for inject, lead in zip(scenario.injects, leads, strict=True):
        b.lead(lead, f"{inject.id}: {inject.what}", actors, lead.id)
    _links(b, leads)
    if events is not None:
        _run(b, events, {lead.id for lead in leads})
    key = f"{scenario.id}/{run_id}" if events is not None else scenario.id
    return {
        "type": "bundle",
        "id": f"bundle--{stable_uuid('bundle', key)}",
        "objects": list(b.objects.values()),
    }


def validate_stix(bundle: dict[str, Any]) -> list[str]:
    """Errors the OASIS STIX 2.1 validator finds in ``bundle`` (empty when it is valid)."""
    from stix2validator import ValidationOptions, validate_instance

    result = validate_instance(bundle, ValidationOptions(version="2.1"))
    if result.is_valid:
        return []
    messages: list[str] = []
    for obj in getattr(result, "object_results", None) or [result]:
        messages.extend(f"{obj.object_id}: {e.message}" for e in getattr(obj, "errors", []))
    return messages or ["the bundle is not valid STIX 2.1"]
