"""Judging a run: did an action disrupt each plot in time? Computed from the record alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pydantic import Field

from tearline.model import (
    IDENTITY_KINDS,
    PLACE_KINDS,
    ActionEvent,
    CaseEvent,
    DecisionEvent,
    DeliveryEvent,
    EffectEvent,
    Event,
    Facet,
    InjectEvent,
    Model,
    Outcome,
    OutcomeEvent,
    Plot,
    ProtectionEvent,
    PublishEvent,
    RequestEvent,
    ResolvedAgency,
    Scenario,
    Time,
    TriageEvent,
)


def plot_facets(plot: Plot, identifiers: Sequence[str], timing: Sequence[tuple[int, int]]) -> set[Facet]:
    """Ground truth: which of the plot's facets a case's identifiers and timing really cover."""
    return _facets(plot, frozenset(e.key for e in plot.entities), identifiers, timing)


def _facets(
    plot: Plot, entity_keys: frozenset[str], identifiers: Sequence[str], timing: Sequence[tuple[int, int]]
) -> set[Facet]:
    """:func:`plot_facets`, with the plot's entity keys already taken (a judge asks for many cases)."""
    hits = entity_keys.intersection(identifiers)
    out: set[Facet] = set()
    if not hits:
        return out
    kinds = {k.split(":", 1)[0] for k in hits}
    if kinds & IDENTITY_KINDS:
        out.add("identity")
    if kinds & PLACE_KINDS:
        out.add("target")
    if any(start <= plot.attack_at <= end for start, end in timing):
        out.add("timing")
    return out


def judge(
    scenario: Scenario, agencies: dict[str, ResolvedAgency], events: Sequence[Event], seq_base: int
) -> list[OutcomeEvent]:
    """One outcome per plot, from the record alone.

    A plot with a ``team`` or an ``approach`` is judged on the world's effects: disrupted when one of
    its conveyances is intercepted, or at least ``disrupt_at`` of its operatives are removed, before
    the attack; partly disrupted when fewer (but some) are; otherwise the attack happens. A plot
    without either keeps the case rule: disrupted by the first interdiction before its attack time
    by an agency whose jurisdiction meets the plot's and whose case really holds its ``needs``."""
    removals = [e for e in events if isinstance(e, EffectEvent) and e.result in _REMOVED]
    guards = [e for e in events if isinstance(e, ProtectionEvent)]
    cases = [e for e in events if isinstance(e, CaseEvent)]
    interdictions = [e for e in events if isinstance(e, ActionEvent) and e.action == "interdict"]
    out = []
    for n, plot in enumerate(scenario.plots, start=1):
        needs = set(plot.needs)
        keys = frozenset(e.key for e in plot.entities)
        detected = next(
            (
                e
                for e in cases
                if e.at < plot.attack_at
                # a case naming none of the plot's entities covers none of its facets
                and (not needs or not keys.isdisjoint(e.identifiers))
                and needs <= _facets(plot, keys, e.identifiers, e.timing)
            ),
            None,
        )
        removed: tuple[str, ...] = ()
        protected: tuple[str, ...] = ()
        decisive: ActionEvent | EffectEvent | ProtectionEvent | None
        if plot.judged_by_actors:
            result, decisive, removed = _by_actors(plot, removals)
            held = sorted(
                (
                    g
                    for g in guards
                    if g.place in keys and g.at < plot.attack_at and g.start <= plot.attack_at <= g.end
                ),
                key=lambda g: (g.at, g.by, g.seq),
            )
            protected = tuple(sorted({g.place for g in held}))
            if held and result == "attack":  # a guarded target: the attack goes ahead, not there unopposed
                result, decisive = "partly-disrupted", held[0]
        else:
            decisive = _by_case(plot, agencies, interdictions)
            result = "disrupted" if decisive else "attack"
        out.append(
            OutcomeEvent(
                at=plot.attack_at,
                by="JUDGE",
                seq=seq_base + n,
                plot=plot.id,
                result=result,
                disrupted_by=decisive.agency if decisive else None,
                disrupted_at=decisive.at if decisive else None,
                warning=plot.attack_at - decisive.at if decisive else None,
                detected_by=detected.agency if detected else None,
                detected_at=detected.at if detected else None,
                removed=removed,
                protected=protected,
            )
        )
    return out


_REMOVED = frozenset({"arrested", "intercepted"})


def _by_actors(
    plot: Plot, removals: Sequence[EffectEvent]
) -> tuple[Outcome, EffectEvent | None, tuple[str, ...]]:
    """(result, the effect that decided it or the first partial one, actors removed in time)."""
    before = [e for e in removals if e.at < plot.attack_at]
    first: dict[str, EffectEvent] = {}
    for e in before:
        first.setdefault(e.actor, e)
    removed = tuple(a for a in (*plot.team, *plot.approach) if a in first)
    stopped = [first[a] for a in plot.approach if a in first]
    gone = sorted((first[a] for a in plot.team if a in first), key=lambda e: (e.at, e.by, e.seq))
    candidates = [*stopped]
    if plot.team and len(gone) >= plot.enough:
        candidates.append(gone[plot.enough - 1])
    if candidates:
        return "disrupted", min(candidates, key=lambda e: (e.at, e.by, e.seq)), removed
    if gone:
        return "partly-disrupted", gone[0], removed
    return "attack", None, removed


def _by_case(
    plot: Plot, agencies: dict[str, ResolvedAgency], interdictions: Sequence[ActionEvent]
) -> ActionEvent | None:
    needs = set(plot.needs)
    for e in interdictions:
        if (
            e.at < plot.attack_at
            and set(agencies[e.agency].jurisdiction) & set(plot.jurisdiction)
            and needs <= plot_facets(plot, e.identifiers, e.timing)
        ):
            return e
    return None


class PlotOutcome(Model):
    plot: str
    name: str
    attack_at: Time
    result: str
    disrupted_by: str | None
    disrupted_at: Time | None
    warning_hours: float | None
    detected_by: str | None
    detected_at: Time | None
    detection_hours_before: float | None
    removed: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()


class AgencyLoad(Model):
    agency: str
    observed: int
    received: int
    triaged: int
    backlog_at_end: int
    max_backlog: int
    mean_wait_hours: float
    actions: int
    warnings: int


class RequestTally(Model):
    """Requests between agencies in a run: how many were sent, and which went unanswered or were declined."""

    sent: int = 0
    answered: int = 0
    declined: tuple[str, ...] = ()
    """Request ids declined (by the recipient, or by the gateway's policy)."""
    unanswered: tuple[str, ...] = ()
    """Request ids that had no answer by the end of the run."""


def tally_requests(events: Sequence[Event]) -> RequestTally:
    """Requests sent, answered, declined, and those with no answer by the end of the run."""
    sent: list[str] = []
    answered: set[str] = set()
    declined: set[str] = set()
    for e in events:
        if isinstance(e, RequestEvent):
            if e.step == "sent":
                sent.append(e.request)
            elif e.step == "answered":
                answered.add(e.request)
            else:
                declined.add(e.request)
    return RequestTally(
        sent=len(sent),
        answered=len(answered),
        declined=tuple(r for r in sent if r in declined),
        unanswered=tuple(r for r in sent if r not in answered and r not in declined),
    )


class Summary(Model):
    """What ``summary.json`` holds: outcomes, sharing volumes, load, exposure."""

    scenario: str
    policy: str
    seed: int
    run_id: str
    digest: str
    transport: str
    exclude_disputed: bool
    disputed_included: tuple[str, ...]
    enabled: tuple[str, ...]
    agencies: tuple[str, ...]
    outcomes: tuple[PlotOutcome, ...]
    leads_published: int
    noise_leads: int
    assessments: int
    decisions: int
    released: int
    withheld: int
    delayed: int
    sanitised: int
    exposure: float
    interdictions: int
    false_interdictions: int
    """Interdictions that disrupted no plot (wasted effort, or worse)."""
    load: tuple[AgencyLoad, ...]
    dead_letters: int
    requests: RequestTally = RequestTally()
    rejected: dict[str, int] = Field(default_factory=dict)
    """Messages refused by reason code (forged, wrong-recipient, duplicate, …) and audit records
    not taken into the record (``audit-…``); every refused message is also on the dead-letter topic."""


def summarise(
    *,
    scenario: Scenario,
    agencies: dict[str, ResolvedAgency],
    events: Sequence[Event],
    outcomes: Sequence[OutcomeEvent],
    policy: str,
    seed: int,
    run_id: str,
    digest: str,
    transport: str,
    exclude_disputed: bool,
    enabled: Sequence[str],
    dead_letters: int,
    rejected: dict[str, int] | None = None,
) -> Summary:
    decisions = [e for e in events if isinstance(e, DecisionEvent)]
    released = [d for d in decisions if d.action == "release"]
    received: dict[str, int] = defaultdict(int)
    triaged: dict[str, list[int]] = defaultdict(list)
    max_backlog: dict[str, int] = defaultdict(int)
    observed: dict[str, int] = defaultdict(int)
    actions: dict[str, int] = defaultdict(int)
    warnings: dict[str, int] = defaultdict(int)
    for e in events:
        if isinstance(e, DeliveryEvent):
            received[e.agency] += 1
            max_backlog[e.agency] = max(max_backlog[e.agency], e.backlog)
        elif isinstance(e, TriageEvent):
            triaged[e.agency].append(e.waited)
        elif isinstance(e, InjectEvent):
            observed[e.observer] += 1
        elif isinstance(e, ActionEvent):
            (actions if e.action == "interdict" else warnings)[e.agency] += 1
    plots = {p.id: p for p in scenario.plots}
    disrupting = {(o.disrupted_by, o.disrupted_at) for o in outcomes if o.result == "disrupted"}
    interdictions = [e for e in events if isinstance(e, ActionEvent) and e.action == "interdict"]
    useful = {
        (e.agency, e.at)
        for e in interdictions
        if any(plot_facets(p, e.identifiers, e.timing) for p in scenario.plots)
    } | disrupting
    return Summary(
        scenario=scenario.id,
        policy=policy,
        seed=seed,
        run_id=run_id,
        digest=digest,
        transport=transport,
        exclude_disputed=exclude_disputed,
        disputed_included=tuple(
            sorted({e.inject for e in events if isinstance(e, InjectEvent) and e.disputed})
        ),
        enabled=tuple(enabled),
        agencies=tuple(sorted(agencies)),
        outcomes=tuple(
            PlotOutcome(
                plot=o.plot,
                name=plots[o.plot].name,
                attack_at=plots[o.plot].attack_at,
                result=o.result,
                disrupted_by=o.disrupted_by,
                disrupted_at=o.disrupted_at,
                warning_hours=round(o.warning / 3600, 2) if o.warning is not None else None,
                detected_by=o.detected_by,
                detected_at=o.detected_at,
                detection_hours_before=round((o.at - o.detected_at) / 3600, 2)
                if o.detected_at is not None
                else None,
                removed=o.removed,
                protected=o.protected,
            )
            for o in outcomes
        ),
        leads_published=sum(1 for e in events if isinstance(e, PublishEvent)),
        noise_leads=sum(1 for e in events if isinstance(e, InjectEvent) and e.noise),
        assessments=sum(1 for e in events if isinstance(e, PublishEvent) and e.assessment),
        decisions=len(decisions),
        released=len(released),
        withheld=sum(1 for d in decisions if d.action == "withhold"),
        delayed=sum(1 for d in released if d.delay > 0),
        sanitised=sum(1 for d in released if d.transforms),
        exposure=round(sum(d.exposure for d in decisions), 3),
        interdictions=len(interdictions),
        false_interdictions=sum(1 for e in interdictions if (e.agency, e.at) not in useful),
        load=tuple(
            AgencyLoad(
                agency=a,
                observed=observed[a],
                received=received[a],
                triaged=len(triaged[a]),
                backlog_at_end=received[a] - len(triaged[a]),
                max_backlog=max_backlog[a],
                mean_wait_hours=round(sum(triaged[a]) / len(triaged[a]) / 3600, 2) if triaged[a] else 0.0,
                actions=actions[a],
                warnings=warnings[a],
            )
            for a in sorted(agencies)
        ),
        dead_letters=dead_letters,
        requests=tally_requests(events),
        rejected=rejected or {},
    )
