"""``links``: critical-link analysis. For every (lead, recipient) and every channel, force the opposite
of what the policy did — release at once where it withheld or delayed, withhold where it released —
replay through the driver, and measure what changes per plot over the seeds.

Phase 1 replays the policy as it is (the base runs, one per seed); their decisions name the
candidate links. Phase 2 replays each candidate on every seed. Phase 3 (:func:`pair_jobs`) tries
pairs of the strongest single links for each plot that no single link flips.

Links are matched on lead ids (an override names the lead, and covers tearline copies cut from it),
never on dates, so a lead whose date each seed draws is the same link in every seed.

Pruned, because they cannot matter: background noise (thousands of leads that name nothing of any
plot; a channel link still moves the noise on its channel), and leads observed at or after the
last plot's attack (nothing delivered then can change an outcome or a warning). A lead no recipient
could act on is still measured: whether it matters is what the replay finds out. A lead a latent
observation becomes once collected is a link on its collector's routes, in the base runs that
collect it; a lead only a counterfactual would collect is no link (nothing decided on it to undo)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from tearline.model import Fact, Inject, Override, RunConfig, Scenario, local

from ._batch import Done, Job
from ._stats import bootstrap_mean, wilson
from ._tables import Row, group, interval_columns, seed_of

BASE = "(policy as is)"
Scope = Literal["leads", "channels", "both"]


def base_jobs(config: RunConfig, seeds: Sequence[int]) -> list[Job]:
    labels = {"link": BASE, "links": 0, "channel": False, "leads": "", "facts": "", "uncertain": ""}
    return [Job(config.replace(seed=s), labels) for s in seeds]


def pruned(scenario: Scenario) -> dict[str, str]:
    """Leads no link is built on, with the reason: observed at or after the last plot's attack
    (whatever the seed draws, since a window only ever moves an inject later)."""
    last = max(p.attack_at for p in scenario.plots)
    return {i.id: "observed at or after the last attack" for i in scenario.injects if i.at >= last}


def uncertainty(inject: Inject, facts: Mapping[str, Fact], timezone: str = "+00:00") -> list[str]:
    """What the record leaves open about a lead: its drawn date or chance, and its cited facts
    marked disputed or uncertain in ``seeds/``."""
    out = []
    u = inject.uncertain
    if u is not None:
        parts = []
        if u.until is not None:
            parts.append(
                f"at a time drawn per seed, {local(inject.at, timezone)} to {local(u.until, timezone)}"
            )
        if u.chance < 1:
            parts.append(f"happens with chance {u.chance:g}")
        out.append(f"{inject.id}: {', '.join(parts) or 'uncertain'}")
    if inject.disputed:
        out.append(f"{inject.id}: disputed (left out with --exclude-disputed)")
    for c in inject.cites:
        f = facts.get(c)
        flags = [w for w, on in (("disputed", f and f.disputed), ("uncertain", f and f.uncertain)) if on]
        if flags:
            out.append(f"{c}: {' and '.join(flags)} on the record")
    return out


@dataclass(frozen=True)
class Candidate:
    overrides: tuple[Override, ...]
    facts: tuple[str, ...]
    """Fact ids (seeds/) of the leads whose handling the link changes."""
    leads: tuple[str, ...] = ()
    """The (non-noise) leads whose handling the link changes in the base runs."""
    uncertain: tuple[str, ...] = ()
    """What the record leaves open about those leads and facts (:func:`uncertainty`)."""

    @property
    def channel(self) -> bool:
        """Every override covers a whole channel (not one lead)."""
        return all(o.lead is None for o in self.overrides)

    @property
    def label(self) -> str:
        return " + ".join(o.label for o in self.overrides)


def candidates(
    config: RunConfig, base: Iterable[Done], scope: Scope = "both", facts: Mapping[str, Fact] | None = None
) -> list[Candidate]:
    """The links to test, from what the policy did to every non-noise lead in the base runs (less
    the :func:`pruned` ones), each with the facts it rests on and their uncertainty."""
    injects = {i.id: i for i in config.scenario.injects}
    # A latent observation becomes a lead only once collected, named for its collector.
    latent = {
        f"{lt.id}-{a.id.lower()}": (lt, a.id)
        for lt in config.scenario.latent
        for a in config.scenario.agencies
    }
    skip = pruned(config.scenario)
    flipped: dict[Override, set[str]] = defaultdict(set)  # override → leads whose handling it changes
    for d in base:
        for lead, sender, recipient, action, delay in d.data["decisions"]:
            if lead in skip:
                continue
            opposite: Literal["release", "withhold"] = (
                "release" if action != "release" or delay > 0 else "withhold"
            )
            own = (lead in injects and injects[lead].observer == sender) or latent.get(lead, ("", ""))[
                1
            ] == sender
            if scope in ("leads", "both") and own:
                flipped[Override(action=opposite, sender=sender, recipient=recipient, lead=lead)].add(lead)
            if scope in ("channels", "both"):
                flipped[Override(action=opposite, sender=sender, recipient=recipient)].add(lead)
    out = []
    tz = config.scenario.timezone
    for o, leads in flipped.items():
        moved = sorted(lead for lead in leads if lead in injects or lead in latent)
        cites = sorted(
            {c for lead in moved for c in (injects[lead].cites if lead in injects else latent[lead][0].cites)}
        )
        doubts = [
            u
            for lead in moved
            for u in (
                uncertainty(injects[lead], facts or {}, tz)
                if lead in injects
                else [
                    f"{lead}: a latent observation, collected only where {latent[lead][1]} tasks or finds it"
                ]
            )
        ]
        out.append(Candidate((o,), tuple(cites), tuple(moved), tuple(dict.fromkeys(doubts))))
    return sorted(out, key=lambda c: (c.overrides[0].lead is None, c.label))


def candidate_jobs(config: RunConfig, found: Sequence[Candidate], seeds: Sequence[int]) -> list[Job]:
    return [
        Job(
            config.replace(seed=s, overrides=c.overrides),
            {
                "link": c.label,
                "links": len(c.overrides),
                "channel": c.channel,
                "leads": " ".join(c.leads),
                "facts": " ".join(c.facts),
                "uncertain": "; ".join(c.uncertain),
            },
        )
        for c in found
        for s in seeds
    ]


def _effects(rows: Sequence[Row]) -> list[Row]:
    """Per link and plot, against the base run of the same seed: flips, warning change, detection."""
    base = {(r["seed"], r["plot"]): r for r in rows if r["link"] == BASE}
    out = []
    for (link, plot), rs in group([r for r in rows if r["link"] != BASE], ("link",)).items():
        pairs = [(r, base[(r["seed"], plot)]) for r in rs if (r["seed"], plot) in base]
        if not pairs:
            continue
        n = len(pairs)
        flips = [r for r, b in pairs if r["result"] != b["result"]]
        gained = sum(r["disrupted"] and not b["disrupted"] for r, b in pairs)
        lost = sum(b["disrupted"] and not r["disrupted"] for r, b in pairs)
        delta = bootstrap_mean(
            [(r["warning_hours"] or 0.0) - (b["warning_hours"] or 0.0) for r, b in pairs],
            seed=seed_of("link", link, plot),
        )
        detection = sum(r["detected_by"] != b["detected_by"] for r, b in pairs)
        p = wilson(len(flips), n)
        out.append(
            {
                "link": link,
                "links": rs[0]["links"],
                "channel": rs[0]["channel"],
                "plot": plot,
                "seeds": n,
                "flips": len(flips),
                "flip_probability": round(p.estimate, 4),
                "flip_probability_low": round(p.low, 4),
                "flip_probability_high": round(p.high, 4),
                "gained": gained,
                "lost": lost,
                "base_result": pairs[0][1]["result"],
                "result": sorted({r["result"] for r, _ in pairs}),
                **interval_columns("warning_change_hours", delta, 2),
                "detection_changed": detection,
                "leads": rs[0].get("leads", ""),
                "facts": rs[0]["facts"],
                "uncertain": rs[0].get("uncertain", ""),
            }
        )
    return out


def _strength(e: Row) -> tuple[float, ...]:
    """Flip probability, its lower bound, the warning moved; then whole channels before single leads
    (a channel moves more, so it is the better partner for a pair), then detections changed."""
    return (
        e["flip_probability"],
        e["flip_probability_low"],
        abs(e["warning_change_hours"] or 0.0),
        float(e["channel"]),
        e["detection_changed"],
    )


def analyse_links(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """Every link's effect per plot, strongest first (flip probability, its lower bound, warning)."""
    effects = sorted(_effects(rows), key=lambda e: (e["plot"], *(-x for x in _strength(e)), e["link"]))
    for _plot, es in itertools.groupby(effects, key=lambda e: e["plot"]):
        for rank, e in enumerate(es, start=1):
            e["rank"] = rank
    for e in effects:
        e["result"] = "/".join(e["result"])
    return {"links": effects}


def pair_jobs(
    config: RunConfig, rows: Sequence[Row], found: Sequence[Candidate], seeds: Sequence[int], top: int = 6
) -> list[Job]:
    """For each plot no single link flips: pairs among its ``top`` strongest single links."""
    effects = [e for e in _effects(rows) if e["links"] == 1]
    by_label = {c.label: c for c in found}
    chosen: set[tuple[str, str]] = set()
    for plot in sorted({e["plot"] for e in effects}):
        es = [e for e in effects if e["plot"] == plot]
        if any(e["flips"] for e in es):
            continue
        # Only links that push the way a flip needs: withholdings against a disruption (in most base
        # runs), releases against an attack.
        base = [r["disrupted"] for r in rows if r["link"] == BASE and r["plot"] == plot]
        wanted = "withhold" if 2 * sum(base) > len(base) else "release"
        es = [e for e in es if e["link"] in by_label and by_label[e["link"]].overrides[0].action == wanted]
        strongest = sorted(es, key=lambda e: (*tuple(-x for x in _strength(e)), e["link"]))[:top]
        chosen.update(
            (a, b)
            for a, b in itertools.combinations(sorted(e["link"] for e in strongest), 2)
            if a in by_label and b in by_label and _distinct(by_label[a], by_label[b])
        )
    pairs = [
        Candidate(
            by_label[a].overrides + by_label[b].overrides,
            tuple(sorted(set(by_label[a].facts) | set(by_label[b].facts))),
            tuple(sorted(set(by_label[a].leads) | set(by_label[b].leads))),
            tuple(dict.fromkeys(by_label[a].uncertain + by_label[b].uncertain)),
        )
        for a, b in sorted(chosen)
    ]
    return candidate_jobs(config, pairs, seeds)


def _distinct(a: Candidate, b: Candidate) -> bool:
    """Two links that do not act on the same route (a channel and one of its own leads would)."""
    routes = {(o.sender, o.recipient) for o in a.overrides}
    return not routes & {(o.sender, o.recipient) for o in b.overrides}


def fact_sources(facts: Mapping[str, Fact], ids: str) -> list[str]:
    """``id: first source`` for each fact id in a space-separated list."""
    return [f"{i}: {facts[i].sources[0]}" if i in facts else i for i in ids.split()]
