"""What each page shows, in words: built from the exercise and its record, never from raw ids alone.

A participant's view is built from one agency's holdings and the record events that agency wrote
or that concern it: nothing another agency holds reaches it (need-to-know).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tearline.model import DecisionEvent, DeskEvent, Event, Lead, RequestEvent, SimTime
from tearline.report import Row, run_timeline
from tearline.run import Exercise

TIMELINE_ROWS = 300
"""The facilitator's timeline shows this many rows, newest first."""


@dataclass(frozen=True)
class LeadView:
    """One lead as a participant reads it."""

    id: str
    said: str
    detail: str
    source: str
    """'own collection' or 'from MI5'."""
    observed: str
    marking: str
    grading: str
    identifiers: tuple[str, ...]
    indicators: tuple[str, ...]
    read: bool
    sanitised: bool


@dataclass(frozen=True)
class Edge:
    sender: str
    recipient: str
    released: int
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Node:
    agency: str
    name: str
    x: float
    y: float


def lead_view(lead: Lead, source: str, agency: str, read: bool, at: Callable[[SimTime], str]) -> LeadView:
    """A lead in words, with its markings, as its holder sees it (times in the scenario's zone)."""
    caveats = [
        *(["ORCON"] if lead.caveats.orcon else []),
        *(["NOFORN"] if lead.caveats.noforn else []),
        *([f"REL TO {', '.join(lead.caveats.rel_to)}"] if lead.caveats.rel_to is not None else []),
    ]
    national = f" ({lead.marking.national})" if lead.marking.national else ""
    marking = " · ".join([f"{lead.marking.level}{national}", *caveats, f"TLP:{lead.tlp}"])
    indicators = []
    for ind in lead.indicators:
        window = f" {at(ind.window.start)} – {at(ind.window.end)}" if ind.window is not None else ""
        indicators.append(f"{ind.kind}{': ' + ind.detail if ind.detail else ''}{window}")
    return LeadView(
        id=lead.id,
        said=lead.summary or lead.detail,
        detail=lead.detail if lead.detail != lead.summary else "",
        source="own collection" if source == agency else f"from {source}",
        observed=at(lead.observed_at),
        marking=marking,
        grading=f"{lead.grading.code} · {lead.source.type}, {lead.source.sensitivity} sensitivity",
        identifiers=tuple(
            f"{i.kind}: {i.value}" + (f" ({i.where})" if i.where else "") for i in lead.identifiers
        ),
        indicators=tuple(indicators),
        read=read,
        sanitised=lead.sanitised_from is not None,
    )


def participant(ex: Exercise, agency: str, events: Sequence[Event]) -> dict[str, object]:
    """Everything one agency's page shows: its holdings, its cases, requests to it, its decisions."""
    holdings = ex.holdings(agency)
    own_leads = {h.lead.id for h in holdings}
    view = ex.view(agency)
    noise = ex.world.noise_ids
    mine = [e for e in events if isinstance(e, DeskEvent) and e.agency == agency]
    asked = [
        (e.at, e.sender, ", ".join(e.about) + (f" — {e.what}" if e.what else ""))
        for e in events
        if isinstance(e, RequestEvent) and e.step == "sent" and e.recipient == agency
    ]
    service = ex.agencies[agency]
    return {
        "agency": agency,
        "name": service.agency.name,
        "clock": ex.local(ex.clock),
        "over": ex.over,
        "holdings": [lead_view(h.lead, h.source, agency, h.read, ex.local) for h in holdings if not h.noise],
        "background": sum(1 for h in holdings if h.noise),
        "waiting": view.waiting,
        "cases": [c for c in view.cases if not noise.issuperset(c.leads) and own_leads.issuperset(c.leads)],
        "others": [a for a in ex.agencies if a != agency],
        "decisions": [(ex.local(e.at), e) for e in mine],
        "requests": [(ex.local(at), sender, what) for at, sender, what in asked],
    }


def timeline(ex: Exercise, events: Sequence[Event]) -> list[tuple[str, Row]]:
    """The facilitator's timeline: noise hidden, routine withholdings folded, newest first."""
    rows = list(run_timeline(ex.run.scenario, events, fold=True))
    return [(ex.local(r.at), r) for r in reversed(rows[-TIMELINE_ROWS:])]


def sharing_graph(ex: Exercise, events: Sequence[Event]) -> tuple[list[Node], list[Edge]]:
    """Agencies on a circle; an arrow for each pair with a release so far, labelled with the count."""
    agencies = list(ex.agencies)
    n = len(agencies)
    place: dict[str, tuple[float, float]] = {}
    nodes = []
    for i, a in enumerate(agencies):
        angle = 2 * math.pi * i / n - math.pi / 2
        x, y = 250 + 180 * math.cos(angle), 210 + 170 * math.sin(angle)
        place[a] = (x, y)
        nodes.append(Node(a, ex.agencies[a].agency.name, round(x, 1), round(y, 1)))
    released = Counter(
        (e.sender, e.recipient)
        for e in events
        if isinstance(e, DecisionEvent) and e.action == "release" and e.lead not in ex.world.noise_ids
    )
    edges = []
    for (s, r), count in sorted(released.items()):
        (x1, y1), (x2, y2) = place[s], place[r]
        # shorten to the circles' edges, and offset so that A→B and B→A do not overlap
        dx, dy = x2 - x1, y2 - y1
        d = math.hypot(dx, dy) or 1.0
        ox, oy = -dy / d * 6, dx / d * 6
        edges.append(
            Edge(
                s,
                r,
                count,
                round(x1 + dx / d * 30 + ox, 1),
                round(y1 + dy / d * 30 + oy, 1),
                round(x2 - dx / d * 34 + ox, 1),
                round(y2 - dy / d * 34 + oy, 1),
            )
        )
    return nodes, edges


def choices(events: Sequence[Event], local: Callable[[SimTime], str]) -> list[dict[str, str]]:
    """The players' release and withhold decisions beside what the policy decided for the same route."""
    policy = {
        (e.lead, e.sender, e.recipient): e
        for e in events
        if isinstance(e, DecisionEvent) and e.rule != "desk"
    }
    out = []
    for e in events:
        if isinstance(e, DeskEvent) and e.action != "request":
            d = policy.get((e.lead, e.agency, e.counterpart))
            out.append(
                {
                    "at": local(e.at),
                    "agency": e.agency,
                    "lead": e.lead,
                    "to": e.counterpart,
                    "player": e.action,
                    "policy": f"{d.action} ({d.rule})" if d is not None else "not decided",
                    "agree": "yes" if d is not None and d.action == e.action else "no",
                }
            )
    return out
