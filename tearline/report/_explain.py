"""``tearline explain RUN_DIR LEAD_ID``: the decision chain for one lead, read back from a run record.

For every agency the gateway asked about, it shows what was decided, by which rule and why, the
verdict of every member when the policy was composed, the consent loop if there was one, and when
the copy was delivered and read. For an assessment it also shows the leads it was built from.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tearline.model import (
    ActionEvent,
    CaseEvent,
    ConsentEvent,
    DecisionEvent,
    DeliveryEvent,
    Event,
    InjectEvent,
    PublishEvent,
    TriageEvent,
    human_duration,
    iso,
)

from ._rundir import RunDirError, read_record


class ExplainError(RunDirError):
    """The lead cannot be explained from this run directory; ``hint`` says what to do."""


@dataclass
class Recipient:
    """Everything that happened between the gateway and one possible recipient of the lead."""

    agency: str
    decision: DecisionEvent | None = None
    consents: list[ConsentEvent] = field(default_factory=list)
    delivery: DeliveryEvent | None = None
    triage: TriageEvent | None = None


@dataclass
class Explanation:
    lead: str
    run_dir: str
    policy: str | None
    inject: InjectEvent | None
    publish: PublishEvent | None
    built_from: tuple[str, ...]
    """For an assessment: the leads of the case it was built from."""
    recipients: list[Recipient]


def explain_lead(run_dir: Path, lead: str) -> Explanation:
    """The chain for ``lead`` in the run recorded in ``run_dir``."""
    events = read_record(run_dir)
    leads = {e.lead for e in events if isinstance(e, PublishEvent | InjectEvent | DecisionEvent)}
    if lead not in leads:
        close = difflib.get_close_matches(lead, sorted(leads), n=5, cutoff=0.5)
        hint = (
            f"Did you mean: {', '.join(close)}?"
            if close
            else "Lead ids are inject ids, AGENCY-aN (assessments) or AGENCY-nN (noise)."
        )
        raise ExplainError(f"no lead {lead!r} in {run_dir}", hint)
    policy = None
    summary = Path(run_dir) / "summary.json"
    if summary.is_file():
        try:
            policy = json.loads(summary.read_text(encoding="utf-8")).get("policy")
        except (ValueError, AttributeError, RecursionError):
            policy = None
    inject = next((e for e in events if isinstance(e, InjectEvent) and e.lead == lead), None)
    publish = next((e for e in events if isinstance(e, PublishEvent) and e.lead == lead), None)
    built_from: tuple[str, ...] = ()
    action = next((e for e in events if isinstance(e, ActionEvent) and e.lead == lead), None)
    if action is not None:
        cases = [
            e
            for e in events
            if isinstance(e, CaseEvent)
            and e.agency == action.agency
            and e.case == action.case
            and e.at <= action.at
        ]
        if cases:
            built_from = cases[-1].leads
    by: dict[str, Recipient] = {}

    def recipient(agency: str) -> Recipient:
        return by.setdefault(agency, Recipient(agency))

    for e in events:
        if isinstance(e, DecisionEvent) and e.lead == lead:
            recipient(e.recipient).decision = e
        elif isinstance(e, ConsentEvent) and e.lead == lead:
            recipient(e.recipient).consents.append(e)
        elif isinstance(e, DeliveryEvent) and e.lead == lead:
            recipient(e.agency).delivery = e
        elif isinstance(e, TriageEvent) and e.lead == lead:
            recipient(e.agency).triage = e
    return Explanation(lead, str(run_dir), policy, inject, publish, built_from, [by[k] for k in sorted(by)])


def render(x: Explanation) -> str:
    """The chain as plain text, one block per recipient."""
    lines: list[str] = []
    head = f"lead {x.lead}"
    if x.publish is not None:
        kind = "assessment" if x.publish.assessment else "lead"
        head += f": {kind} published by {x.publish.agency} at {iso(x.publish.at)}"
    lines.append(head)
    if x.inject is not None:
        lines.append(f"  observed by {x.inject.observer} at {iso(x.inject.at)}: {x.inject.what}")
    if x.built_from:
        lines.append(f"  built from: {', '.join(x.built_from)}")
    lines.append(f"  run: {x.run_dir}" + (f" · policy {x.policy}" if x.policy else ""))
    if not x.recipients:
        lines.append("  the gateway decided nothing about it (never published, or the run ended first)")
    for r in x.recipients:
        lines.append("")
        d = r.decision
        for c in r.consents:
            if c.step == "request":
                lines.append(f"→ {r.agency}: {iso(c.at)} consent requested from {c.originator}")
            else:
                lines.append(f"→ {r.agency}: {iso(c.at)} {c.originator} answers {c.step}")
        if d is None:
            lines.append(f"→ {r.agency}: awaiting a consent answer when the run ended")
            continue
        verdict = {"release": "RELEASED", "withhold": "WITHHELD", "consult": "CONSULT"}[d.action]
        lines.append(f"→ {r.agency}: {verdict} at {iso(d.at)} (from {d.sender})")
        lines.append(f"    rule:   {d.rule}")
        lines.append(f"    reason: {d.reason}")
        if d.action == "release":
            extra = []
            if d.delay:
                extra.append(f"delay {human_duration(d.delay)}")
            if d.transforms:
                extra.append(f"sent as {', '.join(d.transforms)}")
            if d.deliver_at is not None:
                extra.append(f"due {iso(d.deliver_at)}")
            if extra:
                lines.append(f"    copy:   {'; '.join(extra)}")
        if d.trail:
            lines.append("    chain:")
            lines.extend(f"      {i}. {t}" for i, t in enumerate(d.trail, 1))
        if r.delivery is not None:
            lines.append(f"    delivered {iso(r.delivery.at)} (backlog {r.delivery.backlog})")
        if r.triage is not None:
            lines.append(
                f"    read by an analyst {iso(r.triage.at)} after {human_duration(r.triage.waited)} waiting"
            )
        elif r.delivery is not None:
            lines.append("    not read before the run ended")
    return "\n".join(lines)


def as_json(x: Explanation) -> dict[str, Any]:
    """The chain as plain data (for ``--json``)."""

    def dump(e: Event | None) -> dict[str, Any] | None:
        return None if e is None else e.model_dump(mode="json", by_alias=True)

    return {
        "lead": x.lead,
        "run_dir": x.run_dir,
        "policy": x.policy,
        "inject": dump(x.inject),
        "publish": dump(x.publish),
        "built_from": list(x.built_from),
        "recipients": [
            {
                "agency": r.agency,
                "decision": dump(r.decision),
                "consents": [dump(c) for c in r.consents],
                "delivery": dump(r.delivery),
                "triage": dump(r.triage),
            }
            for r in x.recipients
        ],
    }
