"""A rule's ``match``, compiled: one predicate per condition, and the conditions in words."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from tearline.model import LEVELS, Lead, ResolvedAgency

from . import _options as opt
from ._base import PolicyContext, Route
from ._common import need_to_know
from ._schema import LevelRange, Match, Window

Predicate = Callable[[Lead, Route, PolicyContext], bool]


def _in_group(agency: ResolvedAgency, parties: frozenset[str]) -> bool:
    return agency.id in parties or agency.country in parties


def _window(w: Window, get: Callable[[Lead, PolicyContext], int], what: str) -> tuple[Predicate, str]:
    after = opt.timepoint("time", "after", w.after) if w.after is not None else None
    before = opt.timepoint("time", "before", w.before) if w.before is not None else None

    def pred(lead: Lead, route: Route, ctx: PolicyContext) -> bool:
        t = get(lead, ctx)
        return (after is None or t >= after.at(ctx.scenario)) and (
            before is None or t < before.at(ctx.scenario)
        )

    parts = ([f"from {after}"] if after else []) + ([f"before {before}"] if before else [])
    return pred, f"{what} {' '.join(parts)}"


def compile_match(m: Match, groups: Mapping[str, frozenset[str]]) -> tuple[list[Predicate], list[str]]:
    preds: list[Predicate] = []
    said: list[str] = []

    def add(pred: Predicate, text: str) -> None:
        preds.append(pred)
        said.append(text)

    def one_of(values: Sequence[str]) -> str:
        return values[0] if len(values) == 1 else f"one of {', '.join(values)}"

    if m.sender is not None:
        s_ids = frozenset(m.sender)
        add(lambda lead, r, c: r.sender.id in s_ids, f"sender is {one_of(m.sender)}")
    if m.recipient is not None:
        r_ids = frozenset(m.recipient)
        add(lambda lead, r, c: r.recipient.id in r_ids, f"recipient is {one_of(m.recipient)}")
    if m.sender_country is not None:
        s_cc = frozenset(m.sender_country)
        add(lambda lead, r, c: r.sender.country in s_cc, f"sender in {one_of(m.sender_country)}")
    if m.recipient_country is not None:
        r_cc = frozenset(m.recipient_country)
        add(lambda lead, r, c: r.recipient.country in r_cc, f"recipient in {one_of(m.recipient_country)}")
    if m.sender_kind is not None:
        s_k = frozenset(m.sender_kind)
        add(lambda lead, r, c: r.sender.kind in s_k, f"sender is a {one_of(m.sender_kind)} agency")
    if m.recipient_kind is not None:
        r_k = frozenset(m.recipient_kind)
        add(lambda lead, r, c: r.recipient.kind in r_k, f"recipient is a {one_of(m.recipient_kind)} agency")
    if m.sender_in is not None:
        s_g = frozenset().union(*(groups.get(g, frozenset()) for g in m.sender_in))
        add(lambda lead, r, c: _in_group(r.sender, s_g), f"sender in {one_of(m.sender_in)}")
    if m.recipient_in is not None:
        r_g = frozenset().union(*(groups.get(g, frozenset()) for g in m.recipient_in))
        add(lambda lead, r, c: _in_group(r.recipient, r_g), f"recipient in {one_of(m.recipient_in)}")
    if m.domestic is not None:
        dom = m.domestic
        add(lambda lead, r, c: r.domestic == dom, "domestic" if dom else "across a border")
    if m.classification is not None:
        if isinstance(m.classification, LevelRange):
            lo = LEVELS.index(m.classification.at_least) if m.classification.at_least else 0
            hi = LEVELS.index(m.classification.at_most) if m.classification.at_most else len(LEVELS) - 1
            add(lambda lead, r, c: lo <= lead.marking.rank <= hi, f"classified {LEVELS[lo]}..{LEVELS[hi]}")
        else:
            lv = frozenset(m.classification)
            add(lambda lead, r, c: lead.marking.level in lv, f"classified {one_of(m.classification)}")
    if m.caveats is not None:
        cv = m.caveats
        if cv.orcon is not None:
            orcon = cv.orcon
            add(lambda lead, r, c: lead.caveats.orcon == orcon, "ORCON" if orcon else "not ORCON")
        if cv.noforn is not None:
            noforn = cv.noforn
            add(lambda lead, r, c: lead.caveats.noforn == noforn, "NOFORN" if noforn else "not NOFORN")
        if cv.rel_to is not None:
            mode = cv.rel_to

            def rel(lead: Lead, r: Route, c: PolicyContext) -> bool:
                marked = lead.caveats.rel_to
                if mode in ("marked", "unmarked"):
                    return (marked is not None) == (mode == "marked")
                if marked is None:
                    return False
                inside = r.recipient.country == r.sender.country or r.recipient.country in marked
                return inside == (mode == "includes-recipient")

            add(rel, f"REL TO {mode}")
    if m.tlp is not None:
        tl = frozenset(m.tlp)
        add(lambda lead, r, c: lead.tlp in tl, f"TLP:{one_of(m.tlp)}")
    if m.indicator is not None:
        ind = frozenset(m.indicator)
        add(
            lambda lead, r, c: any(i.kind in ind for i in lead.indicators), f"{one_of(m.indicator)} indicator"
        )
    if m.identifier is not None:
        idk = frozenset(m.identifier)
        add(
            lambda lead, r, c: any(i.kind in idk for i in lead.identifiers),
            f"{one_of(m.identifier)} identifier",
        )
    if m.source is not None:
        src = frozenset(m.source)
        add(lambda lead, r, c: lead.source.type in src, f"{one_of(m.source)} source")
    if m.sensitivity is not None:
        sens = frozenset(m.sensitivity)
        add(lambda lead, r, c: lead.source.sensitivity in sens, f"{one_of(m.sensitivity)} sensitivity")
    if m.third_party is not None:
        tp = m.third_party
        add(lambda lead, r, c: bool(lead.third_party) == tp, "third-party material" if tp else "own material")
    if m.assessment is not None:
        asm = m.assessment
        add(
            lambda lead, r, c: bool(lead.derived_from) == asm, "an assessment" if asm else "not an assessment"
        )
    if m.named is not None:
        nm = m.named
        add(
            lambda lead, r, c: (r.recipient.id in lead.named_recipients) == nm, "named" if nm else "not named"
        )
    if m.need_to_know is not None:
        ntk = m.need_to_know
        add(
            lambda lead, r, c: (need_to_know(lead, r.recipient) is not None) == ntk,
            "need to know" if ntk else "no need to know",
        )
    if m.time is not None:
        pred, text = _window(m.time, lambda lead, c: c.now, "decided")
        add(pred, text)
    if m.observed is not None:
        pred, text = _window(m.observed, lambda lead, c: lead.observed_at, "observed")
        add(pred, text)
    return preds, said
