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
    Event,
    Facet,
    InjectEvent,
    Model,
    OutcomeEvent,
    Plot,
    PublishEvent,
    ResolvedAgency,
    Scenario,
    Time,
    TriageEvent,
)


def plot_facets(plot: Plot, identifiers: Sequence[str], timing: Sequence[tuple[int, int]]) -> set[Facet]:
    """Ground truth: which of the plot's facets a case's identifiers and timing really cover."""
    entity_keys = {e.key for e in plot.entities}
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
    """One outcome per plot: disrupted by the first qualifying interdiction before the attack."""
    out = []
    for n, plot in enumerate(scenario.plots, start=1):
        needs = set(plot.needs)
        detected: CaseEvent | None = None
        disrupting: ActionEvent | None = None
        for e in events:
            if e.at >= plot.attack_at:
                continue
            if (
                detected is None
                and isinstance(e, CaseEvent)
                and needs <= plot_facets(plot, e.identifiers, e.timing)
            ):
                detected = e
            if (
                disrupting is None
                and isinstance(e, ActionEvent)
                and e.action == "interdict"
                and set(agencies[e.agency].jurisdiction) & set(plot.jurisdiction)
                and needs <= plot_facets(plot, e.identifiers, e.timing)
            ):
                disrupting = e
        out.append(
            OutcomeEvent(
                at=plot.attack_at,
                by="JUDGE",
                seq=seq_base + n,
                plot=plot.id,
                result="disrupted" if disrupting else "attack",
                disrupted_by=disrupting.agency if disrupting else None,
                disrupted_at=disrupting.at if disrupting else None,
                warning=plot.attack_at - disrupting.at if disrupting else None,
                detected_by=detected.agency if detected else None,
                detected_at=detected.at if detected else None,
            )
        )
    return out


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
        rejected=rejected or {},
    )
