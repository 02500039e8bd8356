"""The release gateway: every lead on an outbox meets the policy once per possible recipient."""

from __future__ import annotations

import base64
from collections.abc import Mapping

from tearline.model import (
    GATEWAY,
    SENSITIVITY_WEIGHT,
    WORLD,
    ConsentEvent,
    ConsentRequest,
    Decision,
    DecisionEvent,
    Lead,
    PolicyEvent,
    Provenance,
    Release,
    Request,
    RequestAnswer,
    RequestEvent,
    ResolvedAgency,
    Scenario,
    forward,
)
from tearline.policies import CachedPolicy, Ledger, Policy, PolicyContext, Route, load_policy

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
        inputs = (*(settings.topics.outbox(a) for a in sorted(agencies)), settings.topics.control)
        super().__init__(GATEWAY, settings, inputs=inputs)
        self.policy = policy
        self._decider = CachedPolicy(policy)
        self.scenario = scenario
        self.agencies = dict(agencies)
        self.seed = seed
        self.ledger = Ledger()
        self._pending: dict[tuple[str, str], tuple[Lead, str, Provenance | None]] = {}
        self.withheld: set[tuple[str, str, str]] = set()
        """(lead, sender, recipient) a sender's desk withheld in a live exercise: never released by policy."""

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
        elif envelope.kind == "request":
            self._carry(envelope.body, envelope.sender)
        elif envelope.kind == "request-answer":
            self._answered(envelope.body, envelope.sender)
        elif envelope.kind == "consent-answer":
            answer = envelope.body
            pending = self._pending.pop((answer.lead, answer.recipient), None)
            if pending is None:
                raise Rejected(f"consent answer for {answer.lead}→{answer.recipient}, which nobody asked for")
            lead, sender, provenance = pending
            self.ledger.consents[(answer.lead, answer.recipient)] = answer.answer
            self._decide(lead, sender, answer.recipient, provenance, answered=True)
        elif envelope.kind == "policy-change" and envelope.sender == WORLD:
            try:
                policy = load_policy(envelope.body.policy)
            except Exception as exc:  # a policy this process cannot build: said, not a crash
                raise Rejected(f"policy change to {envelope.body.policy!r}: {exc}") from None
            self.adopt(policy, envelope.body.policy, envelope.body.previous, self.now)
        elif envelope.kind == "desk-decision" and envelope.sender == WORLD:
            desk = envelope.body
            if desk.action != "withhold" or desk.agency not in self.agencies:
                raise Rejected(f"the gateway takes only a desk's withholding, not {desk.action!r}")
            self.withheld.add((desk.lead, desk.agency, desk.counterpart))
        else:
            raise Rejected(f"the gateway takes no {envelope.kind!r} messages from {envelope.sender}")

    def adopt(self, policy: Policy, name: str, previous: str, at: int) -> None:
        """Decide by another policy from ``at`` on (a facilitator's "what if they shared now?")."""
        self.now = max(self.now, at)
        self.policy = policy
        self._decider = CachedPolicy(policy)
        self.record(PolicyEvent, policy=name, previous=previous)

    def _share(self, lead: Lead, sender: str, recipient: str) -> None:
        """A desk's release in a live exercise: the gateway carries it out, whatever the policy says."""
        if recipient not in self.agencies or recipient == sender:
            raise Rejected(f"{sender} cannot share with {recipient!r}")
        if lead.origin != sender and not any(h.recipient == sender for h in lead.provenance):
            raise Rejected(f"{sender} shared lead {lead.id}, which it does not hold")
        self.withheld.discard((lead.id, sender, recipient))  # a later release overrides the withholding
        decision = Decision.release("desk", f"the {sender} desk released it in the exercise")
        self._deliver(lead, sender, recipient, decision, self._provenance(sender))

    def _carry(self, request: Request, sender: str) -> None:
        """Carry a request to its recipient. A request for information travels as it is; a request to
        act carries its sender's assessment, so it goes on only if the policy (then the clearance
        floor) would release that assessment to the recipient, and names only what the released copy
        names. Otherwise it is declined here, with the rule and reason."""
        if request.sender != sender:
            raise Rejected(f"{sender} sent a request in the name of {request.sender}", "forged")
        if request.recipient not in self.agencies or request.recipient == sender:
            raise Rejected(f"{sender} cannot send a request to {request.recipient!r}")
        if not request.act or request.lead is None:
            self.send(self.topics.inbox(request.recipient), "request", request, key=request.id)
            return
        lead = request.lead
        if lead.origin != sender:
            raise Rejected(f"{sender} asked for action on lead {lead.id}, which is not its own", "forged")
        route = Route(self.agencies[sender], self.agencies[request.recipient])
        decision = self.policy.decide(lead, route, self._context())
        if decision.action == "consult":
            decision = Decision.withhold(
                decision.rule, f"{decision.reason}; a request to act does not wait for consent"
            )
        decision = clearance_floor(lead, decision, self.agencies[request.recipient], self.scenario.clearance)
        if decision.action != "release":
            self.record(
                RequestEvent,
                request=request.id,
                sender=sender,
                recipient=request.recipient,
                step="declined",
                act=True,
                about=tuple(sorted(request.keys)),
                reason=f"{decision.rule}: {decision.reason}",
            )
            return
        copy = forward(lead, decision, sender, request.recipient, self.now)
        carried = request.model_copy(
            update={
                "about": copy.identifiers,
                "timing": tuple(
                    sorted(
                        (i.window.start, i.window.end)
                        for i in copy.indicators
                        if i.kind == "timing" and i.window is not None
                    )
                ),
                "lead": None,
            }
        )
        self.send(
            self.topics.inbox(request.recipient),
            "request",
            carried,
            key=request.id,
            at=max(self.now + decision.delay, self.now + self.transit),
        )

    def _answered(self, answer: RequestAnswer, sender: str) -> None:
        """An answer to a request for information: each lead it offers meets the policy (then the
        clearance floor) for the requester, as any release does. If the policy withholds them all,
        the request is declined."""
        request = answer.request
        if request.recipient != sender:
            raise Rejected(f"{sender} answered a request addressed to {request.recipient}", "forged")
        if request.sender not in self.agencies or request.sender == sender:
            raise Rejected(f"{sender} answered a request from {request.sender!r}, who is not in this run")
        for lead in answer.leads:
            if lead.origin != sender and not any(h.recipient == sender for h in lead.provenance):
                raise Rejected(f"{sender} offered lead {lead.id}, which it does not hold")
        provenance = self._provenance(sender)
        decisions = [self._decide(lead, sender, request.sender, provenance) for lead in answer.leads]
        if decisions and all(d is not None and d.action == "withhold" for d in decisions):
            reasons = dict.fromkeys(f"{d.rule}: {d.reason}" for d in decisions if d is not None)
            self.record(
                RequestEvent,
                request=request.id,
                sender=request.sender,
                recipient=sender,
                step="declined",
                about=tuple(sorted(request.keys)),
                leads=tuple(lead.id for lead in answer.leads),
                reason="; ".join(reasons)[:400],
            )

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
    ) -> Decision | None:
        """Decide one lead for one recipient and carry it out; the decision (after the clearance
        floor), or None while the originator's consent is awaited."""
        if (lead.id, sender, recipient) in self.withheld:
            why = f"the {sender} desk withheld it from {recipient} in the exercise"
            return self._deliver(lead, sender, recipient, Decision.withhold("desk", why), provenance)
        route = Route(self.agencies[sender], self.agencies[recipient])
        decision = self._decider.decide(lead, route, self._context())
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
                return None
        return self._deliver(lead, sender, recipient, decision, provenance)

    def _deliver(
        self, lead: Lead, sender: str, recipient: str, decision: Decision, provenance: Provenance | None
    ) -> Decision:
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
            trail=tuple(decision.trail),
            deliver_at=deliver_at,
            exposure=exposure,
        )
        return decision
