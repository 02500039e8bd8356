"""One agency as a service: it observes, publishes, triages what it receives, links, and acts."""

from __future__ import annotations

import base64
import heapq
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from tearline.broker import Envelope, Rejected, Service, ServiceSettings
from tearline.model import (
    DAY,
    GATEWAY,
    IDENTITY_KINDS,
    LEVELS,
    PLACE_KINDS,
    SELECTOR_KINDS,
    TLP,
    WORLD,
    ActionEvent,
    ActionOrder,
    CaseEvent,
    Caveats,
    ConsentAnswer,
    ConsentEvent,
    ConsentRequest,
    ConsentTerms,
    Contribution,
    DeliveryEvent,
    DeskDecision,
    DeskEvent,
    ExpiryEvent,
    ForwardEvent,
    Grading,
    Identifier,
    Lead,
    LinkEvent,
    Marking,
    PublishEvent,
    Release,
    Request,
    RequestAnswer,
    RequestEvent,
    ResolvedAgency,
    Sensitivity,
    Share,
    Source,
    TaskingEvent,
    TaskingOrder,
    TriageEvent,
    rng,
)

from ._cases import Case, Casebook, LeadLink
from ._forwarding import forwarded_copy, forwards

_TLP_ORDER: tuple[TLP, ...] = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
_SENSITIVITY: tuple[Sensitivity, ...] = ("low", "moderate", "high", "critical")
_ASKABLE = IDENTITY_KINDS | SELECTOR_KINDS
"""Identifier kinds a request for information asks about: who, and the selectors that find them."""
TASKABLE_KINDS: frozenset[str] = IDENTITY_KINDS | SELECTOR_KINDS
"""Identifier kinds an agency can task collection on: who (a person, a passport, a vessel) and how
they communicate (a phone, an e-mail address); places are protected, not followed."""


class AgencyService(Service):
    """An agency's analysts and officers.

    - What it observes itself enters its casebook and its outbox after ``processing``.
    - What it receives waits for triage: one analyst-queue, ``triage_per_day`` leads a day, first
      come first served — background noise delays real leads when it exceeds capacity. With
      ``triage_priority`` the queue reads a lead of higher priority first, within that much of its
      arrival (:meth:`priority`).
    - Leads are linked into cases — sharing an identifier, or (below ``link_threshold`` 1) by weaker
      links with a strength, and to files of its ``watchlist`` — and scored by grading
      (corroboration), each lead weighed by how firmly it belongs to its case.
    - A case no lead has refreshed within ``alert_expiry`` lapses: it is closed, and never acted on.
    - A case is actionable when it holds the facets in ``act_on`` and scores at least
      ``act_threshold``. After ``action_delay`` the agency interdicts if it can act where the case
      points (an order to the world, which checks reach and draws success); otherwise it warns: it
      publishes an assessment lead for the gateway to route — and asks each partner that takes
      requests and can act where the case points to act on it (a request to act).
    - A case that says who (an identity or selector) and scores at least ``act_threshold`` but lacks
      another facet it needs makes it ask every partner that takes requests what they hold on those
      selectors (a request for information, once per selector).
    - A request it receives is answered on its ``answers`` terms (a seeded chance, after a delay):
      with the leads it holds on what was asked (the gateway's policy decides each), or, for a
      request to act, with an order to the world under its own reach.
    - With ``surveillance`` slots, a case scoring at least ``task_threshold`` has each selector it
      holds that the agency has not tasked yet tasked once (an order to the world, which holds a
      slot, queues by the case's score and reveals what there is to collect); with ``retask_rise``
      again after its watch when the case has changed (a new facet, a higher score).
    - With a ``forward`` rule, a received lead it has read is passed on as its own forwarded copy,
      naming the originator as third party (never ORCON material).
    - In a live exercise, the players at its desk decide too: each decision reaches it from the
      world, is recorded, and a release of a lead it holds goes to the gateway as a ``share``.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        agency: ResolvedAgency,
        seed: int,
        consent: ConsentTerms | None,
        partners: Mapping[str, ResolvedAgency] | None = None,
        watchlist: Sequence[Lead] = (),
    ) -> None:
        super().__init__(agency.id, settings, inputs=(settings.topics.inbox(agency.id),))
        self.agency = agency
        self.seed = seed
        self.consent = consent or ConsentTerms()
        self.cases = Casebook(agency.id, agency.link_threshold, watchlist)
        self._backlog: list[tuple[int, int, Lead, int]] = []
        """The triage queue: a heap of (order key, arrival number, lead, arrival time)."""
        self._arrivals = 0
        self._busy = False
        self._covered: set[str] = set()
        self._forwards = 0
        self._forwarded: set[str] = set()
        """Received leads it has passed on (each once)."""
        self._tasked: dict[str, tuple[int, frozenset[str], float]] = {}
        """Selectors tasked: when last, with the case's facets and score then (for re-tasking)."""
        self._assessments = 0
        self._last_case: dict[str, tuple[object, ...]] = {}
        self.partners = {k: v for k, v in (partners or {}).items() if k != agency.id}
        """The other agencies of the run (who they are, where they act, whether they take requests)."""
        self._asked: set[str] = set()
        self._requests = 0
        self.holdings: dict[str, tuple[Lead, str]] = {}
        """Every lead it holds, by id: its own (from itself) and what it has received (from whom)."""

    @property
    def waiting(self) -> int:
        """Received leads not yet read by an analyst."""
        return len(self._backlog) + (1 if self._busy else 0)

    # -- inputs ----------------------------------------------------------------------------
    def handle(self, envelope: Envelope) -> None:
        if envelope.kind == "observation" and envelope.sender == WORLD:
            obs = envelope.body
            if obs.lead.origin != self.agency.id:
                raise Rejected(f"observation for {obs.lead.origin} delivered to {self.agency.id}")
            self.holdings[obs.lead.id] = (obs.lead, self.agency.id)
            processing = self.agency.processing if obs.processing is None else obs.processing
            self.at(self.now + processing, lambda: self._hold(obs.lead))
        elif envelope.kind == "release" and envelope.sender == GATEWAY:
            release = envelope.body
            self._check_release(release)
            self.holdings.setdefault(release.lead.id, (release.lead, release.sender))
            self._await_triage(release.lead)
            self.record(
                DeliveryEvent,
                agency=self.agency.id,
                lead=release.lead.id,
                sender=release.sender,
                backlog=len(self._backlog) + (1 if self._busy else 0),
            )
            self._next_triage()
        elif envelope.kind == "desk-decision" and envelope.sender == WORLD:
            self._desk(envelope.body)
        elif envelope.kind == "request" and envelope.sender == WORLD:
            prompt = envelope.body
            if prompt.sender != self.agency.id:
                raise Rejected(f"a request by {prompt.sender} delivered to {self.agency.id}")
            self._send_request(prompt)
        elif envelope.kind == "request" and envelope.sender == GATEWAY:
            self._received(envelope.body)
        elif envelope.kind == "consent-request" and envelope.sender == GATEWAY:
            request = envelope.body
            self.at(self.now + self.consent.delay, lambda: self._answer(request))
        else:
            raise Rejected(f"{self.agency.id} takes no {envelope.kind!r} from {envelope.sender}")

    def _check_release(self, release: Release) -> None:
        """A release names its recipient, and its provenance is its originator's signature."""
        if release.recipient != self.agency.id:
            raise Rejected(
                f"mis-addressed: a release for {release.recipient} delivered to {self.agency.id}",
                "mis-addressed",
            )
        p = release.provenance
        if p is None:
            raise Rejected(
                f"provenance: release of {release.lead.id} carries no originator signature", "provenance"
            )
        try:
            ok = p.origin == release.sender and self.keys.verify_digest(
                p.origin, bytes.fromhex(p.digest), base64.b64decode(p.signature.encode(), validate=True)
            )
        except ValueError:
            ok = False
        if not ok:
            raise Rejected(
                f"provenance: {release.lead.id} is not signed by its sender {release.sender}", "provenance"
            )

    def _hold(self, lead: Lead) -> None:
        """Own collection: straight into the casebook, and out to the gateway."""
        self.send(self.topics.outbox(self.agency.id), "lead", lead, key=lead.id)
        self.record(PublishEvent, agency=self.agency.id, lead=lead.id)
        self._file(lead)

    def _desk(self, decision: DeskDecision) -> None:
        """A player's decision: recorded; a release of a lead it holds goes to the gateway."""
        if decision.agency != self.agency.id:
            raise Rejected(f"a decision for {decision.agency} delivered to {self.agency.id}")
        held = self.holdings.get(decision.lead)
        self.record(
            DeskEvent,
            agency=self.agency.id,
            lead=decision.lead,
            action=decision.action,
            counterpart=decision.counterpart,
            note=decision.note,
            held=held is not None,
        )
        if held is None:
            return
        if decision.action == "release":
            self.send(
                self.topics.outbox(self.agency.id),
                "share",
                Share(lead=held[0], recipient=decision.counterpart),
                key=decision.lead,
            )
        elif decision.action == "request" and decision.counterpart in self.partners:
            about = held[0].identifiers
            if about:
                self._request(
                    decision.counterpart,
                    about,
                    what=decision.note
                    or f"the {self.agency.id} desk asks what is held on lead {decision.lead}",
                )

    # -- triage ----------------------------------------------------------------------------
    def priority(self, lead: Lead) -> float:
        """How urgently a received lead should be read, 0..1: the mean of its grading weight, its
        classification's rank on the ladder (0 unclassified .. 1 top secret), and whether it links
        to a case already open."""
        linked = 1.0 if self.cases.links_open_case(lead) else 0.0
        return (lead.grading.weight + lead.marking.rank / (len(LEVELS) - 1) + linked) / 3

    def _await_triage(self, lead: Lead) -> None:
        """Into the triage queue. First come, first served; with ``triage_priority`` P a lead's place
        is its arrival time less P × its priority, so it is read before anything arriving more than P
        after it (no lead waits for ever behind later, higher-priority ones)."""
        self._arrivals += 1
        jump = self.agency.triage_priority
        key = self._arrivals if jump is None else self.now - round(jump * self.priority(lead))
        heapq.heappush(self._backlog, (key, self._arrivals, lead, self.now))

    def _next_triage(self) -> None:
        if self._busy or not self._backlog:
            return
        self._busy = True
        _, _, lead, arrived = heapq.heappop(self._backlog)
        per_lead = round(DAY / self.agency.triage_per_day)
        self.at(self.now + per_lead, lambda: self._triaged(lead, arrived))

    def _triaged(self, lead: Lead, arrived: int) -> None:
        self._busy = False
        self.record(TriageEvent, agency=self.agency.id, lead=lead.id, waited=self.now - arrived)
        self._file(lead)
        self._forward(lead)
        self._next_triage()

    # -- forwarding ------------------------------------------------------------------------
    def _forward(self, lead: Lead) -> None:
        """Pass a lead it has read on, if its forwarding rule says so (after the rule's ``after``)."""
        rule = self.agency.forward
        held = self.holdings.get(lead.id)
        if rule is None or held is None or held[1] == self.agency.id:
            return
        sender = held[1]
        if lead.id in self._forwarded or not forwards(rule, self.agency.id, lead, sender):
            return
        self._forwarded.add(lead.id)
        self.at(self.now + rule.after, lambda: self._publish_forward(lead, sender))

    def _publish_forward(self, lead: Lead, sender: str) -> None:
        self._forwards += 1
        copy = forwarded_copy(self.agency.id, lead, self._forwards, self.now)
        self.holdings[copy.id] = (copy, self.agency.id)
        self.send(self.topics.outbox(self.agency.id), "lead", copy, key=copy.id)
        self.record(
            ForwardEvent,
            agency=self.agency.id,
            lead=copy.id,
            received=lead.id,
            sender=sender,
            originator=lead.origin,
        )

    # -- cases and action --------------------------------------------------------------------
    def _file(self, lead: Lead) -> None:
        case, links = self.cases.file(lead, self.now)
        for made in links:
            self._record_link(made)
        facets = case.facets(self.now)
        score = case.score()
        actionable = case.actionable(self.agency, self.now)
        state = (tuple(sorted(case.leads)), facets, score)
        if self._last_case.get(case.id) != state:
            self._last_case[case.id] = state
            self.record(
                CaseEvent,
                agency=self.agency.id,
                case=case.id,
                leads=tuple(sorted(case.leads)),
                identifiers=tuple(sorted(case.keys)),
                timing=case.timing,
                facets=facets,
                score=score,
                actionable=actionable,
            )
        self._task(case, score, facets)
        if actionable and not case.keys <= self._covered:
            self._covered |= case.keys
            self.at(self.now + self.agency.action_delay, lambda: self._act(lead.id))
        elif not actionable and "identity" in facets and score >= self.agency.act_threshold:
            self._ask(case)
        expiry = self.agency.alert_expiry
        if expiry is not None:
            self.at(self.now + expiry + 1, lambda: self._lapse(case.id))

    def _record_link(self, made: LeadLink) -> None:
        self.record(
            LinkEvent,
            agency=self.agency.id,
            lead=made.lead,
            other=made.other,
            strength=made.link.strength,
            why=made.link.why,
            left=made.link.left,
            right=made.link.right,
            watchlist=made.file,
        )

    def _lapse(self, case_id: str) -> None:
        """A case left unrefreshed past ``alert_expiry`` is closed (once; a merged-away id is gone)."""
        case = self.cases.open(case_id)
        if case is None or not case.expired(self.agency, self.now):
            return
        self.cases.close(case_id)
        self._covered -= case.keys
        self.record(
            ExpiryEvent,
            agency=self.agency.id,
            case=case_id,
            leads=tuple(sorted(case.leads)),
            refreshed=case.refreshed,
        )

    def _task(self, case: Case, score: float, facets: Sequence[str]) -> None:
        """Task collection on the case's selectors not tasked yet (priority: the case's score); with
        ``retask_rise``, also those whose last watch is over when the case has gained a facet or its
        score has risen by at least that much since."""
        a = self.agency
        if a.surveillance <= 0 or not a.capabilities or score < a.task_threshold:
            return
        now = set(facets)
        for key in sorted(case.keys):
            if key.split(":", 1)[0] not in TASKABLE_KINDS:
                continue
            last = self._tasked.get(key)
            if last is not None and not self._retask(last, now, score):
                continue
            self._tasked[key] = (self.now, frozenset(now), score)
            self.record(TaskingEvent, agency=a.id, step="task", case=case.id, selector=key)
            order = TaskingOrder(agency=a.id, case=case.id, selector=key, priority=score)
            self.send(self.topics.actions, "tasking", order, key=case.id)

    def _retask(self, last: tuple[int, frozenset[str], float], facets: set[str], score: float) -> bool:
        """Whether a selector tasked before is tasked again: its watch is over and its case changed."""
        rise = self.agency.retask_rise
        when, had, scored = last
        if rise is None or self.now < when + self.agency.tasking_time:
            return False
        return not facets <= had or score >= scored + rise - 1e-9

    def _act(self, lead_id: str) -> None:
        case = self.cases.case_of(lead_id)
        if case is None or case.expired(self.agency, self.now):
            return  # its case lapsed (the expiry is on the record): never acted on
        self._covered |= case.keys
        places = case.places()
        can_act_there = not places or bool(places & set(self.agency.jurisdiction))
        if self.agency.interdicts and can_act_there:
            identifiers = tuple(sorted(case.keys))
            self.record(
                ActionEvent,
                agency=self.agency.id,
                case=case.id,
                action="interdict",
                identifiers=identifiers,
                timing=case.timing,
                score=case.score(),
            )
            order = ActionOrder(
                agency=self.agency.id,
                case=case.id,
                identifiers=identifiers,
                timing=case.timing,
                placed=case.placed(),
                guard=self._guard(i for lead in case.leads.values() for i in lead.identifiers),
            )
            self.send(self.topics.actions, "action", order, key=case.id)
            return
        assessment = self._assessment(case)
        self.send(self.topics.outbox(self.agency.id), "lead", assessment, key=assessment.id)
        self.record(PublishEvent, agency=self.agency.id, lead=assessment.id, assessment=True)
        self.record(
            ActionEvent,
            agency=self.agency.id,
            case=case.id,
            action="warn",
            identifiers=tuple(sorted(case.keys)),
            timing=case.timing,
            score=case.score(),
            lead=assessment.id,
        )
        for partner in self._able_to_act(places):
            self._request(
                partner,
                assessment.identifiers,
                act=True,
                case=case.id,
                timing=case.timing,
                placed=case.placed(),
                score=case.score(),
                lead=assessment,
                what=f"{self.agency.id} asks {partner} to act on case {case.id}",
            )

    def _guard(self, identifiers: Iterable[Identifier]) -> tuple[str, ...]:
        """The places among ``identifiers`` within its jurisdiction: what an order of its guards."""
        return tuple(
            sorted(
                {
                    i.key
                    for i in identifiers
                    if i.kind in PLACE_KINDS and i.where is not None and i.where in self.agency.jurisdiction
                }
            )
        )

    # -- requests between agencies -----------------------------------------------------------
    def _able_to_act(self, places: set[str]) -> list[str]:
        """Partners that take requests, act themselves, and act where the case points."""
        return [
            p.id
            for p in sorted(self.partners.values(), key=lambda p: p.id)
            if p.answers is not None and p.interdicts and places & set(p.jurisdiction)
        ]

    def _ask(self, case: Case) -> None:
        """Ask every partner that takes requests what it holds on the case's selectors not yet asked about."""
        fresh: dict[str, Identifier] = {}
        for held in case.leads.values():
            for i in held.identifiers:
                if i.kind in _ASKABLE and i.key not in self._asked:
                    fresh.setdefault(i.key, i)
        if not fresh:
            return
        self._asked |= set(fresh)
        about = tuple(fresh[k] for k in sorted(fresh))
        for partner in sorted(p.id for p in self.partners.values() if p.answers is not None):
            self._request(
                partner,
                about,
                case=case.id,
                what=f"{self.agency.id} asks {partner} what it holds on case {case.id}",
            )

    def _request(
        self,
        recipient: str,
        about: tuple[Identifier, ...],
        *,
        act: bool = False,
        case: str = "",
        timing: tuple[tuple[int, int], ...] = (),
        placed: tuple[tuple[str, tuple[str, ...]], ...] = (),
        score: float = 0.0,
        lead: Lead | None = None,
        what: str = "",
    ) -> None:
        self._requests += 1
        self._send_request(
            Request(
                id=f"{self.agency.id}-r{self._requests}",
                sender=self.agency.id,
                recipient=recipient,
                about=about,
                act=act,
                case=case,
                timing=timing,
                placed=placed,
                score=score,
                lead=lead,
                what=what,
            )
        )

    def _send_request(self, request: Request) -> None:
        """Out through the gateway to its recipient (its own, or a historical one the world injects)."""
        self.send(self.topics.outbox(self.agency.id), "request", request, key=request.id)
        self.record(
            RequestEvent,
            request=request.id,
            sender=request.sender,
            recipient=request.recipient,
            step="sent",
            act=request.act,
            about=tuple(sorted(request.keys)),
            what=request.what,
        )

    def _received(self, request: Request) -> None:
        """A request from a partner: answered on this agency's terms, or left unanswered."""
        if request.recipient != self.agency.id:
            raise Rejected(
                f"mis-addressed: a request for {request.recipient} delivered to {self.agency.id}",
                "mis-addressed",
            )
        terms = self.agency.answers
        if terms is None:
            return
        if rng(self.seed, "answer", request.id, self.agency.id).random() >= terms.chance:
            return
        self.at(self.now + terms.delay, lambda: self._answer_request(request))

    def _answer_request(self, request: Request) -> None:
        about = tuple(sorted(request.keys))
        if request.act:
            if not self.agency.interdicts:
                self.record(
                    RequestEvent,
                    request=request.id,
                    sender=request.sender,
                    recipient=self.agency.id,
                    step="declined",
                    act=True,
                    about=about,
                    reason=f"{self.agency.id} does not act itself",
                )
                return
            self._covered |= request.keys
            self.record(
                RequestEvent,
                request=request.id,
                sender=request.sender,
                recipient=self.agency.id,
                step="answered",
                act=True,
                about=about,
            )
            self.record(
                ActionEvent,
                agency=self.agency.id,
                case=request.id,
                action="interdict",
                identifiers=about,
                timing=request.timing,
                score=request.score,
            )
            order = ActionOrder(
                agency=self.agency.id,
                case=request.id,
                identifiers=about,
                timing=request.timing,
                placed=request.placed,
                guard=self._guard(request.about),
            )
            self.send(self.topics.actions, "action", order, key=request.id)
            return
        offered = [
            lead
            for lead_id, (lead, _) in sorted(self.holdings.items())
            if lead.origin != request.sender and request.keys & {i.key for i in lead.identifiers}
        ]
        self.record(
            RequestEvent,
            request=request.id,
            sender=request.sender,
            recipient=self.agency.id,
            step="answered",
            about=about,
            leads=tuple(lead.id for lead in offered),
            reason="" if offered else f"{self.agency.id} holds nothing on it",
        )
        if offered:
            self.send(
                self.topics.outbox(self.agency.id),
                "request-answer",
                RequestAnswer(request=request, leads=tuple(offered)),
                key=request.id,
            )

    def _assessment(self, case: Case) -> Lead:
        """A lead built from a case: everything it links, marked as restrictively as its parts."""
        self._assessments += 1
        leads = [case.leads[k] for k in sorted(case.leads)]
        score = case.score()
        credibility = 1 if score >= 0.9 else 2 if score >= 0.7 else 3 if score >= 0.5 else 4
        rel_lists = [set(lead.caveats.rel_to) for lead in leads if lead.caveats.rel_to is not None]
        rel_to = tuple(sorted(set.intersection(*rel_lists))) if rel_lists else None
        identifiers = {i.key: i for lead in leads for i in lead.identifiers}
        indicators = {ind.model_dump_json(): ind for lead in leads for ind in lead.indicators}
        return Lead(
            id=f"{self.agency.id}-a{self._assessments}",
            origin=self.agency.id,
            observed_at=self.now,
            identifiers=tuple(identifiers[k] for k in sorted(identifiers)),
            indicators=tuple(indicators[k] for k in sorted(indicators)),
            marking=Marking(
                level=LEVELS[max(lead.marking.rank for lead in leads)],
                compartments=tuple(sorted({c for lead in leads for c in lead.marking.compartments})),
            ),
            caveats=Caveats(
                orcon=any(lead.caveats.orcon for lead in leads),
                noforn=any(lead.caveats.noforn for lead in leads),
                rel_to=rel_to,
            ),
            tlp=_TLP_ORDER[max(_TLP_ORDER.index(lead.tlp) for lead in leads)],
            grading=Grading(reliability="B", credibility=credibility),
            source=Source(
                type="LIAISON"
                if any(lead.origin != self.agency.id for lead in leads)
                else leads[0].source.type,
                sensitivity=_SENSITIVITY[max(_SENSITIVITY.index(lead.source.sensitivity) for lead in leads)],
            ),
            summary=f"{self.agency.id} assessment of case {case.id}: "
            + "; ".join(lead.summary for lead in leads)[:400],
            derived_from=tuple(sorted(case.leads)),
            third_party=tuple(
                Contribution(agency=lead.origin, lead=lead.id, orcon=lead.caveats.orcon)
                for lead in leads
                if lead.origin != self.agency.id
            ),
            cites=tuple(sorted({c for lead in leads for c in lead.cites})),
        )

    # -- consent (third-party rule) ----------------------------------------------------------
    def _answer(self, request: ConsentRequest) -> None:
        draw = rng(self.seed, "consent", request.lead, request.recipient).random()
        answer: Literal["grant", "refuse"] = "refuse" if draw < self.consent.refusal else "grant"
        self.record(
            ConsentEvent,
            lead=request.lead,
            sender=request.sender,
            recipient=request.recipient,
            originator=self.agency.id,
            step=answer,
        )
        self.send(
            self.topics.outbox(self.agency.id),
            "consent-answer",
            ConsentAnswer(
                lead=request.lead, sender=request.sender, recipient=request.recipient, answer=answer
            ),
            key=request.lead,
        )
