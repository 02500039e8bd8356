"""The release gateway: every lead on an outbox meets the policy once per possible recipient."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from tearline.model import (
    GATEWAY,
    SENSITIVITY_WEIGHT,
    ConsentEvent,
    ConsentRequest,
    Decision,
    DecisionEvent,
    Lead,
    PolicyEvent,
    Provenance,
    Release,
    ResolvedAgency,
    Scenario,
    forward,
)
from tearline.policies import Ledger, Policy, PolicyContext, Route

from ._clearance import clearance_floor
from ._envelope import Envelope, Rejected
from ._service import Service, ServiceSettings


class Gateway(Service):
    """Reads every agency's outbox; asks the policy about every other agency; records each decision
    (rule and reason) in the audit; delivers released copies to inboxes after the decided delay."""

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        policy: Policy,
        scenario: Scenario,
        agencies: Mapping[str, ResolvedAgency],
        seed: int,
    ) -> None:
        inputs = tuple(settings.topics.outbox(a) for a in sorted(agencies))
        super().__init__(GATEWAY, settings, inputs=inputs)
        self.policy = policy
        self.scenario = scenario
        self.agencies = dict(agencies)
        self.seed = seed
        self.ledger = Ledger()
        self._pending: dict[tuple[str, str], tuple[Lead, str, Provenance | None]] = {}

    def handle(self, envelope: Envelope) -> None:
        if envelope.kind == "lead":
            lead = envelope.body
            if lead.origin != envelope.sender:
                raise Rejected(f"{envelope.sender} published a lead whose origin is {lead.origin}", "forged")
            provenance = self._provenance(envelope.sender)
            for recipient in sorted(self.agencies):
                if recipient != envelope.sender:
                    self._decide(lead, envelope.sender, recipient, provenance)
        elif envelope.kind == "share":
            self._share(envelope.body.lead, envelope.sender, envelope.body.recipient)
        elif envelope.kind == "consent-answer":
            answer = envelope.body
            pending = self._pending.pop((answer.lead, answer.recipient), None)
            if pending is None:
                raise Rejected(f"consent answer for {answer.lead}→{answer.recipient}, which nobody asked for")
            lead, sender, provenance = pending
            self.ledger.consents[(answer.lead, answer.recipient)] = answer.answer
            self._decide(lead, sender, answer.recipient, provenance, answered=True)
        else:
            raise Rejected(f"the gateway takes no {envelope.kind!r} messages")

    def adopt(self, policy: Policy, name: str, previous: str, at: int) -> None:
        """Decide by another policy from ``at`` on (a facilitator's "what if they shared now?")."""
        self.now = max(self.now, at)
        self.policy = policy
        self.record(PolicyEvent, policy=name, previous=previous)

    def _share(self, lead: Lead, sender: str, recipient: str) -> None:
        """A desk's release in a live exercise: the gateway carries it out, whatever the policy says."""
        if recipient not in self.agencies or recipient == sender:
            raise Rejected(f"{sender} cannot share with {recipient!r}")
        if lead.origin != sender and not any(h.recipient == sender for h in lead.provenance):
            raise Rejected(f"{sender} shared lead {lead.id}, which it does not hold")
        decision = Decision.release("desk", f"the {sender} desk released it in the exercise")
        self._deliver(lead, sender, recipient, decision, self._provenance(sender))

    def _provenance(self, origin: str) -> Provenance | None:
        """The originator's signature on the message being handled, to travel with every copy."""
        if self.proof is None:
            return None
        return Provenance(
            origin=origin,
            digest=self.proof.digest.hex(),
            signature=base64.b64encode(self.proof.signature).decode(),
        )

    def _context(self) -> PolicyContext:
        return PolicyContext(self.scenario, self.agencies, self.now, self.seed, self.ledger)

    def _decide(
        self,
        lead: Lead,
        sender: str,
        recipient: str,
        provenance: Provenance | None,
        *,
        answered: bool = False,
    ) -> None:
        route = Route(self.agencies[sender], self.agencies[recipient])
        decision = self.policy.decide(lead, route, self._context())
        if decision.action == "consult":
            originator = decision.consult
            if answered or originator is None or originator not in self.agencies:
                why = (
                    "asked again after an answer"
                    if answered
                    else f"originator {originator} is not in this run"
                )
                decision = Decision.withhold(decision.rule, f"{decision.reason}; {why}")
            else:
                self._pending[(lead.id, recipient)] = (lead, sender, provenance)
                self.record(
                    ConsentEvent,
                    lead=lead.id,
                    sender=sender,
                    recipient=recipient,
                    originator=originator,
                    step="request",
                )
                self.send(
                    self.topics.inbox(originator),
                    "consent-request",
                    ConsentRequest(lead=lead.id, sender=sender, recipient=recipient),
                    key=lead.id,
                )
                return
        self._deliver(lead, sender, recipient, decision, provenance)

    def _deliver(
        self, lead: Lead, sender: str, recipient: str, decision: Decision, provenance: Provenance | None
    ) -> None:
        """Carry out a release or withholding (after the clearance floor), and record it with its rule and reason."""
        decision = clearance_floor(lead, decision, self.agencies[recipient], self.scenario.clearance)
        deliver_at = None
        exposure = 0.0
        if decision.action == "release":
            copy = forward(lead, decision, sender, recipient, self.now)
            deliver_at = max(self.now + decision.delay, self.now + self.transit)
            exposure = SENSITIVITY_WEIGHT[copy.source.sensitivity] if copy.sanitised_from is None else 0.0
            self.send(
                self.topics.inbox(recipient),
                "release",
                Release(
                    lead=copy, sender=sender, rule=decision.rule, recipient=recipient, provenance=provenance
                ),
                key=lead.id,
                at=deliver_at,
            )
            self.ledger.released[(sender, recipient)] += 1
        self.record(
            DecisionEvent,
            lead=lead.id,
            sender=sender,
            recipient=recipient,
            action=decision.action,
            rule=decision.rule,
            reason=decision.reason,
            delay=decision.delay,
            transforms=tuple(t.kind for t in decision.transforms),
            trail=decision.trail,
            deliver_at=deliver_at,
            exposure=exposure,
        )
