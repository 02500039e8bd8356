"""An analyst's casebook: leads linked by shared identifiers into cases, each scored."""

from __future__ import annotations

from dataclasses import dataclass, field

from tearline.model import IDENTITY_KINDS, PLACE_KINDS, Facet, Lead, ResolvedAgency, SimTime


@dataclass
class Case:
    """One working picture: the leads an analyst has linked, and what they add up to."""

    id: str
    leads: dict[str, Lead] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)

    def add(self, lead: Lead) -> None:
        held = self.leads.get(lead.id)
        if held is not None:  # the same lead again (e.g. a copy): keep the fuller identifier set
            merged = {i.key: i for i in (*held.identifiers, *lead.identifiers)}
            lead = held.model_copy(update={"identifiers": tuple(merged[k] for k in sorted(merged))})
        self.leads[lead.id] = lead
        self.keys.update(i.key for i in lead.identifiers)

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
        """What the analyst can see the case holds: who, where, when (a window not yet past)."""
        kinds = {k.split(":", 1)[0] for k in self.keys}
        indicator_kinds = {i.kind for lead in self.leads.values() for i in lead.indicators}
        out: list[Facet] = []
        if kinds & IDENTITY_KINDS:
            out.append("identity")
        if kinds & PLACE_KINDS or "target" in indicator_kinds:
            out.append("target")
        if any(end >= now for _, end in self.timing):
            out.append("timing")
        return tuple(out)

    def score(self) -> float:
        """Corroboration, 0..1: 1 − Π(1 − wᵢ) over the leads' grading weights.

        An assessment whose sources are all in the case adds nothing of its own.
        """
        miss = 1.0
        for lead in self.leads.values():
            if lead.derived_from and all(d in self.leads for d in lead.derived_from):
                continue
            miss *= 1.0 - lead.grading.weight
        return round(1.0 - miss, 6)

    def actionable(self, agency: ResolvedAgency, now: SimTime) -> bool:
        """The one rule for acting on a case: it holds the facets in the agency's ``act_on`` and
        scores at least its ``act_threshold`` (the agency's analysts and the exercise's views agree)."""
        return set(agency.act_on) <= set(self.facets(now)) and self.score() >= agency.act_threshold

    def places(self) -> set[str]:
        """Countries of the places in the case (where known)."""
        return {
            i.where
            for lead in self.leads.values()
            for i in lead.identifiers
            if i.kind in PLACE_KINDS and i.where is not None
        }


class Casebook:
    """All cases of one agency, merged whenever a new lead shares an identifier with them."""

    def __init__(self, agency: str) -> None:
        self.agency = agency
        self._cases: dict[str, Case] = {}
        self._by_key: dict[str, str] = {}
        self._by_lead: dict[str, str] = {}
        self._count = 0

    def add(self, lead: Lead) -> Case:
        """File a lead; returns the (possibly merged) case it now belongs to."""
        touched = sorted(
            {self._by_key[i.key] for i in lead.identifiers if i.key in self._by_key}
            | ({self._by_lead[lead.id]} if lead.id in self._by_lead else set()),
            key=lambda cid: int(cid.rsplit("-c", 1)[1]),
        )
        if touched:
            case = self._cases[touched[0]]
            for other_id in touched[1:]:
                other = self._cases.pop(other_id)
                for held in other.leads.values():
                    case.add(held)
                    self._by_lead[held.id] = case.id
                for k in other.keys:
                    self._by_key[k] = case.id
        else:
            self._count += 1
            case = Case(f"{self.agency}-c{self._count}")
            self._cases[case.id] = case
        case.add(lead)
        self._by_lead[lead.id] = case.id
        for k in case.keys:
            self._by_key[k] = case.id
        return case

    def case_of(self, lead_id: str) -> Case | None:
        cid = self._by_lead.get(lead_id)
        return self._cases.get(cid) if cid is not None else None

    def cases(self) -> list[Case]:
        """Every case, oldest first."""
        return sorted(self._cases.values(), key=lambda c: int(c.id.rsplit("-c", 1)[1]))

    def __len__(self) -> int:
        return len(self._cases)
