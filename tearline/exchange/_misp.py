"""MISP: a scenario's (or a run's) leads as MISP events, and MISP events back as scenario injects.

The mapping (both ways; docs/formats.md has the table):

- one event per inject: ``info`` is the inject's line, ``Orgc`` the observing agency, ``date`` its day;
- an ``intelligence-report`` object holds the inject id (``report-id``), the time (``date-time``), the
  full text (``narrative``), the releasable tearline text (``comment``), the Admiralty code
  (``evaluation``), the classification, the source type (``report-type``) and the citations (``sources``);
- each identifier is an attribute (``full-name``, ``phone-number``, ``email``, ``passport-number``,
  ``target-location`` or ``text``) tagged ``tearline:identifier="KIND"`` (and ``tearline:where``);
- each indicator is a ``text`` attribute tagged ``tearline:indicator="KIND"``, its window as
  ``first_seen``/``last_seen``;
- TLP is the ``tlp`` taxonomy, the grading the ``admiralty-scale`` taxonomy; classification,
  national marking, caveats, source and named recipients are ``tearline:`` tags;
- distribution and sharing group come from the ``misp-distribution`` policy's settings;
- for a run, each delivery is a sighting of the report by the recipient.

What does not map: an inject's ``as_happened`` releases (history, not a property of the lead), its
``disputed`` flag (derived from the seeds on loading) and its ``uncertain`` window and chance (a MISP
event has one date).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymisp import MISPEvent, MISPObject, MISPOrganisation, MISPSharingGroup

from tearline.model import (
    DeliveryEvent,
    Event,
    Inject,
    Lead,
    Locator,
    PolicyError,
    Problem,
    Scenario,
    ScenarioError,
    field_path,
    iso,
    read,
    validate,
)
from tearline.policies import MispDistribution, load_policy

from ._ids import stable_uuid

DISTRIBUTION: dict[str, int] = {"organisation": 0, "community": 1, "connected": 2, "all": 3, "group": 4}
"""MISP's distribution numbers for the ``misp-distribution`` policy's levels."""

NOT_MAPPED: tuple[str, ...] = ("as_happened", "checks", "disputed", "processing", "uncertain")
"""Inject fields a MISP event does not carry."""

_TYPE_OF_KIND = {
    "person": "full-name", "phone": "phone-number", "sim": "phone-number", "voip": "phone-number",
    "email": "email", "passport": "passport-number", "venue": "target-location", "address": "target-location",
}  # fmt: skip
_KIND_OF_TYPE = {
    "full-name": "person", "phone-number": "phone", "email": "email", "email-src": "email",
    "email-dst": "email", "passport-number": "passport", "target-location": "venue",
}  # fmt: skip
_TLP_TAG = re.compile(r"^tlp:(clear|white|green|amber|amber\+strict|red)$", re.IGNORECASE)
_TAG = re.compile(r'^(?P<ns>[a-z-]+):(?P<pred>[a-z-]+)(="(?P<value>.*)")?$')


def _when(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _org(agency: str) -> MISPOrganisation:
    org = MISPOrganisation()
    org.from_dict(name=agency, uuid=str(stable_uuid("misp-org", agency)))
    return org


def _distribution_policy(spec: str) -> MispDistribution:
    policy = load_policy(spec)
    if not isinstance(policy, MispDistribution):
        raise PolicyError(
            f"{spec!r} is not a misp-distribution policy; give its settings as "
            "misp-distribution:level=...,groups=... (see: tearline policies show misp-distribution)"
        )
    return policy


def _lead_tags(lead: Lead) -> Iterator[str]:
    yield f"tlp:{lead.tlp.lower()}"
    yield f'admiralty-scale:source-reliability="{lead.grading.reliability.lower()}"'
    yield f'admiralty-scale:information-credibility="{lead.grading.credibility}"'
    yield f'tearline:classification="{lead.marking.level}"'
    if lead.marking.national:
        yield f'tearline:national-marking="{lead.marking.national}"'
    if lead.caveats.orcon:
        yield 'tearline:caveat="orcon"'
    if lead.caveats.noforn:
        yield 'tearline:caveat="noforn"'
    if lead.caveats.rel_to is not None:
        yield from (f'tearline:rel-to="{c}"' for c in lead.caveats.rel_to or ("none",))
    yield f'tearline:source-type="{lead.source.type}"'
    yield f'tearline:source-sensitivity="{lead.source.sensitivity}"'
    yield from (f'tearline:named-recipient="{r}"' for r in lead.named_recipients)


def misp_event(
    scenario: Scenario, inject: Inject, policy: MispDistribution, deliveries: Sequence[DeliveryEvent] = ()
) -> MISPEvent:
    """One inject's lead as a MISP event (with the run's deliveries as sightings, if given)."""
    lead = scenario.lead_of(inject)
    n = 0

    def uid() -> str:
        nonlocal n
        n += 1
        return str(stable_uuid("misp-attribute", scenario.id, inject.id, str(n)))

    ev = MISPEvent()
    ev.uuid = str(stable_uuid("misp-event", scenario.id, inject.id))
    ev.info = inject.what
    ev.date = _when(inject.at).date()
    ev.analysis = 2
    ev.threat_level_id = 4
    ev.Orgc = _org(inject.observer)
    ev.Org = _org(inject.observer)
    level, group, members = policy.distribution(lead, scenario.resolved)
    ev.distribution = DISTRIBUTION[level]
    if group is not None:
        sg = MISPSharingGroup()
        sg.from_dict(
            name=group,
            uuid=str(stable_uuid("misp-sharing-group", scenario.id, group, *members)),
            SharingGroupOrg=[{"Organisation": _org(m).to_dict()} for m in members],
        )
        ev.SharingGroup = sg
    for tag in _lead_tags(lead):
        ev.add_tag(tag)
    report = MISPObject("intelligence-report", standalone=False)
    report.uuid = uid()
    report_id = report.add_attribute("report-id", value=inject.id, uuid=uid())
    report.add_attribute("date-time", value=_when(inject.at), uuid=uid())
    report.add_attribute("narrative", value=lead.detail, uuid=uid())
    report.add_attribute("comment", value=lead.summary, uuid=uid())
    report.add_attribute("evaluation", value=lead.grading.code, uuid=uid())
    report.add_attribute(
        "classification",
        value=lead.marking.level + (f" ({lead.marking.national})" if lead.marking.national else ""),
        uuid=uid(),
    )
    report.add_attribute("report-type", value=lead.source.type, uuid=uid())
    for c in lead.cites:
        report.add_attribute("sources", value=c, uuid=uid())
    for d in deliveries:
        report_id.add_sighting({"source": d.agency, "date_sighting": str(d.at), "type": "0"})  # type: ignore[union-attr]
    ev.add_object(report)
    for ident in lead.identifiers:
        a = ev.add_attribute(
            _TYPE_OF_KIND.get(ident.kind, "text"), ident.value, uuid=uid(), comment=ident.kind
        )
        a.add_tag(f'tearline:identifier="{ident.kind}"')  # type: ignore[union-attr]
        if ident.where:
            a.add_tag(f'tearline:where="{ident.where}"')  # type: ignore[union-attr]
    for ind in lead.indicators:
        kwargs: dict[str, Any] = {"category": "Other", "uuid": uid(), "comment": f"indicator: {ind.kind}"}
        if ind.window is not None:
            kwargs |= {"first_seen": _when(ind.window.start), "last_seen": _when(ind.window.end)}
        a = ev.add_attribute("text", ind.detail or f"({ind.kind})", **kwargs)
        a.add_tag(f'tearline:indicator="{ind.kind}"')  # type: ignore[union-attr]
    if lead.source.method:
        a = ev.add_attribute("text", lead.source.method, category="Internal reference", uuid=uid())
        a.add_tag('tearline:field="source-method"')  # type: ignore[union-attr]
    return ev


def misp_events(
    scenario: Scenario, policy: str = "misp-distribution", events: Sequence[Event] | None = None
) -> list[MISPEvent]:
    """Every inject's lead as a MISP event; with a run's ``events``, only the leads published in it,
    each with its deliveries as sightings."""
    dist = _distribution_policy(policy)
    if events is None:
        return [misp_event(scenario, i, dist) for i in scenario.injects]
    published = {e.lead for e in events if e.kind == "publish"}
    deliveries: dict[str, list[DeliveryEvent]] = {}
    for e in events:
        if isinstance(e, DeliveryEvent):
            deliveries.setdefault(e.lead, []).append(e)
    return [
        misp_event(scenario, i, dist, deliveries.get(i.id, ())) for i in scenario.injects if i.id in published
    ]


def misp_json(events: Sequence[MISPEvent]) -> str:
    """Events as MISP's JSON export: a list of ``{"Event": ...}``, keys sorted, stable."""
    return (
        json.dumps(
            [{"Event": json.loads(e.to_json(sort_keys=True))} for e in events], indent=2, sort_keys=True
        )
        + "\n"
    )


# -- import -----------------------------------------------------------------------------------------
@dataclass
class MispImport:
    """What ``tearline import misp`` read: the injects, and what it left out (with where and why)."""

    injects: list[Inject]
    skipped: list[Problem] = field(default_factory=list)


def _tag_names(node: dict[str, Any]) -> list[str]:
    return [str(t.get("name", "")) for t in node.get("Tag", []) if isinstance(t, dict)]


def _tag_value(names: Sequence[str], ns: str, pred: str) -> list[str]:
    out = []
    for name in names:
        m = _TAG.match(name)
        if m and m["ns"] == ns and m["pred"] == pred and m["value"] is not None:
            out.append(m["value"])
    return out


def _events_in(data: Any) -> list[tuple[tuple[int | str, ...], dict[str, Any]]]:
    if isinstance(data, dict) and isinstance(data.get("response"), list):
        data = data["response"]
        prefix: tuple[int | str, ...] = ("response",)
    else:
        prefix = ()
    items = data if isinstance(data, list) else [data]
    out = []
    for i, item in enumerate(items):
        loc = (*prefix, i) if isinstance(data, list) else prefix
        if isinstance(item, dict) and isinstance(item.get("Event"), dict):
            out.append(((*loc, "Event"), item["Event"]))
        elif isinstance(item, dict) and "info" in item:
            out.append((loc, item))
        else:
            out.append((loc, {}))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "event"


def _one(
    ev: dict[str, Any],
    loc: tuple[int | str, ...],
    problems: list[Problem],
    skipped: list[Problem],
    locate: Locator,
) -> dict[str, Any] | None:
    def problem(where: tuple[int | str, ...], reason: str, into: list[Problem] = problems) -> None:
        into.append(Problem(field_path((*loc, *where)), reason, locate((*loc, *where))))

    if not ev:
        problem((), 'not a MISP event: expected {"Event": {...}} with info, Orgc, Attribute')
        return None
    tags = _tag_names(ev)
    report: dict[str, list[str]] = {}
    identifiers: list[dict[str, Any]] = []
    indicators: list[dict[str, Any]] = []
    method: str | None = None
    for j, obj in enumerate(ev.get("Object", []) or []):
        name = obj.get("name")
        rels = [(a.get("object_relation"), str(a.get("value", ""))) for a in obj.get("Attribute", [])]
        if name == "intelligence-report":
            for rel, value in rels:
                report.setdefault(str(rel), []).append(value)
        elif name == "person":
            for rel, value in rels:
                kind = {"full-name": "person", "alias": "alias", "passport-number": "passport",
                        "phone-number": "phone", "e-mail": "email"}.get(str(rel))  # fmt: skip
                if kind:
                    identifiers.append({"kind": kind, "value": value})
                else:
                    problem(
                        ("Object", j), f"person attribute {rel!r} has no Tearline identifier kind", skipped
                    )
        else:
            problem(
                ("Object", j, "name"),
                f"MISP object {name!r} has no Tearline mapping (intelligence-report and person do)",
            )
    for j, attr in enumerate(ev.get("Attribute", []) or []):
        atags = _tag_names(attr)
        value = str(attr.get("value", ""))
        kind_tag = _tag_value(atags, "tearline", "identifier")
        ind_tag = _tag_value(atags, "tearline", "indicator")
        if _tag_value(atags, "tearline", "field") == ["source-method"]:
            method = value
        elif ind_tag:
            ind: dict[str, Any] = {"kind": ind_tag[0], "detail": "" if value == f"({ind_tag[0]})" else value}
            if attr.get("first_seen") and attr.get("last_seen"):
                ind["window"] = {"from": attr["first_seen"], "to": attr["last_seen"]}
            indicators.append(ind)
        elif kind_tag or attr.get("type") in _KIND_OF_TYPE:
            ident: dict[str, Any] = {
                "kind": kind_tag[0] if kind_tag else _KIND_OF_TYPE[attr["type"]],
                "value": value,
            }
            where = _tag_value(atags, "tearline", "where")
            if where:
                ident["where"] = where[0]
            identifiers.append(ident)
        else:
            problem(
                ("Attribute", j, "type"),
                f"MISP attribute type {attr.get('type')!r} has no Tearline identifier kind "
                f'(mapped: {", ".join(sorted(_KIND_OF_TYPE))}, or any type tagged tearline:identifier="KIND")',
            )
    observer = str((ev.get("Orgc") or ev.get("Org") or {}).get("name", ""))
    when: Any = (report.get("date-time") or [""])[0] or ev.get("timestamp") or ev.get("date")
    if isinstance(when, str) and when.isdigit():
        when = iso(int(when))
    elif isinstance(when, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", when):
        when += "T00:00:00+00:00"
    tlp = next((m[1].upper().replace("WHITE", "CLEAR") for t in tags if (m := _TLP_TAG.match(t))), None)
    rel = _tag_value(tags, "admiralty-scale", "source-reliability")
    cred = _tag_value(tags, "admiralty-scale", "information-credibility")
    rel_to = _tag_value(tags, "tearline", "rel-to")
    caveats = set(_tag_value(tags, "tearline", "caveat"))
    lead: dict[str, Any] = {
        "identifiers": identifiers,
        "indicators": indicators,
        "marking": {
            "level": (_tag_value(tags, "tearline", "classification") or ["SECRET"])[0],
            "national": (_tag_value(tags, "tearline", "national-marking") or [""])[0],
        },
        "caveats": {
            "orcon": "orcon" in caveats,
            "noforn": "noforn" in caveats,
            "rel_to": None if not rel_to else [c for c in rel_to if c != "none"],
        },
        "source": {
            "type": (_tag_value(tags, "tearline", "source-type") or report.get("report-type") or ["HUMINT"])[
                0
            ],
            "sensitivity": (_tag_value(tags, "tearline", "source-sensitivity") or ["moderate"])[0],
            "method": method,
        },
        # a text equal to the event's info is the inject's default (its one line), so it is left out
        "summary": next((t for t in report.get("comment", []) if t != ev.get("info")), ""),
        "detail": next((t for t in report.get("narrative", []) if t != ev.get("info")), ""),
        "named_recipients": _tag_value(tags, "tearline", "named-recipient"),
    }
    if tlp:
        lead["tlp"] = tlp
    if rel and cred:
        lead["grading"] = f"{rel[0].upper()}{cred[0]}"
    known = ("tlp:", "admiralty-scale:", "tearline:")
    for t in tags:
        if not t.lower().startswith(known):
            problem(("Tag",), f"tag {t!r} has no Tearline meaning; left out", skipped)
    uid = str(ev.get("uuid", ""))
    return {
        "id": (report.get("report-id") or [f"misp-{_slug(uid[:8] or str(ev.get('info', '')))}"])[0],
        "at": when,
        "observer": observer,
        "what": ev.get("info", ""),
        "lead": lead,
        "cites": report.get("sources", []),
    }


def injects_from_misp(path: Path, *, skip_unmapped: bool = False) -> MispImport:
    """Read a MISP event JSON export (one event, a list, or a search ``response``) as scenario injects.

    Attributes and objects with no Tearline meaning are errors (a ScenarioError naming the file, line
    and field), or, with ``skip_unmapped``, left out and listed in ``skipped``.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(str(path), [Problem("(file)", "no such MISP event file")])
    data, locate = read(path)  # JSON is YAML: the same reader gives line numbers
    problems: list[Problem] = []
    skipped: list[Problem] = []
    injects: list[Inject] = []
    for loc, ev in _events_in(data):
        before = len(problems)
        raw = _one(ev, loc, problems, skipped, locate)
        if skip_unmapped:
            skipped.extend(problems[before:])
            del problems[before:]
        if raw is None or len(problems) > before:
            continue

        def at(sub: Sequence[int | str], loc: tuple[int | str, ...] = loc) -> int | None:
            return locate(loc)

        try:
            injects.append(validate(Inject, raw, path, at))
        except ScenarioError as exc:
            problems.extend(
                Problem(f"{field_path(loc)} → inject.{p.field}", p.reason, p.line) for p in exc.problems
            )
    if problems:
        raise ScenarioError(str(path), problems)
    return MispImport(injects, skipped)


def injects_yaml(injects: Sequence[Inject]) -> list[dict[str, Any]]:
    """Injects as the scenario (and ``exercise inject``) YAML format holds them."""
    return [i.model_dump(mode="json", by_alias=True, exclude_defaults=True) for i in injects]
