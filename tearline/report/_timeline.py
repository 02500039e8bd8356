"""Readable timelines: who learnt what, when — for a scenario's injects or a run's record."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tearline.model import (
    GATEWAY,
    ActionEvent,
    CaseEvent,
    ConsentEvent,
    DecisionEvent,
    DeliveryEvent,
    DeskEvent,
    EffectEvent,
    Event,
    InjectEvent,
    NoteEvent,
    OutcomeEvent,
    PolicyEvent,
    ProtectionEvent,
    PublishEvent,
    RequestEvent,
    Scenario,
    TaskingEvent,
    TriageEvent,
    human_duration,
)


@dataclass(frozen=True)
class Row:
    at: int
    who: str
    what: str
    style: str = ""


def run_timeline(
    scenario: Scenario,
    events: Sequence[Event],
    *,
    show_noise: bool = False,
    since: int = 0,
    fold: bool = False,
) -> Iterator[Row]:
    """The story of a run, leaving out background noise unless asked (rows for ``events[since:]``).

    ``fold`` gives one row for the withholdings of one lead by one rule at one time ("withholds
    lead 'x' from 12 agencies"), which a room can follow."""
    noise = {e.lead for e in events if isinstance(e, InjectEvent) and e.noise}
    what = {i.id: i.what for i in scenario.injects}
    plots = {p.id: p for p in scenario.plots}

    def label(lead: str) -> str:
        return f"lead '{lead}'" if lead in what else lead

    last_facets: dict[str, tuple[str, ...]] = {}
    noise_cases: set[str] = set()
    folded: list[DecisionEvent] = []

    def flush() -> Iterator[Row]:
        if len(folded) > 1:
            first = folded[0]
            yield Row(
                first.at,
                "GATEWAY",
                f"withholds {label(first.lead)} from {len(folded)} agencies"
                + (f" ({', '.join(d.recipient for d in folded)})" if len(folded) <= 4 else "")
                + f" — {first.rule}",
                "red",
            )
        elif folded:
            first = folded[0]
            yield Row(
                first.at,
                "GATEWAY",
                f"withholds {label(first.lead)} {first.sender}→{first.recipient} — {first.reason}",
                "red",
            )
        folded.clear()

    for e in events[since:]:
        lead = getattr(e, "lead", None)
        if not show_noise and lead in noise:
            continue
        if fold and isinstance(e, DecisionEvent) and e.action == "withhold":
            if folded and (folded[0].at, folded[0].lead, folded[0].sender, folded[0].rule) != (
                e.at,
                e.lead,
                e.sender,
                e.rule,
            ):
                yield from flush()
            folded.append(e)
            continue
        yield from flush()
        if isinstance(e, InjectEvent):
            tag = " [disputed]" if e.disputed else ""
            yield Row(e.at, e.observer, f"observes: {e.what}{tag}", "bold")
        elif isinstance(e, PublishEvent):
            kind = "an assessment" if e.assessment else "its lead"
            yield Row(e.at, e.agency, f"publishes {kind} {e.lead}", "dim")
        elif isinstance(e, DecisionEvent):
            if e.action == "release":
                delay = f" after {human_duration(e.delay)}" if e.delay else ""
                sanitised = " (sanitised)" if e.transforms else ""
                yield Row(
                    e.at,
                    GATEWAY,
                    f"releases {label(e.lead)} {e.sender}→{e.recipient}{delay}{sanitised} — {e.reason}",
                    "green",
                )
            else:
                yield Row(
                    e.at, GATEWAY, f"withholds {label(e.lead)} {e.sender}→{e.recipient} — {e.reason}", "red"
                )
        elif isinstance(e, ConsentEvent):
            yield Row(
                e.at, e.originator, f"consent {e.step}: {label(e.lead)} {e.sender}→{e.recipient}", "yellow"
            )
        elif isinstance(e, DeliveryEvent):
            yield Row(
                e.at, e.agency, f"receives {label(e.lead)} from {e.sender} ({e.backlog} waiting for triage)"
            )
        elif isinstance(e, TriageEvent):
            yield Row(
                e.at, e.agency, f"reads {label(e.lead)} after {human_duration(e.waited)} in the queue", "dim"
            )
        elif isinstance(e, CaseEvent):
            if all(lead_id in noise for lead_id in e.leads):
                noise_cases.add(e.case)
            else:
                noise_cases.discard(e.case)
            if not show_noise and e.case in noise_cases:
                continue
            if last_facets.get(e.case) == e.facets and not e.actionable:
                continue
            last_facets[e.case] = e.facets
            state = "ACTIONABLE" if e.actionable else "not actionable"
            facets = "+".join(e.facets) or "nothing yet"
            yield Row(
                e.at,
                e.agency,
                f"case {e.case}: {len(e.leads)} lead{'' if len(e.leads) == 1 else 's'}, {facets}, score {e.score:.2f} — {state}",
                "cyan" if e.actionable else "",
            )
        elif isinstance(e, ActionEvent):
            verb = "INTERDICTS" if e.action == "interdict" else f"warns others (assessment {e.lead})"
            yield Row(e.at, e.agency, f"{verb} on case {e.case}", "bold magenta")
        elif isinstance(e, DeskEvent):
            if e.action == "request":
                yield Row(e.at, e.agency, f"desk requests {label(e.lead)} from {e.counterpart}", "yellow")
            else:
                unheld = "" if e.held else " (not held: nothing sent)"
                yield Row(
                    e.at, e.agency, f"desk {e.action}s {label(e.lead)} → {e.counterpart}{unheld}", "yellow"
                )
        elif isinstance(e, RequestEvent):
            asked = "to act" if e.act else "for information"
            on = ", ".join(e.about[:3]) + (" …" if len(e.about) > 3 else "")
            if e.step == "sent":
                yield Row(e.at, e.sender, f"asks {e.recipient} {asked} ({e.request}) on {on}", "yellow")
            elif e.step == "answered":
                reply = (
                    "acts on it"
                    if e.act
                    else f"offers {len(e.leads)} lead{'' if len(e.leads) == 1 else 's'}"
                    if e.leads
                    else "holds nothing on it"
                )
                yield Row(e.at, e.recipient, f"answers {e.sender}'s request {e.request}: {reply}", "yellow")
            else:
                yield Row(e.at, e.by, f"declines {e.sender}'s request {e.request} — {e.reason}", "red")
        elif isinstance(e, NoteEvent):
            yield Row(e.at, "NOTE", e.text, "italic")
        elif isinstance(e, PolicyEvent):
            yield Row(e.at, "GATEWAY", f"now decides by policy {e.policy} (was {e.previous})", "bold yellow")
        elif isinstance(e, EffectEvent):
            where = f" in {e.where}" if e.where else ""
            why = ""
            if e.result == "unplaced":
                why = (
                    f" (the case places him in {', '.join(e.placed)})"
                    if e.placed
                    else " (nothing places him)"
                )
            yield Row(
                e.at, "WORLD", f"{e.agency} on case {e.case}: {e.actor}{where} — {e.result}{why}", "magenta"
            )
        elif isinstance(e, ProtectionEvent):
            yield Row(
                e.at,
                "WORLD",
                f"{e.agency} on case {e.case}: guards {e.place} from {scenario.local(e.start)} to {scenario.local(e.end)}",
                "magenta",
            )
        elif isinstance(e, TaskingEvent):
            if not show_noise and e.case in noise_cases:
                continue
            yield Row(e.at, e.agency if e.step == "task" else "WORLD", _tasking(scenario, e), "blue")
        elif isinstance(e, OutcomeEvent):
            name = plots[e.plot].name
            removed = f" (removed: {', '.join(e.removed)})" if e.removed else ""
            if e.protected:
                removed += f" (guarded: {', '.join(e.protected)})"
            if e.result == "disrupted" and e.warning is not None:
                yield Row(
                    e.at,
                    "OUTCOME",
                    f"{name}: DISRUPTED by {e.disrupted_by}, {human_duration(e.warning)} before the attack{removed}",
                    "bold green",
                )
            elif e.result == "partly-disrupted":
                yield Row(
                    e.at,
                    "OUTCOME",
                    f"{name}: PARTLY DISRUPTED — the attack goes ahead{removed}",
                    "bold yellow",
                )
            else:
                yield Row(
                    e.at, "OUTCOME", f"{name}: ATTACK — the dots were not connected in time", "bold red"
                )

    yield from flush()


def _tasking(scenario: Scenario, e: TaskingEvent) -> str:
    until = f" until {scenario.local(e.until)}" if e.until is not None else ""
    slots = f" ({e.busy} slot{'' if e.busy == 1 else 's'} busy)"
    if e.step == "task":
        return f"tasks collection on {e.selector} (case {e.case})"
    if e.step == "start":
        return f"{e.agency} starts following {e.selector}{until}{slots}"
    if e.step == "revealed":
        return f"{e.agency}'s tasking on {e.selector} reveals lead {e.lead}"
    if e.step == "nothing":
        return f"{e.agency}'s tasking on {e.selector} revealed nothing"
    if e.step == "found":
        return f"{e.agency}'s search finds {e.latent} (lead {e.lead}){slots}"
    return f"{e.agency}'s interdiction on case {e.case} holds a slot{until}{slots}"


def inject_timeline(scenario: Scenario) -> Iterator[Row]:
    """The master events list: injects and attacks, in time order."""
    rows = [
        Row(i.at, i.observer, i.what + (" [disputed]" if i.disputed else ""), "yellow" if i.disputed else "")
        for i in scenario.injects
    ]
    rows += [Row(p.attack_at, "ATTACK", f"{p.name} ({p.place})", "bold red") for p in scenario.plots]
    yield from sorted(rows, key=lambda r: r.at)
