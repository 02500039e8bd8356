"""Hypothesis strategies: small worlds (scenarios), leads, routes and gateway ledgers.

Leads carry every marking a policy may read — classification, ORCON/NOFORN/REL TO, TLP, named
recipients, third-party material (sometimes from an agency not in the run), placed identifiers —
and a unique method and detail token, so a test can tell whether they leaked into a copy.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import Any, get_args

from hypothesis import strategies as st

from tearline import Caveats, Contribution, Identifier, Indicator, Lead, Marking, Scenario, Source
from tearline.model._lead import LEVELS, TLP, IdentifierKind, IndicatorKind, Sensitivity, SourceType
from tearline.model._scenario import AgencyKind
from tearline.model._time import DAY
from tearline.policies import Ledger, PolicyContext, Route

COUNTRIES = ("AA", "BB", "CC")
START = "2030-01-01T00:00+00:00"
START_T = 1893456000

# Strategies built once (building them per draw dominates the cost of an example).
_COUNTRY = st.sampled_from(COUNTRIES)
_MAYBE_COUNTRY = st.none() | _COUNTRY
_JURISDICTION = st.lists(_COUNTRY, max_size=2, unique=True)
_REL_TO = st.none() | st.lists(_COUNTRY, max_size=2, unique=True).map(tuple)
_KIND = st.sampled_from(get_args(AgencyKind))
_LEVEL = st.sampled_from(LEVELS)
_TLP = st.sampled_from(get_args(TLP))
_ID_KIND = st.sampled_from(get_args(IdentifierKind))
_INDICATORS = st.lists(st.sampled_from(get_args(IndicatorKind)), max_size=3, unique=True)
_SOURCE = st.sampled_from(get_args(SourceType))
_SENSITIVITY = st.sampled_from(get_args(Sensitivity))
_DELAY = st.sampled_from(["0s", "2h", "1d"])
_BOOL = st.booleans()
_COMPARTMENTS = ("HCS", "SI", "TK")
_MAYBE_LEVEL = st.none() | _LEVEL


@cache
def _one_of(values: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(values)


@cache
def _some_of(values: tuple[str, ...], min_size: int, max_size: int) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), min_size=min_size, max_size=max_size, unique=True)


@st.composite
def worlds(draw: st.DrawFn) -> Scenario:
    """2–5 agencies in up to three countries, with random treaties, a centre and channels."""
    n = draw(st.integers(2, 5))
    agencies = []
    for i in range(n):
        agencies.append(
            {
                "id": f"AG{i}",
                "name": f"Agency {i}",
                "country": draw(_COUNTRY),
                "kind": draw(_KIND),
                "jurisdiction": draw(_JURISDICTION),
                "clearance": draw(_MAYBE_LEVEL),
                "accreditations": draw(st.none() | _some_of(_COMPARTMENTS, 0, 3)),
            }
        )
    ids = [a["id"] for a in agencies]
    parties = _one_of((*ids, *COUNTRIES))
    treaties = [
        {
            "name": f"treaty-{k}",
            "between": [draw(parties), draw(parties)],
            "delay": draw(_DELAY),
            "max_level": draw(_LEVEL),
        }
        for k in range(draw(st.integers(0, 3)))
    ]
    centres = []
    if draw(_BOOL):
        centres.append({"name": "centre", "members": draw(_some_of(tuple(ids), 2, len(ids)))})
    channels = [
        {"from": draw(_one_of(tuple(ids))), "to": draw(_one_of(tuple(ids))), "delay": "1h"}
        for _ in range(draw(st.integers(0, 2)))
    ]
    data: dict[str, Any] = {
        "id": "generated",
        "title": "generated",
        "description": "generated for property tests",
        "start": START,
        "agencies": agencies,
        "treaties": treaties,
        "centres": centres,
        "channels": channels,
        "plots": [
            {
                "id": "p",
                "name": "plot",
                "attack_at": "2030-02-01T00:00+00:00",
                "place": "somewhere",
                "jurisdiction": ["AA"],
                "entities": [{"kind": "person", "value": "x"}],
            }
        ],
        "injects": [{"id": "i1", "at": START, "observer": ids[0], "what": "something", "lead": {}}],
    }
    return Scenario.model_validate_json(json.dumps(data))


@st.composite
def leads(draw: st.DrawFn, scenario: Scenario, tlp: TLP | None = None) -> Lead:
    ids = [a.id for a in scenario.agencies]
    token = draw(st.integers(0, 10**9))
    identifiers = tuple(
        Identifier(
            kind=draw(_ID_KIND),
            value=f"id-{k}",
            where=draw(_MAYBE_COUNTRY),
        )
        for k in range(draw(st.integers(0, 4)))
    )
    indicators = tuple(Indicator(kind=k) for k in draw(_INDICATORS))
    rel_to = draw(_REL_TO)
    third_party = tuple(
        Contribution(agency=draw(_one_of((*ids, "OUTSIDER"))), lead=f"part-{k}", orcon=draw(_BOOL))
        for k in range(draw(st.integers(0, 3)))
    )
    return Lead(
        id=f"L{token}",
        origin=draw(_one_of(tuple(ids))),
        observed_at=START_T + draw(st.integers(0, 20)) * DAY,
        identifiers=identifiers,
        indicators=indicators,
        marking=Marking(level=draw(_LEVEL), compartments=tuple(draw(_some_of(_COMPARTMENTS, 0, 2)))),
        caveats=Caveats(orcon=draw(_BOOL), noforn=draw(_BOOL), rel_to=rel_to),
        tlp=tlp or draw(_TLP),
        source=Source(
            type=draw(_SOURCE),
            sensitivity=draw(_SENSITIVITY),
            method=f"METHOD-{token}",
        ),
        summary="a releasable summary",
        detail=f"DETAIL-{token} the full text",
        named_recipients=tuple(draw(_some_of(tuple(ids), 0, 2))),
        derived_from=tuple(c.lead for c in third_party),
        third_party=third_party,
    )


@dataclass(frozen=True)
class Case:
    """One question for a policy: this lead, this route, this context."""

    lead: Lead
    route: Route
    ctx: PolicyContext

    @property
    def granted(self) -> bool:
        return self.ctx.ledger.consents.get((self.lead.id, self.route.recipient.id)) == "grant"


@st.composite
def cases(draw: st.DrawFn, tlp: TLP | None = None, consents: bool = True) -> Case:
    scenario = draw(worlds())
    lead = draw(leads(scenario, tlp))
    agencies = scenario.resolved
    recipient = draw(_one_of(tuple(a for a in agencies if a != lead.origin)))
    released: Counter[tuple[str, str]] = Counter()
    for _ in range(draw(st.integers(0, 6))):
        released[(draw(_one_of(tuple(agencies))), draw(_one_of(tuple(agencies))))] += 1
    ledger = Ledger(released=released)
    if consents and draw(_BOOL):
        ledger.consents[(lead.id, recipient)] = "grant" if draw(_BOOL) else "refuse"
    ctx = PolicyContext(
        scenario=scenario,
        agencies=agencies,
        now=lead.observed_at + draw(st.integers(0, 5)) * 3600,
        seed=draw(st.integers(0, 1000)),
        ledger=ledger,
    )
    return Case(lead, Route(agencies[lead.origin], agencies[recipient]), ctx)
