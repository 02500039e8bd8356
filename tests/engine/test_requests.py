"""Requests between agencies: for information, and to act in a partner's jurisdiction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tearline import RunConfig, Scenario, replay
from tearline.model import (
    LEVELS,
    ActionEvent,
    DecisionEvent,
    EffectEvent,
    Event,
    OutcomeEvent,
    RequestEvent,
    ScenarioError,
    load_scenario,
    validate,
)
from tearline.policies import ALGORITHMS, BUILTIN, Ledger, PolicyContext, Route, load_policy

DAY = 86400
START_T = 1893456000  # 2030-01-01T00:00Z


def iso(t: int) -> str:
    from tearline.model import iso as fmt

    return fmt(t)


def two_countries(
    *,
    answers: dict[str, Any] | None = None,
    requests: list[dict[str, Any]] | None = None,
    extra_injects: list[dict[str, Any]] | None = None,
) -> Scenario:
    """Northland's police learn who, where and when of a plot in Southland, where they cannot act.
    Southland's police could arrest the man there, but their analysts read one received lead in ten
    days, so nothing they are merely sent arrives in time."""
    south: dict[str, Any] = {
        "id": "SPOL", "name": "Southland police", "country": "XS", "kind": "police", "triage_per_day": 0.1,
    }  # fmt: skip
    if answers is not None:
        south["answers"] = answers
    data: dict[str, Any] = {
        "id": "requests", "title": "requests", "description": "requests", "start": iso(START_T),
        "fictional": "a two-country test of requests between agencies",
        "defaults": {"processing": "1h", "action_delay": "2h"},
        "agencies": [
            {"id": "NPOL", "name": "Northland police", "country": "XN", "kind": "police",
             "answers": {"chance": 1.0, "delay": "1h"}},
            south,
        ],
        "centres": [{"name": "joint", "members": ["NPOL", "SPOL"]}],
        "actors": [{"id": "omar", "identifier": {"kind": "person", "value": "Omar Test"},
                    "whereabouts": [{"from": iso(START_T), "in": "XS"}]}],
        "plots": [{"id": "arena", "name": "Attack on the Southland Arena", "attack_at": iso(START_T + 10 * DAY),
                   "place": "Southland Arena", "jurisdiction": ["XS"], "team": ["omar"],
                   "entities": [{"kind": "person", "value": "Omar Test"},
                                {"kind": "venue", "value": "Southland Arena", "where": "XS"}]}],
        "injects": [
            {"id": "tip", "at": iso(START_T + DAY), "observer": "NPOL",
             "what": "A source names Omar Test, the Southland Arena and the date",
             "lead": {"identifiers": [{"kind": "person", "value": "Omar Test"},
                                      {"kind": "venue", "value": "Southland Arena", "where": "XS"}],
                      "indicators": [{"kind": "timing", "detail": "the date",
                                      "window": {"from": iso(START_T + 9 * DAY), "to": iso(START_T + 11 * DAY)}}],
                      "grading": "A1", "marking": {"level": "SECRET"}}},
            *(extra_injects or []),
        ],
        "requests": requests or [],
    }  # fmt: skip
    return Scenario.model_validate_json(json.dumps(data))


def of(events: tuple[Event, ...], kind: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


class TestRequestToAct:
    async def test_an_answered_request_has_the_partner_arrest_within_its_reach(self) -> None:
        """Northland cannot act in Southland: it warns, and asks Southland to act; Southland answers
        and arrests the man there, days before the attack."""
        s = two_countries(answers={"chance": 1.0, "delay": "2h"})
        result = await replay(RunConfig(scenario=s, policy="fusion-centre", seed=1))
        steps = [(e.step, e.sender, e.recipient, e.act) for e in of(result.events, RequestEvent)]
        assert steps == [("sent", "NPOL", "SPOL", True), ("answered", "NPOL", "SPOL", True)]
        (action,) = [e for e in of(result.events, ActionEvent) if e.action == "interdict"]
        assert action.agency == "SPOL" and action.case == "NPOL-r1"
        (effect,) = of(result.events, EffectEvent)
        assert (effect.agency, effect.actor, effect.result, effect.where) == (
            "SPOL",
            "omar",
            "arrested",
            "XS",
        )
        (outcome,) = of(result.events, OutcomeEvent)
        assert outcome.result == "disrupted" and outcome.disrupted_by == "SPOL"
        assert result.summary.requests.sent == 1 and result.summary.requests.unanswered == ()

    async def test_a_request_never_answered_is_listed_as_unanswered(self) -> None:
        """The same run with ``answers: {chance: 0}``: the request is sent, never answered, listed in
        the summary, and the attack happens (what Southland is merely sent waits in its queue)."""
        s = two_countries(answers={"chance": 0.0})
        result = await replay(RunConfig(scenario=s, policy="fusion-centre", seed=1))
        assert [e.step for e in of(result.events, RequestEvent)] == ["sent"]
        assert not of(result.events, EffectEvent)
        assert of(result.events, OutcomeEvent)[0].result == "attack"
        assert result.summary.requests.unanswered == ("NPOL-r1",)

    async def test_the_policy_can_decline_a_request_to_act(self) -> None:
        """Under ``siloed`` the assessment a request to act carries would be withheld, so the gateway
        declines the request, with the policy's rule; nobody acts."""
        s = two_countries(answers={"chance": 1.0})
        result = await replay(RunConfig(scenario=s, policy="siloed", seed=1))
        sent, declined = of(result.events, RequestEvent)
        assert sent.step == "sent" and declined.step == "declined" and declined.by == "GATEWAY"
        assert declined.reason.startswith("siloed")
        assert result.summary.requests.declined == ("NPOL-r1",)
        assert of(result.events, OutcomeEvent)[0].result == "attack"

    async def test_nobody_is_asked_who_takes_no_requests(self) -> None:
        """Without answer terms Southland is not asked: the run is what it was before requests existed."""
        result = await replay(RunConfig(scenario=two_countries(), policy="fusion-centre", seed=1))
        assert not of(result.events, RequestEvent)

    async def test_answers_are_drawn_per_seed(self) -> None:
        """With ``chance: 0.5`` some seeds' requests are answered and some not."""
        s = two_countries(answers={"chance": 0.5})
        results = [
            of((await replay(RunConfig(scenario=s, policy="fusion-centre", seed=seed))).events, OutcomeEvent)[
                0
            ].result
            for seed in range(1, 13)
        ]
        assert "disrupted" in results and "attack" in results


class TestRequestForInformation:
    async def test_a_case_that_says_who_but_not_enough_asks_partners(self) -> None:
        """A Southland report naming only the man (who, without where or when) makes Southland ask
        Northland, which takes requests, what it holds on him; Northland offers its lead, which the
        policy then decides like any release."""
        only_who = {
            "id": "who", "at": iso(START_T), "observer": "SPOL", "what": "A name",
            "lead": {"identifiers": [{"kind": "person", "value": "Omar Test"}], "grading": "B2"},
        }  # fmt: skip
        s = two_countries(answers={"chance": 1.0}, extra_injects=[only_who])
        s = s.model_copy(update={"injects": (s.injects[1], s.injects[0])})
        result = await replay(RunConfig(scenario=s, policy="need-to-know", seed=1))
        rfi = [e for e in of(result.events, RequestEvent) if not e.act]
        assert [(e.step, e.sender, e.recipient) for e in rfi] == [
            ("sent", "SPOL", "NPOL"),
            ("answered", "SPOL", "NPOL"),
        ]
        assert rfi[0].about == ("person:omar test",) and rfi[1].leads == ()  # asked before the tip came
        whole = await replay(
            RunConfig(scenario=s.model_copy(update={"injects": (s.injects[1],)}), policy="siloed", seed=1)
        )
        assert not [e for e in of(whole.events, RequestEvent) if not e.act]  # actionable: nothing to ask

    async def test_a_historical_request_is_sent_at_its_time_and_answered_with_what_is_held(self) -> None:
        """A request on the record goes out from its sender at its time; Northland answers with the
        lead it holds on the man, and each offered lead meets the policy: under ``siloed`` all are
        withheld, and the request is declined."""
        ask = {
            "id": "ask-north", "at": iso(START_T + 2 * DAY), "sender": "SPOL", "recipient": "NPOL",
            "about": [{"kind": "person", "value": "Omar Test"}], "what": "Southland asks about Omar Test",
        }  # fmt: skip
        s = two_countries(requests=[ask])
        open_ = await replay(RunConfig(scenario=s, policy="fusion-centre", seed=1))
        steps = [(e.step, e.at - START_T, e.leads) for e in of(open_.events, RequestEvent)]
        # two hops of 30 min (sender → gateway → recipient), then Northland's hour to answer
        assert steps == [("sent", 2 * DAY, ()), ("answered", 2 * DAY + 3600 + 2 * 1800, ("tip",))]
        answer_decisions = [
            e for e in of(open_.events, DecisionEvent) if e.lead == "tip" and e.at > START_T + 2 * DAY
        ]
        assert [(e.sender, e.recipient, e.action) for e in answer_decisions] == [("NPOL", "SPOL", "release")]
        closed = await replay(RunConfig(scenario=s, policy="siloed", seed=1))
        assert [e.step for e in of(closed.events, RequestEvent)] == ["sent", "answered", "declined"]
        assert closed.summary.requests.declined == ("ask-north",)


_NAMES = sorted(n for n in BUILTIN if n != "reciprocity")
"""Built-in policies whose verdict depends only on the lead, the route and the time (reciprocity reads
the ledger of earlier releases, which a re-asked verdict cannot rebuild)."""
_PROPS = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def asking_worlds(draw: st.DrawFn) -> Scenario:
    """Three agencies that all take requests, with drawn clearances, holding leads at drawn levels
    about two people; each asks the others about them on the record."""
    agencies = [
        {"id": f"AG{i}", "name": f"Agency {i}", "country": draw(st.sampled_from(["AA", "BB"])),
         "kind": draw(st.sampled_from(["police", "foreign-intelligence"])),
         "clearance": draw(st.sampled_from(LEVELS[1:])), "answers": {"chance": 1.0}}
        for i in range(3)
    ]  # fmt: skip
    injects = [
        {"id": f"i{n}", "at": iso(START_T + draw(st.integers(0, 5)) * DAY),
         "observer": f"AG{draw(st.integers(0, 2))}", "what": "a report",
         "lead": {"identifiers": [{"kind": "person", "value": f"person {draw(st.integers(0, 1))}"}],
                  "marking": {"level": draw(st.sampled_from(LEVELS[1:]))},
                  "caveats": {"orcon": draw(st.booleans()), "noforn": draw(st.booleans())},
                  "tlp": draw(st.sampled_from(["GREEN", "AMBER", "RED"])), "grading": "C3"}}
        for n in range(draw(st.integers(1, 4)))
    ]  # fmt: skip
    requests = [
        {"id": f"r{n}", "at": iso(START_T + draw(st.integers(0, 8)) * DAY), "sender": f"AG{a}",
         "recipient": f"AG{(a + draw(st.integers(1, 2))) % 3}",
         "about": [{"kind": "person", "value": f"person {draw(st.integers(0, 1))}"}], "what": "asks"}
        for n, a in enumerate(draw(st.lists(st.integers(0, 2), min_size=1, max_size=4)))
    ]  # fmt: skip
    data = {
        "id": "asking", "title": "asking", "description": "asking", "start": iso(START_T),
        "fictional": "generated worlds for the request property",
        "agencies": agencies, "injects": injects, "requests": requests,
        "treaties": [{"name": "t", "between": ["AA", "BB"]}],
        "centres": [{"name": "c", "members": ["AG0", "AG1"]}],
        "plots": [{"id": "p", "name": "p", "attack_at": iso(START_T + 20 * DAY), "place": "x",
                   "jurisdiction": ["AA"], "entities": [{"kind": "person", "value": "person 0"}]}],
    }  # fmt: skip
    return Scenario.model_validate_json(json.dumps(data))


class TestAnswersMeetThePolicy:
    @_PROPS
    @given(
        s=asking_worlds(),
        names=st.lists(st.sampled_from(_NAMES), min_size=1, max_size=2, unique=True),
        algorithm=st.sampled_from(ALGORITHMS),
    )
    async def test_no_answer_delivers_what_the_policy_withholds_or_above_clearance(
        self, s: Scenario, names: list[str], algorithm: str
    ) -> None:
        """Every release made in answer to a request is one the policy itself releases on that route at
        that moment, and a copy above the requester's clearance goes only as a tearline."""
        spec = names[0] if len(names) == 1 else f"{algorithm}:of={'+'.join(names)}"
        result = await replay(RunConfig(scenario=s, policy=spec, seed=1))
        policy = load_policy(spec)
        agencies = s.resolved
        answers = {
            (e.recipient, e.sender, lead): e.at
            for e in of(result.events, RequestEvent)
            if e.step == "answered"
            for lead in e.leads
        }
        leads = {i.id: s.lead_of(i) for i in s.injects}
        for d in of(result.events, DecisionEvent):
            asked_at = answers.get((d.sender, d.recipient, d.lead))
            if asked_at is None or d.at < asked_at or d.action != "release" or d.lead not in leads:
                continue
            lead = leads[d.lead]
            if d.sender != lead.origin:
                continue  # a forwarded copy: its held form is not the inject's
            ctx = PolicyContext(s, agencies, d.at, 1, Ledger())
            verdict = policy.decide(lead, Route(agencies[d.sender], agencies[d.recipient]), ctx)
            assert verdict.action in ("release", "consult"), (d, verdict)
            recipient = agencies[d.recipient]
            if not lead.marking.readable_by(recipient.clearance, recipient.accreditations):
                assert "tearline" in d.transforms, d


class TestLocatedErrors:
    def test_a_request_to_an_unknown_agency_is_refused_with_its_field(self, tmp_path: Path) -> None:
        """The loader names the request's field and the problem."""
        root = Path(__file__).resolve().parents[2]
        path = root / "scenarios" / "examples" / "connect-the-dots.yaml"
        bad = tmp_path / "bad-request.yaml"
        bad.write_text(
            path.read_text()
            + "requests:\n  - id: ask\n    at: 2030-03-05T00:00+00:00\n    sender: NSS\n    recipient: MI6\n"
            "    about: [{kind: person, value: Karim Vale}]\n    what: asks\n"
        )
        with pytest.raises(ScenarioError, match=r"requests\[0\]\.recipient.*unknown agency 'MI6'"):
            load_scenario(bad, seeds_dir=root / "seeds")

    def test_answer_terms_out_of_bounds_are_refused(self) -> None:
        """``answers: {chance: 2}`` is refused, naming the field."""
        data = json.loads(two_countries().model_dump_json(by_alias=True, exclude_none=True))
        data["agencies"][1]["answers"] = {"chance": 2}
        with pytest.raises(ScenarioError, match=r"answers\.chance"):
            validate(Scenario, data, Path("bad.yaml"), lambda loc: None)


class TestDeskRequest:
    async def test_a_players_request_is_sent_and_answered(self, teaching: Scenario) -> None:
        """In a live exercise, the Northland security service's desk asks Southland's foreign service
        about the lead it holds: a real request goes out, SFS (given answer terms) answers with its
        report on the man, and the policy decides that report for NSS — ``bilateral`` withholds the
        SECRET report (above the arrangement's ceiling), so the request is declined."""
        from tearline.model import AnswerTerms, DeskDecision, DeskEvent, Inject, parse_time
        from tearline.run import Exercise

        agencies = tuple(
            a.model_copy(update={"answers": AnswerTerms(delay=3600)}) if a.id == "SFS" else a
            for a in teaching.agencies
        )
        s = Scenario.model_validate_json(
            teaching.model_copy(update={"agencies": agencies}).model_dump_json(by_alias=True)
        )
        ex = Exercise(RunConfig(scenario=s, policy="bilateral", seed=1))
        await ex.start()
        await ex.inject(
            Inject.model_validate_json(
                '{"id": "tipoff", "at": "2030-03-04T00:00+00:00", "observer": "NSS", "what": "a tip-off",'
                ' "lead": {"identifiers": [{"kind": "person", "value": "Karim Vale"}], "grading": "C3"}}'
            )
        )
        await ex.advance_to(parse_time("2030-03-05T00:00+00:00"))
        await ex.decide(DeskDecision(agency="NSS", lead="tipoff", action="request", counterpart="SFS"))
        await ex.advance_to(parse_time("2030-03-06T00:00+00:00"))
        events = await ex.record()
        assert [(e.agency, e.action, e.held) for e in events if isinstance(e, DeskEvent)] == [
            ("NSS", "request", True)
        ]
        steps = [(e.step, e.sender, e.recipient, e.leads) for e in events if isinstance(e, RequestEvent)]
        assert steps == [
            ("sent", "NSS", "SFS", ()),
            ("answered", "NSS", "SFS", ("who",)),
            ("declined", "NSS", "SFS", ("who",)),
        ]
        answer = next(e for e in events if isinstance(e, RequestEvent) and e.step == "answered")
        (decision,) = [
            e
            for e in events
            if isinstance(e, DecisionEvent) and e.lead == "who" and e.recipient == "NSS" and e.at > answer.at
        ]
        assert decision.action == "withhold" and decision.rule.startswith("bilateral")


class TestOnKafka:
    @pytest.mark.kafka
    async def test_requests_give_the_same_record_on_kafka(self, kafka_bootstrap: str) -> None:
        """A run with requests answered (for information, and to act) is byte-identical on a real
        Kafka broker and in memory."""
        import uuid

        from tearline.broker import kafka_transport
        from tearline.run._clock import scoped_replay

        ask = {
            "id": "ask-north", "at": iso(START_T + 2 * DAY), "sender": "SPOL", "recipient": "NPOL",
            "about": [{"kind": "person", "value": "Omar Test"}], "what": "Southland asks about Omar Test",
        }  # fmt: skip
        config = RunConfig(
            scenario=two_countries(answers={"chance": 1.0, "delay": "2h"}, requests=[ask]),
            policy="fusion-centre",
            seed=1,
        )
        memory = await replay(config)
        assert {e.step for e in of(memory.events, RequestEvent)} == {"sent", "answered"}
        async with kafka_transport(kafka_bootstrap) as kafka:
            real = await scoped_replay(config, kafka, namespace=f"test-{uuid.uuid4().hex[:10]}")
        assert real.record == memory.record
