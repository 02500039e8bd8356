"""An analyst's casebook: leads linked into cases by identifiers (exactly, or by weaker links with a
strength), each case scored; a watchlist of files that leads can hit; cases that lapse."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field

from tearline.model import (
    IDENTITY_KINDS,
    PLACE_KINDS,
    SELECTOR_KINDS,
    Facet,
    Identifier,
    Lead,
    ResolvedAgency,
    SimTime,
)

from ._links import STRENGTH, Link, blocks, co_travel, pair_link, presence, stronger

MAX_WEAK_HITS = 5
"""Most links weaker than 1 a lead makes when filed, strongest first: a name search returns a ranked
list and an analyst examines the top of it (an assumption). Identical identifiers always link."""

FACET_STRENGTH = 0.5
"""A lead tied to its case more weakly than this adds to the score but shows no facet (who, where,
when) of its own: an analyst does not take a namesake's target for the suspect's."""


@dataclass(frozen=True)
class LeadLink:
    """A link made when a lead was filed: to which lead (or watchlist file), and how strongly."""

    lead: str
    other: str
    link: Link
    file: bool = False
    """The other end is a watchlist file (a background person the agency already held)."""


@dataclass
class Case:
    """One working picture: the leads an analyst has linked, and what they add up to."""

    id: str
    leads: dict[str, Lead] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    links: dict[tuple[str, str], float] = field(default_factory=dict)
    """Links between its leads (a sorted pair of lead ids) weaker than an identical identifier;
    leads sharing an identifier are linked at 1 and need no entry."""
    order: dict[str, int] = field(default_factory=dict)
    """When each lead was filed (the casebook's count): the oldest anchors the case."""
    refreshed: SimTime = 0
    """When a lead last joined it (an alert not refreshed within ``alert_expiry`` lapses)."""
    same: set[tuple[str, str]] = field(default_factory=set)
    """Pairs of identity keys (a sorted pair) an accepted weaker link took for one person or
    conveyance: a transliteration, an alias, a document."""
    _strengths: dict[str, float] | None = field(default=None, repr=False)
    _shown: tuple[bool, bool, int | None, float] | None = field(default=None, repr=False)
    """Cached with the strengths: who, where, the latest end of a timing window (from the firm
    leads), and the score."""

    def add(self, lead: Lead, order: int = 0, at: SimTime = 0) -> None:
        held = self.leads.get(lead.id)
        if held is not None:  # the same lead again (e.g. a copy): keep the fuller identifier set
            merged = {i.key: i for i in (*held.identifiers, *lead.identifiers)}
            lead = held.model_copy(update={"identifiers": tuple(merged[k] for k in sorted(merged))})
        self.leads[lead.id] = lead
        self.order.setdefault(lead.id, order)
        self.keys.update(i.key for i in lead.identifiers)
        self.refreshed = max(self.refreshed, at)
        self._strengths = self._shown = None

    def link(self, a: str, b: str, strength: float, keys: tuple[str, str] = ("", "")) -> None:
        """Record a link weaker than 1 between two of its leads (the strongest one found is kept),
        and, when it joined two identities (``keys``), that they are taken for one."""
        if strength >= 1.0 or a == b:
            return
        if keys[0] != keys[1] and all(k.split(":", 1)[0] in IDENTITY_KINDS for k in keys):
            self.same.add((min(keys), max(keys)))
        pair = (a, b) if a < b else (b, a)
        if strength > self.links.get(pair, 0.0):
            self.links[pair] = strength
            self._strengths = self._shown = None

    def absorb(self, other: Case) -> None:
        """Take in another case's leads and links (a lead bridging the two merges them)."""
        for lead_id in sorted(other.leads, key=lambda k: other.order[k]):
            self.add(other.leads[lead_id], other.order[lead_id], other.refreshed)
        for (a, b), s in other.links.items():
            self.link(a, b, s)
        self.same |= other.same

    def strengths(self) -> dict[str, float]:
        """How firmly each lead belongs to the case, 0..1: the strongest chain of links from the
        case's oldest lead (the product of the links' strengths along it). Leads sharing an
        identifier are linked at 1, so a case built on identical identifiers has every lead at 1."""
        if self._strengths is not None:
            return self._strengths
        if not self.links:
            self._strengths = dict.fromkeys(self.leads, 1.0)
            return self._strengths
        neighbours: dict[str, dict[str, float]] = {k: {} for k in self.leads}
        by_key: dict[str, list[str]] = {}
        for lead_id in sorted(self.leads):
            for key in {i.key for i in self.leads[lead_id].identifiers}:
                by_key.setdefault(key, []).append(lead_id)
        for ids in by_key.values():
            for a in ids[1:]:
                neighbours[ids[0]][a] = neighbours[a][ids[0]] = 1.0
        for (a, b), s in self.links.items():
            if a in neighbours and b in neighbours:
                neighbours[a][b] = max(neighbours[a].get(b, 0.0), s)
                neighbours[b][a] = max(neighbours[b].get(a, 0.0), s)
        anchor = min(self.leads, key=lambda k: (self.order[k], k))
        best: dict[str, float] = {anchor: 1.0}
        heap: list[tuple[float, str]] = [(-1.0, anchor)]
        done: set[str] = set()
        while heap:
            s, lead_id = heapq.heappop(heap)
            if lead_id in done:
                continue
            done.add(lead_id)
            for other, w in sorted(neighbours[lead_id].items()):
                t = -s * w
                if t > best.get(other, 0.0):
                    best[other] = t
                    heapq.heappush(heap, (-t, other))
        # A lead reached by no chain (cannot happen when links are filed with their leads) counts at 0.
        self._strengths = {k: round(best.get(k, 0.0), 6) for k in self.leads}
        return self._strengths

    @property
    def timing(self) -> tuple[tuple[int, int], ...]:
        return tuple(
            sorted(
                {
                    (ind.window.start, ind.window.end)
                    for lead in self.leads.values()
                    for ind in lead.indicators
                    if ind.kind == "timing" and ind.window is not None
                }
            )
        )

    def facets(self, now: SimTime) -> tuple[Facet, ...]:
        """What the analyst can see the case holds: who, where, when (a window not yet past), from
        the leads tied to it at least :data:`FACET_STRENGTH`."""
        who, where, until, _ = self._shows()
        out: list[Facet] = []
        if who:
            out.append("identity")
        if where:
            out.append("target")
        if until is not None and until >= now:
            out.append("timing")
        return tuple(out)

    def _shows(self) -> tuple[bool, bool, int | None, float]:
        if self._shown is None:
            strengths = self.strengths()
            firm = [lead for k, lead in self.leads.items() if strengths[k] >= FACET_STRENGTH]
            kinds = {i.kind for lead in firm for i in lead.identifiers}
            indicators = [i for lead in firm for i in lead.indicators]
            ends = [i.window.end for i in indicators if i.kind == "timing" and i.window is not None]
            miss = 1.0
            for lead in self.leads.values():
                if lead.derived_from and all(d in self.leads for d in lead.derived_from):
                    continue
                miss *= 1.0 - lead.grading.weight * strengths[lead.id]
            self._shown = (
                bool(kinds & IDENTITY_KINDS),
                bool(kinds & PLACE_KINDS) or any(i.kind == "target" for i in indicators),
                max(ends) if ends else None,
                round(1.0 - miss, 6),
            )
        return self._shown

    def score(self) -> float:
        """Corroboration, 0..1: 1 − Π(1 − sᵢ·wᵢ) over the leads' grading weights wᵢ, each scaled by
        how firmly the lead belongs to the case (sᵢ, :meth:`strengths`).

        An assessment whose sources are all in the case adds nothing of its own.
        """
        return self._shows()[3]

    def actionable(self, agency: ResolvedAgency, now: SimTime) -> bool:
        """The one rule for acting on a case: it holds the facets in the agency's ``act_on`` and
        scores at least its ``act_threshold`` (the agency's analysts and the exercise's views agree)."""
        return set(agency.act_on) <= set(self.facets(now)) and self.score() >= agency.act_threshold

    def expired(self, agency: ResolvedAgency, now: SimTime) -> bool:
        """Whether the case has gone unrefreshed longer than the agency's ``alert_expiry``."""
        return agency.alert_expiry is not None and now - self.refreshed > agency.alert_expiry

    def placed(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Where the case places each person or conveyance it names (identifier key → countries):
        the countries of the places a report names it at, directly or through one of its own
        selectors (a number or account a report names with it). A compiled report — an assessment
        of several leads — places no one: it does not say who was where. It ties numbers and
        accounts to a person only when he is the one person it names."""
        selectors: dict[str, set[str]] = {}
        seen_at: dict[str, set[str]] = {}
        for lead in self.leads.values():
            compiled = len(lead.derived_from) > 1
            who = [i.key for i in lead.identifiers if i.kind in IDENTITY_KINDS]
            mine = {i.key for i in lead.identifiers if i.kind in SELECTOR_KINDS}
            for key in who:
                selectors.setdefault(key, set()).update(mine if not compiled or len(who) == 1 else ())
            where = {i.where for i in lead.identifiers if i.kind in PLACE_KINDS and i.where is not None}
            if where and not compiled:
                for i in lead.identifiers:
                    seen_at.setdefault(i.key, set()).update(where)
        for a, b in sorted(self.same):  # one person under two names: each name's reports place him
            if a in selectors and b in selectors:
                selectors[a] |= selectors[b] | {b}
                selectors[b] |= selectors[a] - {b} | {a}
        return tuple(
            (who, tuple(sorted(set().union(seen_at.get(who, ()), *(seen_at.get(s, ()) for s in sels)))))
            for who, sels in sorted(selectors.items())
        )

    def places(self) -> set[str]:
        """Countries of the places in the case (where known)."""
        return {
            i.where
            for lead in self.leads.values()
            for i in lead.identifiers
            if i.kind in PLACE_KINDS and i.where is not None
        }


def _number(case_id: str) -> int:
    return int(case_id.rsplit("-c", 1)[1])


class Casebook:
    """All cases of one agency. A new lead joins every case holding a lead it links to at least
    ``threshold`` strongly (1: an identical identifier only), merging them; it may also hit files of
    the agency's watchlist, which then join the case. A closed (lapsed) case's leads link no more."""

    def __init__(self, agency: str, threshold: float = 1.0, watchlist: Iterable[Lead] = ()) -> None:
        self.agency = agency
        self.threshold = threshold
        self._cases: dict[str, Case] = {}
        self._closed: dict[str, Case] = {}
        self._by_lead: dict[str, str] = {}
        self._held: dict[str, Lead] = {}
        self._blocks: dict[str, dict[str, Identifier]] = {}
        """block → the identifiers filed under it, by key."""
        self._holders: dict[str, dict[str, None]] = {}
        """identifier key (or ``presence:`` country) → the leads and files holding it."""
        self._files: dict[str, Lead] = {}
        self._order = 0
        self._count = 0
        for f in watchlist:
            self._files[f.id] = f
            self._index(f)

    @property
    def watchlist(self) -> int:
        """How many files the agency holds on its watchlist."""
        return len(self._files)

    def _blocks_of(self, identifier: Identifier) -> tuple[str, ...]:
        exact = f"={identifier.key}"
        return (exact,) if self.threshold >= 1.0 else (exact, *blocks(identifier))

    def _index(self, lead: Lead) -> None:
        self._held[lead.id] = lead
        for i in lead.identifiers:
            self._holders.setdefault(i.key, {})[lead.id] = None
            for block in self._blocks_of(i):
                self._blocks.setdefault(block, {})[i.key] = i
        if self.threshold <= STRENGTH["co-travel"]:
            for country, _, _ in presence(lead):
                self._holders.setdefault(f"presence:{country}", {})[lead.id] = None

    def _live(self, lead_id: str) -> bool:
        return lead_id in self._by_lead or lead_id in self._files

    def links(self, lead: Lead) -> dict[str, Link]:
        """The open leads and watchlist files a lead links to at least ``threshold``, by id: all that
        share an identifier with it, and the :data:`MAX_WEAK_HITS` strongest weaker ones. Only
        identifiers sharing a block are compared (``agencies/_links.py``); the link between two leads
        is the strongest between their identifiers, or co-travel (as ``lead_link`` defines it)."""
        best: dict[str, Link] = {}
        if self.threshold >= 1.0:  # identical identifiers only: a look-up, no comparison
            for x in lead.identifiers:
                exact = pair_link(x, x)
                for other in self._holders.get(x.key, ()):
                    if other != lead.id and self._live(other):
                        best.setdefault(other, exact)
            return best
        for x in lead.identifiers:
            compared: set[str] = set()
            for block in self._blocks_of(x):
                for key, y in self._blocks.get(block, {}).items():
                    if key in compared:
                        continue
                    compared.add(key)
                    link = pair_link(x, y)
                    if link.strength <= 0 or link.strength < self.threshold:
                        continue
                    for other in self._holders[key]:
                        live = other != lead.id and self._live(other)
                        if live and (other not in best or stronger(link, best[other])):
                            best[other] = link
        if self.threshold <= STRENGTH["co-travel"]:
            for country, _, _ in presence(lead):
                for other in self._holders.get(f"presence:{country}", {}):
                    if other == lead.id or not self._live(other):
                        continue
                    if other in best and best[other].strength >= STRENGTH["co-travel"]:
                        continue
                    travel = co_travel(lead, self._held[other])
                    if travel.strength > 0:
                        best[other] = travel
        out = {k: v for k, v in best.items() if v.strength >= self.threshold}
        weak = sorted((k for k, v in out.items() if v.strength < 1.0), key=lambda k: (-out[k].strength, k))
        for k in weak[MAX_WEAK_HITS:]:
            del out[k]
        return out

    def links_open_case(self, lead: Lead) -> bool:
        """Whether a lead would join an open case (the triage queue reads such leads first)."""
        return lead.id in self._by_lead or any(k in self._by_lead for k in self.links(lead))

    def add(self, lead: Lead, now: SimTime = 0) -> Case:
        """File a lead; returns the (possibly merged) case it now belongs to."""
        return self.file(lead, now)[0]

    def file(self, lead: Lead, now: SimTime = 0) -> tuple[Case, tuple[LeadLink, ...]]:
        """File a lead: the case it now belongs to, and the links it made (to leads in other cases
        or watchlist files; links inside its own case are not repeated)."""
        linked = self.links(lead)
        own = self._by_lead.get(lead.id)
        prior = {k: self._by_lead.get(k) for k in linked}
        touched = sorted(
            {c for c in prior.values() if c is not None} | ({own} if own else set()), key=_number
        )
        if touched:
            case = self._cases[touched[0]]
            for other_id in touched[1:]:
                merged = self._cases.pop(other_id)
                case.absorb(merged)
                for held in merged.leads:
                    self._by_lead[held] = case.id
        else:
            self._count += 1
            case = Case(f"{self.agency}-c{self._count}")
            self._cases[case.id] = case
        if lead.id not in case.order:
            self._order += 1
        case.add(lead, self._order, now)
        self._by_lead[lead.id] = case.id
        self._index(case.leads[lead.id])
        made: list[LeadLink] = []
        for linked_id, link in sorted(linked.items()):
            is_file = linked_id in self._files
            if is_file and prior[linked_id] is None:
                self._order += 1
                case.add(self._files[linked_id], self._order, now)
                self._by_lead[linked_id] = case.id
            case.link(lead.id, linked_id, link.strength, (link.left, link.right))
            newly_hit = is_file and prior[linked_id] is None
            if newly_hit or (link.strength < 1.0 and (own is None or prior[linked_id] != own)):
                made.append(LeadLink(lead.id, linked_id, link, file=is_file))
        return case, tuple(made)

    def close(self, case_id: str) -> Case | None:
        """Close a lapsed case: its leads link to nothing more (a new lead about them opens a new
        case), and any watchlist files in it go back to the watchlist."""
        case = self._cases.pop(case_id, None)
        if case is None:
            return None
        self._closed[case_id] = case
        for lead_id in case.leads:
            self._by_lead.pop(lead_id, None)
        return case

    def case_of(self, lead_id: str) -> Case | None:
        cid = self._by_lead.get(lead_id)
        return self._cases.get(cid) if cid is not None else None

    def open(self, case_id: str) -> Case | None:
        """An open case by id (None once merged into another or closed)."""
        return self._cases.get(case_id)

    def cases(self) -> list[Case]:
        """Every open case, oldest first."""
        return sorted(self._cases.values(), key=lambda c: _number(c.id))

    def closed(self) -> list[Case]:
        """Every closed case, oldest first."""
        return sorted(self._closed.values(), key=lambda c: _number(c.id))

    def __len__(self) -> int:
        return len(self._cases)
