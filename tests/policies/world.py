"""A small fixed world for example-based policy tests: seven agencies in four countries."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tearline import Caveats, Contribution, Identifier, Indicator, Lead, Marking, Scenario, Source
from tearline.policies import Ledger, PolicyContext, Route

START = 1893456000  # 2030-01-01T00:00Z

WORLD: dict[str, Any] = {
    "id": "small-world",
    "title": "small world",
    "description": "for tests",
    "start": "2030-01-01T00:00+00:00",
    "agencies": [
        {"id": "IB", "name": "Intelligence Bureau", "country": "IN", "kind": "domestic-security"},
        {"id": "RAW", "name": "Research and Analysis Wing", "country": "IN", "kind": "foreign-intelligence"},
        {"id": "MHPOL", "name": "Maharashtra Police", "country": "IN", "kind": "police"},
        {"id": "CIA", "name": "CIA", "country": "US", "kind": "foreign-intelligence"},
        {"id": "FBI", "name": "FBI", "country": "US", "kind": "police", "jurisdiction": ["US", "IN"]},
        {"id": "DGSI", "name": "DGSI", "country": "FR", "kind": "domestic-security"},
        {"id": "BEPOL", "name": "Belgian Federal Police", "country": "BE", "kind": "police"},
    ],
    "treaties": [
        {"name": "IN domestic", "between": ["IN", "IN"], "delay": "1d", "max_level": "SECRET"},
        {"name": "IN-US", "between": ["IN", "US"], "delay": "2d", "max_level": "CONFIDENTIAL"},
        {"name": "US-FR", "between": ["US", "FR"], "delay": "1d", "max_level": "SECRET"},
        {"name": "FR-BE", "between": ["FR", "BE"], "delay": "6h", "max_level": "SECRET"},
    ],
    "centres": [{"name": "mac", "members": ["IB", "RAW", "MHPOL"], "delay": "1h"}],
    "plots": [
        {
            "id": "p",
            "name": "plot",
            "attack_at": "2030-02-01T00:00+00:00",
            "place": "x",
            "jurisdiction": ["IN"],
            "entities": [{"kind": "person", "value": "x"}],
        }
    ],
    "injects": [{"id": "i1", "at": "2030-01-01T00:00+00:00", "observer": "IB", "what": "x", "lead": {}}],
}


def world(**changes: Any) -> Scenario:
    return Scenario.model_validate_json(json.dumps({**WORLD, **changes}))


SMALL = world()


def ctx(
    scenario: Scenario = SMALL,
    *,
    now: int = START,
    consents: dict[tuple[str, str], str] | None = None,
    released: dict[tuple[str, str], int] | None = None,
) -> PolicyContext:
    ledger = Ledger(released=Counter(released or {}), consents=dict(consents or {}))  # type: ignore[arg-type]
    return PolicyContext(scenario, scenario.resolved, now, 1, ledger)


def route(sender: str, recipient: str, scenario: Scenario = SMALL) -> Route:
    return Route(scenario.resolved[sender], scenario.resolved[recipient])


def lead(
    origin: str = "IB",
    *,
    id: str = "L1",
    level: str = "SECRET",
    tlp: str = "AMBER",
    where: tuple[str, ...] = (),
    persons: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
    orcon: bool = False,
    noforn: bool = False,
    rel_to: tuple[str, ...] | None = None,
    named: tuple[str, ...] = (),
    third_party: tuple[tuple[str, bool], ...] = (),
    source: str = "HUMINT",
    indicators: tuple[str, ...] = (),
) -> Lead:
    identifiers = (
        *(Identifier(kind="venue", value=f"venue in {w}", where=w) for w in where),
        *(Identifier(kind="person", value=p) for p in persons),
        *(Identifier(kind="phone", value=p) for p in phones),
    )
    return Lead(
        id=id,
        origin=origin,
        observed_at=START,
        identifiers=identifiers,
        indicators=tuple(Indicator(kind=k) for k in indicators),  # type: ignore[arg-type]
        marking=Marking(level=level),  # type: ignore[arg-type]
        caveats=Caveats(orcon=orcon, noforn=noforn, rel_to=rel_to),
        tlp=tlp,  # type: ignore[arg-type]
        source=Source(type=source, sensitivity="high", method="a recruited source"),  # type: ignore[arg-type]
        summary="releasable summary",
        detail="full text naming the source",
        named_recipients=named,
        third_party=tuple(Contribution(agency=a, lead=f"{a}-x", orcon=o) for a, o in third_party),
        derived_from=tuple(f"{a}-x" for a, _ in third_party),
    )
